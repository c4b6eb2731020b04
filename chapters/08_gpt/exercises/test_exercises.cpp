// Tests that grade the chapter 08 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch08, fails until you solve them) and against solutions/08_gpt (solutions_ch08,
// which shows the tests pass with a correct answer).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/train/presets.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;
using namespace gptbook::exercises;

namespace {

GPTConfig config(int V, int T, int L, int NH, int C) {
    GPTConfig c;
    c.vocab_size = V;
    c.block_size = T;
    c.n_layer = L;
    c.n_head = NH;
    c.n_embd = C;
    return c;
}

} // namespace

TEST_CASE("8.1: the Shakespeare CPU model has 809,856 parameters and GPT-2 small 124,439,808", "[ch08][ex8.1]") {
    CHECK(count_parameters(config(65, 64, 4, 4, 128)) == 809856);
    CHECK(count_parameters(config(50257, 1024, 12, 12, 768)) == 124439808); // the "124M" GPT-2
}

TEST_CASE("8.1: the formula equals the layout's count for every preset and for sinusoidal positions", "[ch08][ex8.1]") {
    for (const Preset& p : presets()) {
        GPTConfig c = p.model;
        c.vocab_size = 65;
        // GPT-2's architecture only: a preset with chapter 10's switches (llama-char-cpu) is
        // exercise 10.4's to count.
        if (c.position == PositionEncoding::rope || !architecture_notes(c).empty()) continue;
        INFO("preset " << p.name);
        CHECK(count_parameters(c) == parameter_count(parameter_layout(c)));
        c.position = PositionEncoding::sinusoidal; // no wpe table
        CHECK(count_parameters(c) == parameter_count(parameter_layout(c)));
    }
    const GPTConfig odd = config(7, 5, 3, 2, 6); // small, unequal sizes: a swapped V and T would show
    CHECK(count_parameters(odd) == parameter_count(parameter_layout(odd)));
}

TEST_CASE("8.2: tokens/s and FLOP/s of a 50 ms step of the Shakespeare CPU preset", "[ch08][ex8.2]") {
    const Throughput t = throughput(config(65, 64, 4, 4, 128), 12, 0.05);
    // 12 * 64 = 768 tokens in 0.05 s; 6 * 809856 + 12 * 4 * 64 * 128 = 5,252,352 FLOPs per token.
    // Doubles of exact integers and one division: 1e-9 relative is far above their rounding.
    CHECK(t.tokens_per_s == Approx(15360.0).epsilon(1e-9));
    CHECK(t.flops_per_token == Approx(5252352.0).epsilon(1e-9));
    CHECK(t.flops_per_s == Approx(15360.0 * 5252352.0).epsilon(1e-9));
}

TEST_CASE("8.2: throughput scales with the batch and inversely with the step time", "[ch08][ex8.2]") {
    const GPTConfig c = config(65, 256, 6, 6, 384);
    const Throughput a = throughput(c, 64, 2.0), b = throughput(c, 32, 0.5);
    CHECK(a.tokens_per_s == Approx(64.0 * 256 / 2.0).epsilon(1e-9));
    CHECK(b.tokens_per_s == Approx(2.0 * a.tokens_per_s).epsilon(1e-9));  // half the tokens in a quarter of the time
    CHECK(a.flops_per_token == Approx(b.flops_per_token).epsilon(1e-12)); // per token: the model alone decides
}

TEST_CASE("8.3: rotate answers with the digits rotated left by one", "[ch08][ex8.3]") {
    CHECK(rotate_answer("120201>") == "202011");
    CHECK(rotate_answer("000000>") == "000000");
    CHECK(rotate_answer("210000>") == "100002");
}

TEST_CASE("8.3: a malformed prompt is refused with an error", "[ch08][ex8.3]") {
    CHECK_NOTHROW(rotate_answer("120201>"));           // a well-formed prompt is answered
    CHECK_THROWS_AS(rotate_answer("12020>"), Error);   // too short
    CHECK_THROWS_AS(rotate_answer("1202013>"), Error); // too long
    CHECK_THROWS_AS(rotate_answer("120301>"), Error);  // 3 is not in {0,1,2}
    CHECK_THROWS_AS(rotate_answer("1202012"), Error);  // no separator
}

TEST_CASE("8.3: the check accepts the right answer, cut at a newline, and nothing else", "[ch08][ex8.3]") {
    CHECK(rotate_is_correct("120201>", "202011"));
    CHECK(rotate_is_correct("120201>", "202011\n112020")); // generation ran on to the next line
    CHECK_FALSE(rotate_is_correct("120201>", "20201"));    // one digit short
    CHECK_FALSE(rotate_is_correct("120201>", "2020111"));  // one too many before the newline
    CHECK_FALSE(rotate_is_correct("120201>", "001122"));   // the sort answer
    CHECK_FALSE(rotate_is_correct("120201>", ""));
}
