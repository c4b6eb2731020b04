// Tests for src/gptbook/train/presets.cpp: the named recipes and TrainConfig's checks and JSON form.
#include "gptbook/core/error.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/train/presets.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("find_preset returns the preset of that name", "[ch08][presets]") {
    for (const Preset& p : presets()) CHECK(find_preset(p.name).name == p.name);
    const Preset& sort = find_preset("sort");
    CHECK(sort.data == "task:sort");
    CHECK(find_preset("shakespeare-char-cpu").data == "shakespeare");
}

TEST_CASE("find_preset on an unknown name lists every known preset", "[ch08][presets]") {
    try {
        find_preset("gpt-5");
        FAIL("expected gptbook::Error");
    } catch (const Error& e) {
        const std::string msg = e.what();
        CHECK_THAT(msg, Contains("gpt-5"));
        for (const Preset& p : presets()) CHECK_THAT(msg, Contains(p.name));
    }
}

TEST_CASE("every preset has a unique name, a description, and configs that validate", "[ch08][presets]") {
    REQUIRE(!presets().empty());
    std::set<std::string> names;
    for (const Preset& p : presets()) {
        INFO("preset " << p.name);
        CHECK(names.insert(p.name).second);
        CHECK(!p.description.empty());
        CHECK_NOTHROW(p.model.validate());
        CHECK_NOTHROW(p.train.validate());
        if (p.data.rfind("task:", 0) == 0) CHECK_NOTHROW(make_task(p.data.substr(5)));
        else CHECK(!p.data.empty());
    }
}

TEST_CASE("TrainConfig survives a JSON round trip exactly, through text too", "[ch08][presets]") {
    TrainConfig c;
    c.batch_size = 7;
    c.grad_accum = 3;
    c.max_iters = 1234;
    c.lr = 3.3e-4f; // not a short decimal in binary: the text form must keep every bit
    c.min_lr = 1.7e-5f;
    c.warmup_iters = 17;
    c.beta1 = 0.85f;
    c.beta2 = 0.975f;
    c.weight_decay = 0.01f;
    c.grad_clip = 0.0f;
    c.eval_interval = 77;
    c.eval_iters = 5;
    c.log_interval = 3;
    c.seed = 0xfedcba9876543210ULL; // above 2^63: must not pass through a double or a signed type
    c.threads = 2;
    const nlohmann::json j = c;
    CHECK(j.get<TrainConfig>() == c);
    CHECK(nlohmann::json::parse(j.dump()).get<TrainConfig>() == c);
    CHECK(j.size() == 15); // every field is written
}

TEST_CASE("TrainConfig from JSON names a missing or mistyped field and validates the values", "[ch08][presets]") {
    nlohmann::json j = TrainConfig{};
    j.erase("warmup_iters");
    CHECK_THROWS_WITH(j.get<TrainConfig>(), Contains("warmup_iters"));
    j = TrainConfig{};
    j["lr"] = "fast";
    CHECK_THROWS_WITH(j.get<TrainConfig>(), Contains("lr"));
    j = TrainConfig{};
    j["batch_size"] = 0;
    CHECK_THROWS_WITH(j.get<TrainConfig>(), Contains("batch_size"));
    CHECK_THROWS_AS(nlohmann::json::array().get<TrainConfig>(), Error);
}

TEST_CASE("TrainConfig::validate names the first invalid field", "[ch08][presets]") {
    CHECK_NOTHROW(TrainConfig{}.validate());
    const auto fails_with = [](auto change, const std::string& field) {
        TrainConfig c;
        change(c);
        INFO("field " << field);
        CHECK_THROWS_WITH(c.validate(), Contains(field));
    };
    fails_with([](TrainConfig& c) { c.batch_size = 0; }, "batch_size");
    fails_with([](TrainConfig& c) { c.grad_accum = -1; }, "grad_accum");
    fails_with([](TrainConfig& c) { c.eval_interval = 0; }, "eval_interval");
    fails_with([](TrainConfig& c) { c.eval_iters = 0; }, "eval_iters");
    fails_with([](TrainConfig& c) { c.log_interval = 0; }, "log_interval");
    fails_with([](TrainConfig& c) { c.lr = 0.0f; }, "lr");
    fails_with([](TrainConfig& c) { c.max_iters = -1; }, "max_iters");
    fails_with([](TrainConfig& c) { c.warmup_iters = -1; }, "warmup_iters");
    fails_with([](TrainConfig& c) { c.min_lr = 2 * c.lr; }, "min_lr");
    fails_with([](TrainConfig& c) { c.beta1 = 1.0f; }, "beta1");
    fails_with([](TrainConfig& c) { c.beta2 = -0.1f; }, "beta2");
    fails_with([](TrainConfig& c) { c.weight_decay = -0.1f; }, "weight_decay");
    fails_with([](TrainConfig& c) { c.grad_clip = -1.0f; }, "grad_clip");
    fails_with([](TrainConfig& c) { c.threads = -1; }, "threads");
}

TEST_CASE("TrainConfig accepts the boundary values it documents", "[ch08][presets]") {
    TrainConfig c;
    c.max_iters = 0; // a run that only evaluates
    c.warmup_iters = 0;
    c.min_lr = c.lr;    // a constant schedule
    c.grad_clip = 0.0f; // clipping off
    c.weight_decay = 0.0f;
    c.beta1 = 0.0f;
    c.threads = 0; // all cores
    CHECK_NOTHROW(c.validate());
}
