// `gptbook finetune`, `chat` and `eval` on fine-tuned runs as a user meets them (chapter 11): a run
// that starts from another, a classifier scored with a confusion matrix, a chat model fed from a
// pipe, and one clear line for each kind of bad input.
#include "gptbook/core/file.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace gptbook::test;

namespace {

const std::string tiny = tiny_run_options;

std::string tiny_base(const Scratch& s) {
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    return base;
}

// A labelled set in a directory: texts about the fox are class "fox", about the dog class "dog".
std::string labelled_dir(const Scratch& s, const std::string& odd_label = "") {
    const std::string dir = s.file(odd_label.empty() ? "labels" : "labels-odd");
    fs::create_directories(dir);
    for (const char* split : {"train", "val", "test"}) {
        std::string lines;
        for (int i = 0; i < 12; ++i) {
            const bool fox = i % 2 == 0;
            std::string label = fox ? "fox" : "dog";
            if (!odd_label.empty() && std::string(split) == "val" && i == 3) label = odd_label;
            const std::string text = fox ? "the quick brown fox jumps" : "over the lazy dog. pack my box";
            lines += nlohmann::json{{"text", text.substr(0, 10 + i)}, {"label", label}}.dump() + "\n";
        }
        gptbook::write_file_atomic(dir + "/" + split + ".jsonl", lines);
    }
    return dir;
}

} // namespace

TEST_CASE("finetune --labels trains a classifier that eval scores with a confusion matrix", "[ch11][cli]") {
    Scratch s;
    const std::string base = tiny_base(s), out = s.file("cls");
    const Result r = run(s, "finetune --base " + base + " --labels " + labelled_dir(s) + " --train lora --lora-rank 2" +
                                " --max-iters 6 --eval-interval 3 --out " + out + tiny);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("classes dog, fox") && Catch::Contains("val accuracy") &&
                          Catch::Contains("test accuracy") && Catch::Contains("confusion matrix"));
    CHECK_THAT(r.out, Catch::Contains("LoRA r2")); // the model line says what was added
    for (const char* f : {"model.safetensors", "adapter.safetensors", "train_state.safetensors", "config.json",
                          "metrics.csv", "tokenizer.json"})
        CHECK(fs::exists(fs::path(out) / f));
    const nlohmann::json config = nlohmann::json::parse(gptbook::read_file(out + "/config.json"));
    CHECK(config["metadata"]["gptbook.base"] == base); // a fine-tuned run records its base
    CHECK(config["model"]["n_classes"] == 2);
    // The adapter file holds what fine-tuning changed, far less than the model.
    CHECK(fs::file_size(out + "/adapter.safetensors") < fs::file_size(out + "/model.safetensors") / 4);

    const Result e = run(s, "eval --run " + out);
    INFO(e.err);
    CHECK(e.code == 0);
    CHECK_THAT(e.out, Catch::Contains("test accuracy") && Catch::Contains("rows: true class"));
    const Result sample = run(s, "sample --run " + out);
    CHECK(sample.code == 1);
    CHECK_THAT(sample.err, Catch::Contains("is a classifier"));
    CHECK(run(s, "inspect " + out).code == 0);
}

TEST_CASE("finetune --chat trains in the chat template, and chat answers one line per piped prompt", "[ch11][cli]") {
    Scratch s;
    const std::string base = tiny_base(s), out = s.file("chat");
    nlohmann::json items = nlohmann::json::array();
    for (int i = 0; i < 20; ++i)
        items.push_back({{"instruction", "Say " + std::to_string(i)}, {"input", ""}, {"output", std::to_string(i)}});
    gptbook::write_file_atomic(s.file("alpaca.json"), items.dump());
    const Result r = run(s, "finetune --base " + base + " --chat " + s.file("alpaca.json") +
                                " --max-iters 4 --eval-interval 2 --out " + out + tiny);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("18 train, 2 val examples") && Catch::Contains("exact match"));
    // The vocabulary grew by the digits and the template's three tokens.
    const nlohmann::json config = nlohmann::json::parse(gptbook::read_file(out + "/config.json"));
    const nlohmann::json base_config = nlohmann::json::parse(gptbook::read_file(base + "/config.json"));
    CHECK(config["model"]["vocab_size"].get<int>() > base_config["model"]["vocab_size"].get<int>() + 3);

    gptbook::write_file_atomic(s.file("prompts.txt"), "Say 3\n\nSay 7\n");
    const Result c = run(s, "chat --run " + out + " --max-new-tokens 4", s.file("prompts.txt"));
    INFO(c.err);
    CHECK(c.code == 0);
    CHECK(count_lines(c.out) == 3); // one answer line per prompt line, the empty one kept empty
}

TEST_CASE("bad input to finetune and chat is one clear line", "[ch11][cli]") {
    Scratch s;
    const std::string base = tiny_base(s);
    fs::create_directories(s.file("not-a-run"));
    struct Case {
        std::string args, says;
    };
    const Case cases[] = {
        {"finetune --base " + s.file("not-a-run") + " --labels spam", "is not a run directory"},
        {"finetune --base " + base, "exactly one thing to learn"},
        {"finetune --base " + base + " --labels " + labelled_dir(s, "cat"), "line 4"},
        {"finetune --base " + base + " --labels " + labelled_dir(s) + " --lora-rank 64",
         "lora_rank=64 is larger than the layers it adapts"},
        {"finetune --base " + base + " --labels " + labelled_dir(s) + " --train last --last-blocks 3",
         "--last-blocks is 3, expected 1..2"},
        {"finetune --base " + base + " --labels " + labelled_dir(s) +
             " --lora-targets attn.c_attn,mlp.up --lora-rank 2",
         "LoRA target 'mlp.up'"},
        {"chat --run " + base, "the tokenizer has no \"<|user|>\" token"},
    };
    for (const Case& c : cases) {
        INFO(c.args);
        const Result r = run(s, c.args);
        CHECK(r.code == 1);
        CHECK(count_lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::StartsWith("gptbook: ") && Catch::Contains(c.says));
    }
    CHECK_FALSE(fs::exists(base + "-finetuned")); // nothing was written for a refused run
}
