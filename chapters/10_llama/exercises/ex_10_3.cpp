// Exercise 10.3: grouped-query attention's head mapping, eq. (10.7), and the size of a KV cache.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

int kv_head_index(int h, int NH, int KVH) {
    // Groups of NH/KVH consecutive query heads share one key/value head.
    (void)h;
    (void)NH;
    (void)KVH;
    GPTBOOK_FAIL("not implemented: exercise 10.3 (kv_head_index in chapters/10_llama/exercises/ex_10_3.cpp)");
}

size_t kv_cache_floats(const GPTConfig& config) {
    // Keys and values, for every position of the context, in every layer. Mind n_kv_head = 0.
    (void)config;
    GPTBOOK_FAIL("not implemented: exercise 10.3 (kv_cache_floats in chapters/10_llama/exercises/ex_10_3.cpp)");
}

} // namespace gptbook::exercises
