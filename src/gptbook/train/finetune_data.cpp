// Shapes: B batch, T block size, K classes.
#include "gptbook/train/finetune_data.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/preferences.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/sample/chat.hpp"
#include "gptbook/train/data_source.hpp"
#include "gptbook/train/rag_data.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gptbook {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string s;
    for (const std::string& item : items) s += (s.empty() ? "" : sep) + item;
    return s;
}

// A classifier on labelled text: the first T tokens of each text, its label, padding after.
FinetuneData classification_data(const std::string& spec, GPTConfig& model, const Tokenizer& tokenizer) {
    const LabelledSplits splits = load_labelled_splits(spec);
    const int T = model.block_size;
    const auto encode = [&](std::string_view s) { return tokenizer.encode(s); };
    auto train = std::make_shared<LabelledTokens>(encode_labelled(splits.train, encode, T));
    auto val = std::make_shared<LabelledTokens>(encode_labelled(splits.val, encode, T));
    auto test = std::make_shared<LabelledTokens>(encode_labelled(splits.test, encode, T));
    model.n_classes = static_cast<int>(splits.train.classes.size());
    FinetuneData d;
    d.tokenizer = tokenizer;
    d.spec = "labels:" + spec;
    d.classes = splits.train.classes;
    d.source.sample = [train, val, T](int split, int B, Rng& rng) {
        return random_labelled_batch(split == 0 ? *train : *val, B, T, /*pad_id=*/0, rng);
    };
    std::ostringstream summary;
    summary << splits.dir << ": " << train->rows.size() << " train, " << val->rows.size() << " val, "
            << test->rows.size() << " test texts; classes " << join(d.classes, ", ") << "; each cut to its first " << T
            << " tokens";
    d.summary = summary.str();
    const std::vector<std::string> classes = d.classes;
    d.report = [val, test, classes](const GPT& m, const std::string& split) {
        const LabelledTokens& set = split == "test" ? *test : *val;
        return format_classifier_scores(split, evaluate_classifier(m, set.rows, set.labels), classes, split == "test");
    };
    return d;
}

