// Tests for src/gptbook/train/state.cpp: the training state round-trips bit for bit, and damaged
// files are refused with an error.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/core/safetensors.hpp"
#include "gptbook/train/state.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "support/temp_dir.hpp"

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

using test::TempDir;

GPTConfig tiny_config() {
    GPTConfig c;
    c.vocab_size = 7;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 16;
    c.dropout = 0.1f;
    c.position = PositionEncoding::learned;
    return c;
}

/// A model, optimizer state and train config with no default values left in them.
struct Fixture {
    GPT model{tiny_config()};
    AdamWState adam;
    TrainConfig train;

    Fixture() {
        Rng rng(42);
        gpt_init(model, rng);
        adam = AdamWState(model.params.n_elem);
        for (arma::uword i = 0; i < adam.m.n_elem; ++i) {
            adam.m[i] = rng.normal() * 1e-3f;
            adam.v[i] = rng.uniform() * 1e-6f; // tiny values: denormals and long mantissas survive too
        }
        adam.step = 123456789012LL;
        train.batch_size = 5;
        train.lr = 3.3e-4f;
        train.seed = 0xfedcba9876543210ULL;
    }

    TrainState state(float best_val, int evaluated_step) const {
        return TrainState{
            &model,     &adam,          &train,   Rng(0x0123456789abcdefULL), Rng(0xffffffffffffffffULL),
            4242,       evaluated_step, best_val, 1234.56789012345678,        R"({"type":"char","chars":"ab"})",
            "task:sort"};
    }
};

/// Whether two buffers hold the same bits (stricter than ==: -0 differs from +0).
bool same_bits(const Vec& a, const Vec& b) {
    return a.n_elem == b.n_elem && std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("a saved training state loads back bit for bit", "[ch06][ch08][state]") {
    TempDir dir;
    const Fixture f;
    const std::string path = dir.file("train_state.safetensors");
    save_train_state(path, f.state(std::numeric_limits<float>::infinity(), -1)); // a run not yet evaluated
    const LoadedTrainState s = load_train_state(path);

    REQUIRE(s.model);
    CHECK(s.model->config == f.model.config);
    CHECK(same_bits(s.model->params, f.model.params));
    CHECK(same_bits(s.adam.m, f.adam.m));
    CHECK(same_bits(s.adam.v, f.adam.v));
    CHECK(s.adam.step == f.adam.step);
    CHECK(s.train == f.train);
    CHECK(s.data_rng.state == 0x0123456789abcdefULL);
    CHECK(s.eval_rng.state == 0xffffffffffffffffULL);
    CHECK(s.step == 4242);
    CHECK(s.evaluated_step == -1);
    CHECK(std::isinf(s.best_val));
    CHECK(s.best_val > 0);
    CHECK(s.train_seconds == 1234.56789012345678); // exact: written as a hex float
    CHECK(s.tokenizer_json == R"({"type":"char","chars":"ab"})");
    CHECK(s.data == "task:sort");
}

TEST_CASE("a finite best validation loss and an evaluated step load back exactly", "[ch08][state]") {
    TempDir dir;
    const Fixture f;
    const std::string path = dir.file("train_state.safetensors");
    const float best = std::nextafter(1.2345678f, 2.0f); // the last bit set: no decimal rounding allowed
    save_train_state(path, f.state(best, 4000));
    const LoadedTrainState s = load_train_state(path);
    CHECK(s.best_val == best);
    CHECK(s.evaluated_step == 4000);
}

TEST_CASE("a missing training state file is an error naming the file", "[ch08][state]") {
    TempDir dir;
    const std::string path = dir.file("nothing_here.safetensors");
    CHECK_THROWS_WITH(load_train_state(path), Contains("nothing_here.safetensors"));
}

TEST_CASE("a truncated or corrupt training state file is refused with an error", "[ch08][state]") {
    TempDir dir;
    const Fixture f;
    const std::string path = dir.file("train_state.safetensors");
    save_train_state(path, f.state(2.5f, 10));
    const std::string bytes = read_file(path);

    SECTION("truncated: the tensors stop half way") {
        write_file_atomic(path, bytes.substr(0, bytes.size() / 2));
        CHECK_THROWS_AS(load_train_state(path), Error);
    }
    SECTION("truncated inside the header") {
        write_file_atomic(path, bytes.substr(0, 20));
        CHECK_THROWS_AS(load_train_state(path), Error);
    }
    SECTION("empty") {
        write_file_atomic(path, "");
        CHECK_THROWS_AS(load_train_state(path), Error);
    }
    SECTION("not a safetensors file at all") {
        write_file_atomic(path, "step=10\nthis is not a checkpoint\n");
        CHECK_THROWS_AS(load_train_state(path), Error);
    }
}

TEST_CASE("a training state with a damaged field names the field", "[ch08][state]") {
    TempDir dir;
    const Fixture f;
    const std::string path = dir.file("train_state.safetensors");
    save_train_state(path, f.state(2.5f, 10));
    SafeTensors file = SafeTensors::load(path);

    SECTION("a number that is not a number") {
        file.metadata["step"] = "ten";
        file.save(path);
        CHECK_THROWS_WITH(load_train_state(path), Contains("step"));
    }
    SECTION("a number with trailing junk") {
        file.metadata["data_rng"] = "123abc";
        file.save(path);
        CHECK_THROWS_WITH(load_train_state(path), Contains("data_rng"));
    }
    SECTION("a missing scalar") {
        file.metadata.erase("best_val");
        file.save(path);
        CHECK_THROWS_WITH(load_train_state(path), Contains("best_val"));
    }
    SECTION("a config that is not JSON") {
        file.metadata["gptbook.train_config"] = "{batch_size: 5";
        file.save(path);
        CHECK_THROWS_WITH(load_train_state(path), Contains("not valid JSON"));
    }
    SECTION("moments that do not match the model's size") {
        file.tensors.erase("adam.v");
        const std::vector<float> short_v(10, 0.0f);
        file.add_f32("adam.v", {10}, short_v.data());
        file.save(path);
        CHECK_THROWS_WITH(load_train_state(path), Contains("adam.v"));
    }
}

TEST_CASE("a state with frozen tensors keeps which ones are frozen and only the trainable moments",
          "[ch10][ch11][state]") {
    TempDir dir;
    Fixture f;
    const size_t PT = f.model.set_trainable([](const std::string& name) { return name.starts_with("h.1."); });
    f.adam = AdamWState(PT);
    f.adam.m.fill(0.5f);
    const std::string path = dir.file("train_state.safetensors");
    save_train_state(path, f.state(1.0f, 10));
    const LoadedTrainState s = load_train_state(path);
    CHECK(trainable_count(s.model->layout) == PT);
    for (size_t i = 0; i < s.model->layout.size(); ++i) {
        INFO(s.model->layout[i].name);
        CHECK(s.model->layout[i].trainable == f.model.layout[i].trainable);
    }
    CHECK(s.adam.m.n_elem == PT);
    CHECK(same_bits(s.adam.m, f.adam.m));
    CHECK(s.model->dw.h[0].attn_w.is_empty()); // frozen: no gradient view
}
