// Solution to exercise 7.1: top-k filtering.
#include "exercises.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace gptbook::exercises {

Vec top_k_filter(const Vec& probs, int k) {
    const arma::uword V = probs.n_elem;
    if (k <= 0 || static_cast<arma::uword>(k) >= V) return probs;
    std::vector<arma::uword> order(V); // token ids, most likely first, ties by id
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](arma::uword a, arma::uword b) { return probs[a] > probs[b]; });
    Vec out(V, arma::fill::zeros);
    float mass = 0.0f;
    for (int i = 0; i < k; ++i) {
        out[order[i]] = probs[order[i]];
        mass += probs[order[i]];
    }
    return out / mass;
}

} // namespace gptbook::exercises