// An instruction follower: prompt and response in the chat template, the loss on the response only.
FinetuneData chat_data(const std::string& spec, GPTConfig& model, const Tokenizer& base) {
    const ChatTemplate chat;
    const bool builtin = spec == "instructions";
    std::vector<Instruction> all; // Alpaca: every item; the built-in families are drawn as needed
    std::string chars = builtin ? instruction_alphabet() : std::string();
    if (!builtin) {
        all = load_alpaca_json(spec);
        for (const Instruction& ins : all) chars += ins.prompt + ins.response;
    }
    FinetuneData d;
    d.tokenizer = base.with_added_tokens(chars, chat_special_tokens(chat));
    const Tokenizer& tok = *d.tokenizer;
    model.vocab_size = tok.vocab_size();
    const int T = model.block_size;
    const int32_t pad = *tok.special_id(chat.end);
    auto fits = [&](const ChatExample& e) { return e.inputs.size() <= static_cast<size_t>(T); };

    // Validation: held-out instances (built-in), or every tenth item of the file.
    auto train = std::make_shared<std::vector<ChatExample>>();
    auto val = std::make_shared<std::vector<ChatExample>>();
    std::vector<Instruction> val_instructions;
    size_t too_long = 0;
    // Every example that fits the context goes to training, or to validation when held out: the
    // built-in families' held-out instances (training draws its own, below), every tenth item of a file.
    const std::vector<Instruction> candidates =
        builtin ? instruction_eval_set(InstructionEval::held_out_instances, 10) : all;
    for (size_t i = 0; i < candidates.size(); ++i) {
        ChatExample e = chat_example_ids(tok, chat, candidates[i].prompt, candidates[i].response);
        if (!fits(e)) {
            ++too_long;
            continue;
        }
        const bool held_out = builtin || i % 10 == 9;
        (held_out ? val : train)->push_back(std::move(e));
        if (held_out) val_instructions.push_back(candidates[i]);
    }
    GPTBOOK_CHECK(builtin || (!train->empty() && !val->empty()),
                  spec << ": " << all.size() << " examples, " << too_long << " of them longer than the model's "
                       << "context (T=" << T << " tokens); at least 10 that fit are needed (every tenth is "
                       << "held out for validation)");

    d.spec = "chat:" + spec;
    d.source.sample = [builtin, train, val, T, pad, tokenizer = tok, chat](int split, int B, Rng& rng) {
        std::vector<size_t> rows(B);
        if (split == 0 && builtin) { // fresh training instructions every batch
            std::vector<ChatExample> drawn;
            for (int b = 0; b < B; ++b) {
                // An instruction longer than the context is drawn again: a few of the longest
                // phrasings with the longest words do not fit a model of T = 64 characters.
                ChatExample e;
                do {
                    const Instruction ins = random_training_instruction(rng);
                    e = chat_example_ids(tokenizer, chat, ins.prompt, ins.response);
                } while (e.inputs.size() > static_cast<size_t>(T));
                drawn.push_back(std::move(e));
                rows[b] = b;
            }
            return chat_batch(drawn, rows, T, pad);
        }
        const std::vector<ChatExample>& set = split == 0 ? *train : *val;
        for (size_t& r : rows) r = rng.below(set.size());
        return chat_batch(set, rows, T, pad);
    };
    std::ostringstream summary;
    if (builtin) {
        summary << "instructions: " << instruction_families().size() << " families ("
                << join(instruction_families(), ", ")
                << "), drawn fresh; held out: 1 instance in 5 and the last phrasing of each";
    } else {
        summary << spec << ": " << train->size() << " train, " << val->size() << " val examples";
        if (too_long > 0) summary << " (" << too_long << " longer than T=" << T << " tokens left out)";
    }
    summary << "; chat template " << chat.user << " ... " << chat.assistant << " ... " << chat.end
            << ", loss on the response only";
    d.summary = summary.str();
    d.report = [builtin, val_instructions, tokenizer = tok, chat](const GPT& m, const std::string& split) {
        std::ostringstream out;
        auto line = [&](const char* what, const std::vector<Instruction>& set) {
            const ChatAccuracy acc = chat_accuracy(m, tokenizer, chat, set);
            out << split << " exact match, " << what << ": " << std::fixed;
            out.precision(1);
            out << 100.0 * acc.accuracy() << "% (" << acc.correct << "/" << acc.total << ")";
            if (!acc.first_wrong.empty()) out << "; first miss: " << acc.first_wrong;
            out << "\n";
            if (acc.by_family.size() > 1 && split == "test") {
                out << "  by family:";
                for (const FamilyAccuracy& f : acc.by_family)
                    out << " " << f.family << " " << f.correct << "/" << f.total;
                out << "\n";
            }
        };
        if (!builtin || split != "test") {
            line(builtin ? "held-out instances" : "held-out examples", val_instructions);
        } else {
            line("held-out instances", instruction_eval_set(InstructionEval::held_out_instances, 40));
            line("held-out phrasings", instruction_eval_set(InstructionEval::held_out_phrasing, 40));
        }
        return out.str();
    };
    return d;
}

