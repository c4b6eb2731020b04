// Shapes: V vocab, T block_size, C n_embd; tensors in files have PyTorch (row-major) shapes.
#include "gptbook/model/checkpoint.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

GPTConfig small_config() {
    GPTConfig c;
    c.vocab_size = 13;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.dropout = 0.125f;
    return c;
}

/// A model whose every parameter is distinct, so a swapped or shifted tensor cannot go unseen.
std::unique_ptr<GPT> random_model(const GPTConfig& c, uint64_t seed = 3) {
    auto model = std::make_unique<GPT>(c);
    Rng rng(seed);
    for (float& p : model->params) p = rng.normal();
    return model;
}

const char* tokenizer_json = R"({"type":"char","vocab":["a","b","\u00e9"]})";

} // namespace

TEST_CASE("save_model then load_model gives back the same parameters, config, tokenizer and metadata",
          "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("model.safetensors");
    GPTConfig c = small_config();
    c.position = PositionEncoding::sinusoidal;
    const auto model = random_model(c);
    save_model(path, *model, tokenizer_json, {{"step", "1200"}});
    CHECK(dir.list() == std::vector<std::string>{"model.safetensors"}); // no temporary left behind

    const LoadedModel back = load_model(path);
    REQUIRE(back.model);
    CHECK(back.model->config == c);
    REQUIRE(back.model->params.n_elem == model->params.n_elem);
    CHECK(std::memcmp(back.model->params.memptr(), model->params.memptr(), model->params.n_elem * sizeof(float)) == 0);
    CHECK(back.tokenizer_json == tokenizer_json);
    CHECK(back.metadata.at("step") == "1200");
    CHECK(back.metadata.count(meta_keys::config) == 1);
    // The views of the loaded model point into its own buffer.
    CHECK(back.model->w.ln_f_b.memptr() == back.model->params.memptr() + back.model->layout.back().offset);

    // The file is plain safetensors: every tensor under its GPT-2 name and PyTorch shape.
    const SafeTensors file = SafeTensors::load(path);
    CHECK(file.tensors.size() == model->layout.size());
    CHECK(file.at("h.1.mlp.c_fc.weight").shape == std::vector<size_t>{64, 16});
    CHECK(file.metadata.at("format") == "pt");
}

TEST_CASE("a model saved without a tokenizer loads with an empty tokenizer", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("m.safetensors");
    save_model(path, *random_model(small_config()), "");
    const LoadedModel back = load_model(path);
    CHECK(back.tokenizer_json.empty());
    CHECK(back.metadata.count(meta_keys::tokenizer) == 0);
}

TEST_CASE("a tensor of the wrong shape is named in the error with both shapes", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    const auto model = random_model(small_config());
    SafeTensors file;
    add_parameters(file, *model);
    file.tensors.erase("h.1.ln_2.bias");
    const std::vector<float> wrong(17, 0.0f);
    file.add_f32("h.1.ln_2.bias", {17}, wrong.data());
    file.metadata[meta_keys::config] = nlohmann::json(model->config).dump();
    file.save(path);
    CHECK_THROWS_AS(load_model(path), Error);
    CHECK_THROWS_WITH(load_model(path),
                      Contains(path) && Contains("h.1.ln_2.bias") && Contains("(17)") && Contains("(16)"));
}

TEST_CASE("a missing tensor is named in the error", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("partial.safetensors");
    const auto model = random_model(small_config());
    SafeTensors file;
    add_parameters(file, *model);
    file.tensors.erase("h.0.attn.c_proj.weight");
    file.metadata[meta_keys::config] = nlohmann::json(model->config).dump();
    file.save(path);
    CHECK_THROWS_WITH(load_model(path), Contains("h.0.attn.c_proj.weight"));
}

TEST_CASE("a file without a model config in its metadata gets a clear error", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("no_config.safetensors");
    SafeTensors file;
    add_parameters(file, *random_model(small_config()));
    file.save(path);
    CHECK_THROWS_WITH(load_model(path), Contains(path) && Contains(meta_keys::config) && Contains("gptbook"));

    file.metadata[meta_keys::config] = "{not json";
    file.save(path);
    CHECK_THROWS_WITH(load_model(path), Contains(path) && Contains("not valid JSON"));
    nlohmann::json invalid = small_config();
    invalid["n_head"] = 5;
    file.metadata[meta_keys::config] = invalid.dump();
    file.save(path);
    CHECK_THROWS_WITH(load_model(path), Contains(path) && Contains("n_head=5"));
}

TEST_CASE("parameters saved for another config are refused, naming the first tensor that differs",
          "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("c16.safetensors");
    GPTConfig c16 = small_config();
    const auto model16 = random_model(c16);
    GPTConfig c8 = c16;
    c8.n_embd = 8;
    // The file says n_embd = 8 but holds tensors of a model with n_embd = 16.
    SafeTensors file;
    add_parameters(file, *model16);
    file.metadata[meta_keys::config] = nlohmann::json(c8).dump();
    file.save(path);
    CHECK_THROWS_WITH(load_model(path), Contains("wte.weight") && Contains("(13, 16)") && Contains("(13, 8)") &&
                                            Contains("another config"));
    // Loading a saved model into a model of another shape, as a resumed run with another preset would.
    save_model(path, *model16, tokenizer_json);
    GPT other(c8);
    CHECK_THROWS_WITH(read_parameters(SafeTensors::load(path), other), Contains("wte.weight") && Contains("(13, 8)"));
    GPTConfig deeper = c16;
    deeper.n_layer = 3;
    GPT three(deeper);
    CHECK_THROWS_WITH(read_parameters(SafeTensors::load(path), three), Contains("h.2.ln_1.weight"));
}

TEST_CASE("a truncated checkpoint raises gptbook::Error at every cut, never a crash", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string full_path = dir.file("full.safetensors"), cut_path = dir.file("cut.safetensors");
    save_model(full_path, *random_model(small_config()), tokenizer_json);
    const std::string bytes = read_file(full_path);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    REQUIRE(header_len + 8 < bytes.size());
    const size_t cuts[] = {0,
                           1,
                           7,
                           8,
                           9,
                           header_len / 2,
                           header_len + 7,
                           header_len + 8,
                           header_len + 9,
                           (header_len + bytes.size()) / 2,
                           bytes.size() - 4,
                           bytes.size() - 1};
    for (size_t cut : cuts) {
        write_file_atomic(cut_path, std::string_view(bytes).substr(0, cut));
        INFO("cut at " << cut << " of " << bytes.size() << " bytes");
        CHECK_THROWS_AS(load_model(cut_path), Error);
    }
    CHECK_NOTHROW(load_model(full_path)); // the uncut file is fine
}

TEST_CASE("garbage bytes raise gptbook::Error", "[ch08][model][checkpoint]") {
    test::TempDir dir;
    const std::string path = dir.file("garbage.safetensors");
    Rng rng(11);
    for (const size_t n : {3, 100, 5000}) {
        std::string junk(n, '\0');
        for (char& ch : junk) ch = static_cast<char>(rng.below(256));
        write_file_atomic(path, junk);
        INFO(n << " random bytes");
        CHECK_THROWS_AS(load_model(path), Error);
        if (n > 16) { // a plausible header length followed by non-JSON
            const uint64_t len = n / 2;
            std::memcpy(junk.data(), &len, 8);
            write_file_atomic(path, junk);
            CHECK_THROWS_AS(load_model(path), Error);
        }
    }
    CHECK_THROWS_AS(load_model(dir.file("does_not_exist.safetensors")), Error);
}
