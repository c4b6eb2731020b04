// Shapes: V vocab, T block_size, L layers, NH heads, C n_embd (GPTConfig's fields; no tensors here).
#include "gptbook/model/config.hpp"

#include "gptbook/core/error.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

TEST_CASE("the default GPTConfig is valid and has head size n_embd / n_head", "[ch08][model][config]") {
    const GPTConfig c;
    CHECK_NOTHROW(c.validate());
    CHECK(c.head_size() == 128 / 4);
    GPTConfig odd;
    odd.n_embd = 48;
    odd.n_head = 3;
    CHECK(odd.head_size() == 16);
}

TEST_CASE("GPTConfig::validate names a non-positive size", "[ch08][model][config]") {
    struct Case {
        const char* field;
        int GPTConfig::*member;
        int value;
    };
    const Case cases[] = {{"vocab_size", &GPTConfig::vocab_size, 0},
                          {"block_size", &GPTConfig::block_size, -1},
                          {"n_layer", &GPTConfig::n_layer, 0},
                          {"n_head", &GPTConfig::n_head, -4},
                          {"n_embd", &GPTConfig::n_embd, 0}};
    for (const Case& k : cases) {
        GPTConfig c;
        c.*k.member = k.value;
        INFO("field " << k.field << " = " << k.value);
        CHECK_THROWS_AS(c.validate(), Error);
        CHECK_THROWS_WITH(c.validate(), Contains(k.field) && Contains(std::to_string(k.value)) && Contains("positive"));
    }
}

TEST_CASE("GPTConfig::validate rejects n_embd not divisible by n_head and says what to choose",
          "[ch08][model][config]") {
    GPTConfig c;
    c.n_embd = 100;
    c.n_head = 6;
    CHECK_THROWS_AS(c.validate(), Error);
    CHECK_THROWS_WITH(c.validate(), Contains("n_embd=100") && Contains("n_head=6") && Contains("multiple"));
}

TEST_CASE("GPTConfig::validate accepts a dropout from 0 up to but excluding 1, and rejects anything else",
          "[ch08][model][config]") {
    GPTConfig c;
    for (const float p : {0.0f, 0.1f, 0.999f}) {
        c.dropout = p;
        INFO("dropout " << p);
        CHECK_NOTHROW(c.validate());
    }
    for (const float p : {-0.1f, 1.0f, 1.5f}) {
        c.dropout = p;
        INFO("dropout " << p);
        CHECK_THROWS_WITH(c.validate(), Contains("dropout") && Contains("[0, 1)"));
    }
}

TEST_CASE("a GPTConfig survives a JSON round trip, through text too", "[ch08][model][config]") {
    GPTConfig c;
    c.vocab_size = 50257;
    c.block_size = 1024;
    c.n_layer = 12;
    c.n_head = 12;
    c.n_embd = 768;
    c.dropout = 0.25f; // exactly representable, so the text round trip is exact
    c.position = PositionEncoding::sinusoidal;
    const nlohmann::json j = c;
    CHECK(j.at("position") == "sinusoidal");
    CHECK(j.at("n_embd") == 768);
    CHECK(j.get<GPTConfig>() == c);
    CHECK(nlohmann::json::parse(j.dump()).get<GPTConfig>() == c);
    CHECK_FALSE(j.get<GPTConfig>() == GPTConfig{}); // == compares fields, not identity
}

TEST_CASE("reading a GPTConfig from JSON names a missing or mistyped field", "[ch08][model][config]") {
    const nlohmann::json good = GPTConfig{};
    for (const char* field : {"vocab_size", "block_size", "n_layer", "n_head", "n_embd", "dropout"}) {
        nlohmann::json j = good;
        j.erase(field);
        INFO("without " << field);
        CHECK_THROWS_AS(j.get<GPTConfig>(), Error);
        CHECK_THROWS_WITH(j.get<GPTConfig>(), Contains(field) && Contains("missing"));
    }
    nlohmann::json mistyped = good;
    mistyped["n_embd"] = "big";
    CHECK_THROWS_WITH(mistyped.get<GPTConfig>(), Contains("n_embd") && Contains("wrong type"));
    CHECK_THROWS_WITH(nlohmann::json::array().get<GPTConfig>(), Contains("object") && Contains("array"));
}

TEST_CASE("a JSON config without 'position' means learned positions (files from before chapter 03)",
          "[ch08][model][config]") {
    nlohmann::json j = GPTConfig{};
    j.erase("position");
    CHECK(j.get<GPTConfig>().position == PositionEncoding::learned);
}

TEST_CASE("reading a GPTConfig from JSON validates it", "[ch08][model][config]") {
    nlohmann::json j = GPTConfig{};
    j["n_head"] = 3; // 128 is not a multiple of 3
    CHECK_THROWS_WITH(j.get<GPTConfig>(), Contains("n_embd=128") && Contains("n_head=3"));
    j = GPTConfig{};
    j["position"] = "rotary";
    CHECK_THROWS_WITH(j.get<GPTConfig>(), Contains("rotary"));
}

TEST_CASE("position encodings print and parse by name, and an unknown name lists the known ones",
          "[ch03][ch08][model][config]") {
    for (const PositionEncoding p : {PositionEncoding::learned, PositionEncoding::sinusoidal})
        CHECK(position_encoding_from_string(to_string(p)) == p);
    CHECK(to_string(PositionEncoding::learned) == "learned");
    CHECK(to_string(PositionEncoding::sinusoidal) == "sinusoidal");
    CHECK_THROWS_AS(position_encoding_from_string("Learned"), Error); // names are case-sensitive
    CHECK_THROWS_WITH(position_encoding_from_string("rotary"),
                      Contains("'rotary'") && Contains("learned") && Contains("sinusoidal"));
    CHECK_THROWS_AS(position_encoding_from_string(""), Error);
}
