// Exercise 7.5: one decoding step of one attention head with a KV cache.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

Vec kv_cache_step(Mat& k_cache, Mat& v_cache, const Vec& q, const Vec& k, const Vec& v) {
    // Append k and v as new columns; score q against every cached key (scaled by 1/sqrt(HS));
    // softmax the scores; return the weighted sum of the cached values.
    (void)k_cache;
    (void)v_cache;
    (void)q;
    (void)k;
    (void)v;
    GPTBOOK_FAIL("not implemented: exercise 7.5 (kv_cache_step in chapters/07_sampling/exercises/ex_7_5.cpp)");
}

} // namespace gptbook::exercises
