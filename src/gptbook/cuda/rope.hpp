/**
 * @file
 * @brief GPU rotary position embeddings, in place on the fused qkv, and their gradient
 *        (chapters 09, 10): the mirror of nn/rope.
 *
 * Shapes: B batch, T time, HS head size (even), NH query heads, KVH key/value heads, C = NH*HS,
 * QKV = C + 2 KVH HS, N = B*T tokens. The queries (rows [0, C) of qkv) and the keys (rows
 * [C, C + KVH HS)) are turned pair of channels by pair of channels, channels 2i and 2i+1 of a
 * head forming pair i; the values are not turned. Token t of sequence b (column b*T + t) is at
 * position pos0 + t. The angles are the CPU's rope_angle to the float: the frequency in double,
 * the angle rounded to float once. Device pointers; work is queued on `stream`.
 */
#pragma once

#include <cuda_runtime_api.h>

namespace gptbook::cuda {

/**
 * @brief Turns every query and key of a batch by its position, eq. (10.3): for pair i at position
 * p, with phi = p theta^(-2i/HS), (x_2i, x_2i+1) becomes (cos phi x_2i - sin phi x_2i+1,
 * sin phi x_2i + cos phi x_2i+1).
 * @param[in,out] qkv    (QKV, N)
 * @param[in]     B, T   the batch
 * @param[in]     NH     query heads
 * @param[in]     KVH    key/value heads
 * @param[in]     HS     head size (even)
 * @param[in]     theta  the base (Llama: 10000)
 * @param[in]     pos0   position of each sequence's first token (0 in training; the cache's length when decoding)
 * @param[in]     stream where the work is queued
 */
void rope_forward(float* qkv, int B, int T, int NH, int KVH, int HS, float theta, int pos0, cudaStream_t stream);

/**
 * @brief The gradient through rope_forward, in place, eq. (10.4): the transpose of a rotation is
 * the rotation by the opposite angle. Same arguments as rope_forward, with dqkv (QKV, N) in place
 * of qkv.
 */
void rope_backward(float* dqkv, int B, int T, int NH, int KVH, int HS, float theta, int pos0, cudaStream_t stream);

} // namespace gptbook::cuda
