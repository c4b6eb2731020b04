// Solution to exercise 7.5: one decoding step of one attention head with a KV cache.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>

namespace gptbook::exercises {

Vec kv_cache_step(Mat& k_cache, Mat& v_cache, const Vec& q, const Vec& k, const Vec& v) {
    const arma::uword HS = q.n_elem;
    GPTBOOK_CHECK(k.n_elem == HS && v.n_elem == HS && k_cache.n_rows == HS && v_cache.n_rows == HS &&
                      k_cache.n_cols == v_cache.n_cols,
                  "kv_cache_step: expected q, k, v of "
                      << HS << " and caches of " << HS << " rows with as many "
                      << "columns; found k " << k.n_elem << ", v " << v.n_elem << ", caches (" << k_cache.n_rows
                      << " x " << k_cache.n_cols << ") and (" << v_cache.n_rows << " x " << v_cache.n_cols << ")");
    k_cache.insert_cols(k_cache.n_cols, k);                           // (HS, t+1): the new token's key joins the cache
    v_cache.insert_cols(v_cache.n_cols, v);                           // (HS, t+1)
    Vec scores = k_cache.t() * q / std::sqrt(static_cast<float>(HS)); // (t+1), eq. (4.2) for one query
    scores = arma::exp(scores - scores.max());                        // eq. (4.1), stable
    scores /= arma::accu(scores);
    return v_cache * scores; // (HS), eq. (4.4)
}

} // namespace gptbook::exercises