// Preference pairs (chapter 12): a reward model scores the two whole sequences of each pair; DPO's
// policy reads them as next-token rows, with the reference's log-probabilities computed once here.
FinetuneData preference_data(const FinetuneSpec& spec, GPTConfig& model, const Tokenizer& tok, const GPT* reference) {
    const bool reward = spec.objective == "reward";
    GPTBOOK_CHECK(reward || spec.objective == "dpo",
                  "unknown preference objective \"" << spec.objective << "\"; expected reward or dpo");
    GPTBOOK_CHECK(reward || (spec.beta > 0.0 && std::isfinite(spec.beta)),
                  "DPO's beta is " << spec.beta << ", expected > 0 (try 0.1)");
    GPTBOOK_CHECK(reward || reference != nullptr, "DPO needs its reference model (the base run's)");
    if (reward) {
        model.n_classes = 1; // one score per sequence, read at the last token
        model.pool = Pooling::last;
    }
    const std::vector<PreferencePair> pairs = load_preferences_jsonl(spec.preferences);
    const int T = model.block_size;
    const int32_t pad = 0;
    // rows[2i], rows[2i+1]: pair i's chosen and rejected completions, in the reward model's or the
    // policy's layout; every tenth pair of the file is held out.
    auto train = std::make_shared<std::vector<ChatExample>>();
    auto val = std::make_shared<std::vector<ChatExample>>();
    size_t too_long = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
        auto [chosen, rejected] = preference_examples(tok, pairs[i]);
        if (reward) {
            chosen = whole_sequence(chosen);
            rejected = whole_sequence(rejected);
        }
        if (std::max(chosen.inputs.size(), rejected.inputs.size()) > static_cast<size_t>(T)) {
            ++too_long;
            continue;
        }
        auto& set = i % 10 == 9 ? *val : *train;
        set.push_back(std::move(chosen));
        set.push_back(std::move(rejected));
    }
    GPTBOOK_CHECK(!train->empty() && !val->empty(),
                  spec.preferences << ": " << pairs.size() << " pairs, " << too_long
                                   << " of them longer than the model's context (T=" << T
                                   << " tokens); at least 10 that fit are needed (every tenth is held out for "
                                      "validation)");
    // DPO: the reference's log-probability of every row, once (it is frozen).
    auto train_ref = std::make_shared<std::vector<double>>(), val_ref = std::make_shared<std::vector<double>>();
    if (!reward) {
        const auto ref_logps = [&](const std::vector<ChatExample>& rows, std::vector<double>& out) {
            const int chunk = 16;
            ActivationTensors acts(reference->config, chunk, T);
            for (size_t first = 0; first < rows.size(); first += chunk) {
                std::vector<size_t> idx(chunk);
                for (int b = 0; b < chunk; ++b)
                    idx[b] = std::min(first + b, rows.size() - 1); // the last chunk repeats its end
                const Batch batch = chat_batch(rows, idx, T, pad);
                gpt_forward(*reference, acts, batch.inputs, &batch.targets);
                const std::vector<double> logp = sequence_logprobs(acts, batch.targets);
                for (int b = 0; b < chunk && first + b < rows.size(); ++b) out.push_back(logp[b]);
            }
        };
        ref_logps(*train, *train_ref);
        ref_logps(*val, *val_ref);
    }
    FinetuneData d;
    d.tokenizer = tok;
    d.spec = (reward ? "reward:" : "dpo:") + spec.preferences;
    const double beta = spec.beta;
    d.source.sample = [train, val, train_ref, val_ref, T, pad, reward, beta](int split, int B, Rng& rng) {
        GPTBOOK_CHECK(B % 2 == 0, "preference batches hold pairs: --batch-size " << B << " must be even");
        const std::vector<ChatExample>& rows = split == 0 ? *train : *val;
        std::vector<size_t> idx(static_cast<size_t>(B));
        for (int i = 0; i < B / 2; ++i) {
            const size_t pair = rng.below(rows.size() / 2);
            idx[2 * i] = 2 * pair;
            idx[2 * i + 1] = 2 * pair + 1;
        }
        Batch batch = chat_batch(rows, idx, T, pad);
        if (!reward) {
            const std::vector<double>& ref = split == 0 ? *train_ref : *val_ref;
            for (size_t r : idx) batch.ref_logp.push_back(ref[r]);
            batch.dpo_beta = beta;
        }
        return batch;
    };
    std::ostringstream summary;
    summary << spec.preferences << ": " << train->size() / 2 << " train, " << val->size() / 2 << " val pairs";
    if (too_long > 0) summary << " (" << too_long << " longer than T=" << T << " tokens left out)";
    if (reward) {
        summary << "; a reward model, Bradley-Terry loss on the last token's score";
    } else {
        summary << "; DPO against the base model, beta " << beta;
    }
    d.summary = summary.str();
    // A chat model aligned on pairs (the exact rule's, on chapter 11's instructions) is also scored as
    // chapter 11 scores one: exact match on the held-out instances, chat fine-tuning's own report.
    std::function<std::string(const GPT&, const std::string&)> instructions_report;
    if (!reward && holds_chat_template(tok, ChatTemplate{})) {
        GPTConfig chat_model = model;
        FinetuneData chat = chat_data("instructions", chat_model, tok);
        if (chat_model.vocab_size == model.vocab_size) instructions_report = std::move(chat.report);
    }
    d.report = [val, val_ref, T, pad, reward, beta, instructions_report](const GPT& m, const std::string& split) {
        // The held-out pairs ranked the right way round: by the reward model's scores, or by DPO's
        // implicit reward beta (log pi - log pi_ref).
        const size_t P = val->size() / 2;
        ActivationTensors acts(m.config, 2, T);
        size_t right = 0;
        for (size_t i = 0; i < P; ++i) {
            Batch batch = chat_batch(*val, {2 * i, 2 * i + 1}, T, pad);
            if (reward) {
                right += reward_forward(m, acts, batch).accuracy > 0.5;
            } else {
                batch.ref_logp = {(*val_ref)[2 * i], (*val_ref)[2 * i + 1]};
                batch.dpo_beta = beta;
                right += dpo_forward(m, acts, batch).accuracy > 0.5;
            }
        }
        std::ostringstream out;
        out << split << " pairs ranked right (held-out pairs): " << std::fixed;
        out.precision(1);
        out << 100.0 * static_cast<double>(right) / static_cast<double>(P) << "% (" << right << "/" << P << ")\n";
        if (instructions_report) out << instructions_report(m, split);
        return out.str();
    };
    return d;
}

} // namespace

