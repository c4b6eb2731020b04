// Tests for src/gptbook/sample/sampler.cpp: greedy, temperature, top-k, top-p and the draw itself.
#include "gptbook/core/error.hpp"
#include "gptbook/sample/sampler.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// Logits whose softmax at temperature 1 is exactly proportional to `probs`.
Vec logits_of(const std::vector<float>& probs) {
    Vec z(probs.size());
    for (size_t i = 0; i < probs.size(); ++i) z[i] = std::log(probs[i]);
    return z;
}

SamplingOptions with(float temperature, int top_k = 0, float top_p = 1.0f) {
    SamplingOptions o;
    o.temperature = temperature;
    o.top_k = top_k;
    o.top_p = top_p;
    return o;
}

double entropy(const Vec& p) {
    double h = 0;
    for (float v : p)
        if (v > 0) h -= v * std::log(static_cast<double>(v));
    return h;
}

int nonzero(const Vec& p) { return static_cast<int>(arma::accu(p > 0.0f)); }

// Unordered, with a clear maximum at id 4 and a clear runner-up at id 1.
const Vec kLogits = {0.3f, 1.9f, -1.0f, 0.8f, 2.5f, -0.2f, 1.1f, 0.0f};

} // namespace

TEST_CASE("greedy sampling picks the argmax and draws no random number", "[ch07][sampler]") {
    Rng rng(5);
    const uint64_t before = rng.state;
    CHECK(sample_token(kLogits, with(0.0f), rng) == 4);
    CHECK(rng.state == before);
    const Vec p = next_token_distribution(kLogits, with(0.0f));
    CHECK(p[4] == 1.0f);
    CHECK(nonzero(p) == 1);
}

TEST_CASE("the next-token distribution sums to one whatever the options", "[ch07][sampler]") {
    for (const SamplingOptions& o : {with(1.0f), with(0.5f), with(3.0f), with(1.0f, 3), with(1.0f, 0, 0.7f),
                                     with(0.7f, 5, 0.9f), with(1.0f, 100), with(0.0f)}) {
        INFO("temperature " << o.temperature << " top_k " << o.top_k << " top_p " << o.top_p);
        const Vec p = next_token_distribution(kLogits, o);
        REQUIRE(p.n_elem == kLogits.n_elem);
        CHECK(p.min() >= 0.0f);
        // float32 sum of 8 terms, each normalised: a few units of rounding (eps = 1.2e-7) at most
        CHECK(arma::accu(p) == Approx(1.0).margin(1e-6));
    }
}

TEST_CASE("temperature 1 gives the plain softmax", "[ch07][sampler]") {
    const Vec p = next_token_distribution(logits_of({0.1f, 0.2f, 0.3f, 0.4f}), with(1.0f));
    // exp(log p) / sum in float32: relative error of a few eps
    CHECK(p[0] == Approx(0.1f).epsilon(1e-6));
    CHECK(p[1] == Approx(0.2f).epsilon(1e-6));
    CHECK(p[2] == Approx(0.3f).epsilon(1e-6));
    CHECK(p[3] == Approx(0.4f).epsilon(1e-6));
}

TEST_CASE("a low temperature approaches greedy and a high one flattens the distribution", "[ch07][sampler]") {
    const std::vector<float> temperatures = {0.05f, 0.3f, 0.7f, 1.0f, 2.0f, 10.0f};
    std::vector<double> top, h;
    for (float t : temperatures) {
        const Vec p = next_token_distribution(kLogits, with(t));
        top.push_back(p[4]);
        h.push_back(entropy(p));
    }
    for (size_t i = 1; i < temperatures.size(); ++i) {
        INFO("temperature " << temperatures[i - 1] << " -> " << temperatures[i]);
        CHECK(top[i] < top[i - 1]); // the favourite loses mass
        CHECK(h[i] > h[i - 1]);     // entropy grows
    }
    // at tau = 0.05 the runner-up is exp(-(2.5 - 1.9) / 0.05) = 6e-6 times as likely
    CHECK(top.front() > 0.9999);
    // at tau = 1000 all logits are within 0.0035 of each other: entropy within 1e-5 of ln 8
    CHECK(entropy(next_token_distribution(kLogits, with(1000.0f))) == Approx(std::log(8.0)).margin(1e-5));
}

TEST_CASE("top-k keeps exactly the k most likely tokens", "[ch07][sampler]") {
    const std::vector<int> by_logit = {4, 1, 6, 3, 0, 7, 5, 2}; // ids sorted by decreasing logit
    for (int k = 1; k <= 8; ++k) {
        INFO("k = " << k);
        const Vec p = next_token_distribution(kLogits, with(1.0f, k));
        CHECK(nonzero(p) == k);
        for (int i = 0; i < k; ++i) CHECK(p[by_logit[i]] > 0.0f);
    }
    CHECK(nonzero(next_token_distribution(kLogits, with(1.0f, 50))) == 8); // k > V keeps all
    CHECK(arma::approx_equal(next_token_distribution(kLogits, with(1.0f, 1)),
                             next_token_distribution(kLogits, with(0.0f)), "absdiff", 0.0f));
}

