// gptbook import gpt2: a Hugging Face GPT-2 checkpoint turned into a run directory (chapter 11).
#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/sha256.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/hf_import.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/train/data_source.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

namespace gptbook::cli {

namespace {

namespace fs = std::filesystem;

struct ImportArgs {
    std::string file, out = "runs/gpt2", tokenizer = "gpt2";
    int n_head = 0; // 0: GPT-2's C / 64
};

/// The tokenizer a pretrained model was trained with: GPT-2's own, or a saved tokenizer JSON whose
/// ids are the checkpoint's. "char" and "bpe:N" would build a new vocabulary the weights never saw.
Tokenizer import_tokenizer(const std::string& spec) {
    GPTBOOK_CHECK(spec != "char" && spec.rfind("bpe:", 0) != 0,
                  "--tokenizer " << spec << " builds a new vocabulary, which a pretrained model's embeddings do not "
                                 << "match; use gpt2 (the default) or a tokenizer JSON file with the checkpoint's ids");
    return make_tokenizer(spec, ""); // gpt2: says to run scripts/install-gpt2-files.sh when the files are missing
}

void run_import_gpt2(const ImportArgs& a) {
    // Refused before the (slow) read: never a second model over a run, nor files mixed into a folder.
    GPTBOOK_CHECK(!fs::exists(a.out) || (fs::is_directory(a.out) && fs::is_empty(a.out)),
                  "--out " << a.out << " already exists"
                           << (fs::exists(fs::path(a.out) / "model.safetensors") ? " and holds a run" : "")
                           << "; choose a new folder (or remove it first)");
    const Tokenizer tokenizer = import_tokenizer(a.tokenizer); // before the read too: missing GPT-2 files
    const SafeTensors file = SafeTensors::load(a.file);
    const std::unique_ptr<GPT> model = import_hf_gpt2(file, a.file, a.n_head);
    const GPTConfig& c = model->config;
    GPTBOOK_CHECK(tokenizer.vocab_size() == c.vocab_size,
                  a.file << ": wte.weight has " << c.vocab_size << " rows but the " << a.tokenizer << " tokenizer has "
                         << tokenizer.vocab_size() << " tokens; the checkpoint was trained with another vocabulary "
                         << "(give its tokenizer JSON with --tokenizer)");
    const std::string sha256 = sha256_file_hex(a.file);
    const std::string tokenizer_json = tokenizer.to_json().dump();

    // As a training run writes it (Trainer), without train_state: an import is not resumable, but
    // sample, eval, inspect and finetune --base read the rest. The model first, so that a run
    // directory with a config always has its weights.
    const std::string data = "import:gpt2 " + a.file;
    save_model((fs::path(a.out) / "model.safetensors").string(), *model, tokenizer_json,
               {{meta_keys::import_source, a.file}, {meta_keys::import_sha256, sha256}});
    const nlohmann::json config{
        {"model", c}, {"data", data}, {"import", {{"format", "gpt2"}, {"file", a.file}, {"sha256", sha256}}}};
    write_file_atomic((fs::path(a.out) / "config.json").string(), config.dump(2) + "\n");
    write_file_atomic((fs::path(a.out) / "tokenizer.json").string(), tokenizer_json + "\n");

    std::printf("gptbook import gpt2: %s -> %s\n"
                "  model  L%d H%d C%d T%d V%d, %s positions%s, %zu parameters\n"
                "  heads  %d of size %d (%s)\n"
                "  source sha256 %s\n",
                a.file.c_str(), a.out.c_str(), c.n_layer, c.n_head, c.n_embd, c.block_size, c.vocab_size,
                to_string(c.position).c_str(), architecture_notes(c).c_str(), parameter_count(model->layout), c.n_head,
                c.head_size(), a.n_head > 0 ? "--n-head" : "GPT-2's head size 64: C / 64", sha256.c_str());
    // GPT-2 continues English; another tokenizer's vocabulary may not hold the prompt's characters.
    const std::string prompt = a.tokenizer == "gpt2" ? " --prompt \"The meaning of life is\"" : "";
    std::printf("sample from it: %s sample --run %s%s --max-new-tokens 40\n", program_name().c_str(), a.out.c_str(),
                prompt.c_str());
}

} // namespace

void add_import_command(CLI::App& app) {
    auto args = std::make_shared<ImportArgs>();
    ImportArgs& a = *args;
    CLI::App* cmd = app.add_subcommand("import", "Turn pretrained weights from another format into a run directory");
    cmd->require_subcommand(1);
    CLI::App* gpt2 = cmd->add_subcommand(
        "gpt2", "A Hugging Face GPT-2 model.safetensors (`huggingface-cli download gpt2 model.safetensors`)");
    gpt2->add_option("file", a.file, "The checkpoint: model.safetensors of gpt2 (or gpt2-medium, -large, -xl)")
        ->required();
    gpt2->add_option("--out", a.out, "Run directory to create; must not exist yet")->capture_default_str();
    gpt2->add_option("--n-head", a.n_head,
                     "Attention heads, which the weights do not record (default: C / 64, GPT-2's head size: 12 for "
                     "the 124M model)");
    gpt2->add_option("--tokenizer", a.tokenizer,
                     "gpt2 (GPT-2's encoder.json and vocab.bpe), or a tokenizer JSON file with the checkpoint's ids")
        ->capture_default_str();
    gpt2->callback([args] { run_import_gpt2(*args); });
}

} // namespace gptbook::cli
