// Shapes: V vocabulary.
#include "gptbook/sample/sampler.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/softmax.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace gptbook {

void SamplingOptions::validate() const {
    GPTBOOK_CHECK(temperature >= 0.0f, "sampling: temperature is " << temperature << ", expected >= 0 (0 = greedy)");
    GPTBOOK_CHECK(top_k >= 0, "sampling: top_k is " << top_k << ", expected >= 0 (0 = no limit)");
    GPTBOOK_CHECK(top_p > 0.0f && top_p <= 1.0f, "sampling: top_p is " << top_p << ", expected a value in (0, 1]");
}

Vec next_token_distribution(const Vec& logits, const SamplingOptions& options) {
    options.validate();
    const arma::uword V = logits.n_elem;
    GPTBOOK_CHECK(V > 0, "next_token_distribution: no logits");
    Vec probs(V, arma::fill::zeros);
    if (options.temperature == 0.0f) { // greedy: the limit of tau -> 0
        probs[logits.index_max()] = 1.0f;
        return probs;
    }
    // Token ids by decreasing logit (stable, so ties keep the lower id first).
    std::vector<arma::uword> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](arma::uword a, arma::uword b) { return logits[a] > logits[b]; });
    const arma::uword k = options.top_k > 0 ? std::min<arma::uword>(options.top_k, V) : V;
    Vec kept(k);
    for (arma::uword i = 0; i < k; ++i) kept[i] = logits[order[i]] / options.temperature; // eq. (7.1)
    softmax_inplace(kept.memptr(), k);
    arma::uword n = k;
    if (options.top_p < 1.0f) { // nucleus: the shortest prefix whose mass reaches top_p
        float mass = 0.0f;
        for (n = 0; n < k && mass < options.top_p; ++n) mass += kept[n];
        kept.head(n) /= mass;
    }
    for (arma::uword i = 0; i < n; ++i) probs[order[i]] = kept[i];
    return probs;
}

int32_t sample_token(const Vec& logits, const SamplingOptions& options, Rng& rng) {
    options.validate();
    GPTBOOK_CHECK(logits.n_elem > 0, "sample_token: no logits");
    if (options.temperature == 0.0f) return static_cast<int32_t>(logits.index_max());
    const Vec probs = next_token_distribution(logits, options);
    const float u = rng.uniform();
    float cdf = 0.0f;
    arma::uword last = 0;
    for (arma::uword v = 0; v < probs.n_elem; ++v) {
        if (probs[v] == 0.0f) continue;
        cdf += probs[v];
        last = v;
        if (u < cdf) return static_cast<int32_t>(v);
    }
    return static_cast<int32_t>(last); // rounding left the cdf a hair under 1
}

} // namespace gptbook
