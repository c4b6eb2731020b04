// Solution to exercise 10.3: grouped-query attention's head mapping, eq. (10.7), and the size of a
// KV cache.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

int kv_head_index(int h, int NH, int KVH) {
    GPTBOOK_CHECK(NH > 0 && KVH > 0 && NH % KVH == 0, "kv_head_index: KVH=" << KVH << " key/value heads for NH=" << NH
                                                                            << " query heads; KVH must divide NH");
    GPTBOOK_CHECK(h >= 0 && h < NH, "kv_head_index: query head " << h << " of NH=" << NH);
    const int group = NH / KVH; // query heads per key/value head
    return h / group;           // eq. (10.7)
}

size_t kv_cache_floats(const GPTConfig& config) {
    const size_t L = config.n_layer, T = config.block_size, HS = config.n_embd / config.n_head;
    const size_t KVH = config.n_kv_head > 0 ? config.n_kv_head : config.n_head;
    return 2 * L * T * KVH * HS; // a key and a value of KVH*HS floats per position and layer
}

} // namespace gptbook::exercises
