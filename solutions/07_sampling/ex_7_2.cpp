// Solution to exercise 7.2: top-p (nucleus) filtering.
#include "exercises.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace gptbook::exercises {

Vec top_p_filter(const Vec& probs, float p) {
    const arma::uword V = probs.n_elem;
    if (p >= 1.0f) return probs;
    std::vector<arma::uword> order(V); // token ids, most likely first, ties by id
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](arma::uword a, arma::uword b) { return probs[a] > probs[b]; });
    Vec out(V, arma::fill::zeros);
    float mass = 0.0f;
    for (arma::uword i = 0; i < V && mass < p; ++i) { // the shortest prefix whose mass reaches p
        out[order[i]] = probs[order[i]];
        mass += probs[order[i]];
    }
    return out / mass;
}

} // namespace gptbook::exercises