TEST_CASE("top-p keeps the smallest set of most likely tokens whose mass reaches p", "[ch07][sampler]") {
    const Vec z = logits_of({0.2f, 0.5f, 0.3f});                       // by probability: id 1, id 2, id 0
    const Vec keep2 = next_token_distribution(z, with(1.0f, 0, 0.6f)); // 0.5 < 0.6 <= 0.5 + 0.3
    CHECK(nonzero(keep2) == 2);
    CHECK(keep2[0] == 0.0f);
    CHECK(keep2[1] == Approx(0.5 / 0.8).epsilon(1e-6)); // renormalised over the kept mass
    CHECK(keep2[2] == Approx(0.3 / 0.8).epsilon(1e-6));
    const Vec keep1 = next_token_distribution(z, with(1.0f, 0, 0.5f)); // the favourite alone reaches 0.5
    CHECK(nonzero(keep1) == 1);
    CHECK(keep1[1] == 1.0f);
    CHECK(nonzero(next_token_distribution(z, with(1.0f, 0, 0.01f))) == 1);
    CHECK(nonzero(next_token_distribution(z, with(1.0f, 0, 0.81f))) == 3);
    CHECK(nonzero(next_token_distribution(z, with(1.0f, 0, 1.0f))) == 3);
}

TEST_CASE("top-p applies to what top-k kept", "[ch07][sampler]") {
    // top-k 2 leaves ids 1 and 2 renormalised to 0.625 and 0.375; p = 0.6 then keeps only id 1
    const Vec p = next_token_distribution(logits_of({0.2f, 0.5f, 0.3f}), with(1.0f, 2, 0.6f));
    CHECK(nonzero(p) == 1);
    CHECK(p[1] == 1.0f);
}

TEST_CASE("sampled tokens follow the distribution", "[ch07][sampler]") {
    const std::vector<float> probs = {0.1f, 0.2f, 0.3f, 0.4f};
    const Vec z = logits_of(probs);
    const int N = 40000;
    std::vector<int> counts(probs.size(), 0);
    Rng rng(2024);
    for (int i = 0; i < N; ++i) ++counts.at(static_cast<size_t>(sample_token(z, with(1.0f), rng)));
    for (size_t v = 0; v < probs.size(); ++v) {
        INFO("token " << v << ": " << counts[v] << " of " << N);
        // 5 standard deviations of a binomial frequency, sqrt(p(1-p)/N) <= 0.0025: a wrong
        // sampler (off by one bin, or ignoring a token) misses by 0.1; a right one never fails
        const double sd = std::sqrt(probs[v] * (1 - probs[v]) / N);
        CHECK(std::abs(static_cast<double>(counts[v]) / N - probs[v]) < 5 * sd);
    }
}

TEST_CASE("sampling never draws a token that top-k or top-p removed", "[ch07][sampler]") {
    Rng rng(3);
    for (int i = 0; i < 2000; ++i) {
        const int32_t a = sample_token(kLogits, with(1.5f, 2), rng);
        REQUIRE((a == 4 || a == 1));
        const int32_t b = sample_token(logits_of({0.2f, 0.5f, 0.3f}), with(1.0f, 0, 0.6f), rng);
        REQUIRE(b != 0);
    }
}

TEST_CASE("the same seed draws the same tokens, another seed other tokens", "[ch07][sampler]") {
    const auto draw = [](uint64_t seed) {
        Rng rng(seed);
        std::vector<int32_t> out;
        for (int i = 0; i < 50; ++i) out.push_back(sample_token(kLogits, with(1.0f), rng));
        return out;
    };
    CHECK(draw(11) == draw(11));
    CHECK(draw(11) != draw(12)); // 50 draws from an 8-way distribution: equal only by design flaw
}

TEST_CASE("invalid sampling options are refused with an error naming the option", "[ch07][sampler]") {
    Rng rng;
    CHECK_THROWS_WITH(next_token_distribution(kLogits, with(-0.5f)), Contains("temperature"));
    CHECK_THROWS_WITH(next_token_distribution(kLogits, with(1.0f, -1)), Contains("top_k"));
    CHECK_THROWS_WITH(next_token_distribution(kLogits, with(1.0f, 0, 0.0f)), Contains("top_p"));
    CHECK_THROWS_WITH(next_token_distribution(kLogits, with(1.0f, 0, 1.5f)), Contains("top_p"));
    CHECK_THROWS_WITH(next_token_distribution(kLogits, with(std::nanf(""))), Contains("temperature"));
    CHECK_THROWS_WITH(sample_token(kLogits, with(1.0f, 0, -0.1f), rng), Contains("top_p"));
    CHECK_THROWS_AS(next_token_distribution(Vec(), with(1.0f)), Error);
}

TEST_CASE("greedy sampling checks its options and logits like every other mode", "[ch07][sampler]") {
    // temperature 0 takes a shortcut in sample_token; the shortcut must not skip the checks
    Rng rng;
    CHECK_THROWS_WITH(sample_token(kLogits, with(0.0f, -1), rng), Contains("top_k"));
    CHECK_THROWS_WITH(sample_token(kLogits, with(0.0f, 0, 2.0f), rng), Contains("top_p"));
    CHECK_THROWS_AS(sample_token(Vec(), with(0.0f), rng), Error);
    CHECK_THROWS_AS(next_token_distribution(Vec(), with(0.0f)), Error);
}