FinetuneData make_finetune_data(const FinetuneSpec& spec, GPTConfig& model, const Tokenizer& base,
                                const GPT* reference) {
    if (!spec.preferences.empty()) return preference_data(spec, model, base, reference);
    if (!spec.labels.empty()) return classification_data(spec.labels, model, base);
    if (!spec.retrieval.empty()) return embedder_data(spec.retrieval, model, base, spec.embed_dim, spec.infonce_tau);
    if (is_reader_chat(spec.chat)) return reader_data(spec.chat, model, base, spec.fit_context);
    if (!spec.chat.empty()) return chat_data(spec.chat, model, base);
    GPTBOOK_CHECK(!spec.data.empty(), "fine-tuning needs something to learn: labels, chat or data");
    GPTBOOK_CHECK(spec.data.rfind("task:", 0) != 0,
                  "--data " << spec.data << ": fine-tune on a synthetic task with `train --task` instead");
    TrainingData t = make_training_data(spec.data, model, "char", base); // the base's tokenizer, not a new one
    FinetuneData d;
    d.tokenizer = std::move(t.tokenizer);
    d.source = std::move(t.source);
    d.spec = spec.data;
    d.summary = t.summary;
    return d;
}

LabelledSplits load_labelled_splits(const std::string& spec) {
    namespace fs = std::filesystem;
    LabelledSplits s;
    s.dir = spec == "spam" ? spam_data_dir() : spec;
    GPTBOOK_CHECK(fs::is_directory(s.dir), "--labels " << spec << ": not a directory; expected spam (the SpamAssassin "
                                                       << "set) or a directory with train.jsonl, val.jsonl and "
                                                       << "test.jsonl");
    s.train = load_labelled_jsonl((fs::path(s.dir) / "train.jsonl").string());
    s.val = load_labelled_jsonl((fs::path(s.dir) / "val.jsonl").string(), s.train.classes);
    s.test = load_labelled_jsonl((fs::path(s.dir) / "test.jsonl").string(), s.train.classes);
    return s;
}

std::string format_classifier_scores(const std::string& split, const ClassifierScores& scores,
                                     const std::vector<std::string>& classes, bool confusion) {
    std::ostringstream out;
    out << split << " accuracy " << std::fixed;
    out.precision(2);
    out << 100.0 * scores.accuracy() << "% (" << arma::trace(scores.confusion) << "/" << arma::accu(scores.confusion)
        << "), loss ";
    out.precision(4);
    out << scores.loss << "\n";
    if (!confusion) return out.str();
    size_t width = 9; // "predicted"
    for (const std::string& c : classes) width = std::max(width, c.size());
    out << "confusion matrix (rows: true class, columns: predicted)\n";
    out << std::string(width + 2, ' ');
    for (const std::string& c : classes) out << std::string(width - c.size() + 2, ' ') << c;
    out << "\n";
    for (size_t i = 0; i < classes.size(); ++i) {
        out << "  " << classes[i] << std::string(width - classes[i].size(), ' ');
        for (size_t j = 0; j < classes.size(); ++j) {
            const std::string n = std::to_string(scores.confusion(i, j));
            out << std::string(width - n.size() + 2, ' ') << n;
        }
        out << "\n";
    }
    return out.str();
}

std::vector<std::string> classes_of(const std::map<std::string, std::string>& metadata, int n_classes) {
    std::vector<std::string> classes;
    if (auto it = metadata.find("gptbook.classes"); it != metadata.end()) {
        try {
            classes = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
        } catch (const nlohmann::json::exception&) {
            classes.clear();
        }
    }
    if (classes.size() == static_cast<size_t>(n_classes)) return classes;
    classes.clear();
    for (int k = 0; k < n_classes; ++k) classes.push_back(std::to_string(k));
    return classes;
}

} // namespace gptbook
