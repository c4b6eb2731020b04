/**
 * @file
 * @brief GPU token and position embeddings, fused with the embedding dropout, and their
 *        gradients (chapters 02, 03 and 09): the mirror of nn/embedding and nn/positional.
 *
 * Shapes: B batch, T time, C channels, V vocabulary, N = B*T tokens. Every pointer is device
 * memory; a (C, N) matrix is column-major, one token per column (token t of sequence b is
 * column b*T + t), as on the CPU. Work is queued on `stream` and not waited for.
 */
#pragma once

#include <cstdint>
#include <cuda_runtime_api.h>
#include <vector>

namespace gptbook::cuda {

/**
 * @brief out = dropout(wte[:, token] + pos[:, t]) for every token: eqs. (2.1), (3.1), (5.5).
 * @param[out] out    (C, N)
 * @param[in]  tokens (N) ids in [0, V) (checked by the caller, on the host)
 * @param[in]  wte    (C, V) token embedding
 * @param[in]  pos    (C, >= T) position table: the learned wpe or the fixed sinusoids; nullptr
 *                    for none (RoPE turns queries and keys inside attention instead)
 * @param[in]  B, T, C sizes
 * @param[in]  dropout probability (0: none); element (c, n) uses draw n*C + c of `seed`, as
 *             dropout_forward on the CPU matrix
 * @param[in]  seed   names the mask
 * @param[in]  stream where the work is queued
 */
void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* pos, int B, int T, int C,
                     float dropout, uint64_t seed, cudaStream_t stream);

/// The plan of a deterministic embedding gradient: the token positions grouped by id (ascending
/// within a group), each group cut into segments that one GPU thread sums. Built on the host from
/// the batch, uploaded with it. Stored in one int array:
/// [order (N) | segment_start (S+1) | group_segment_start (G+1) | group_token (G)].
struct EmbeddingPlan {
    std::vector<int32_t> data; ///< the four arrays above, back to back
    int N = 0;                 ///< tokens
    int segments = 0;          ///< S
    int groups = 0;            ///< G: distinct token ids in the batch
};

/// Groups the positions of `tokens` by id and cuts each group into segments of at most
/// `segment_length` positions (a thread's serial loop).
EmbeddingPlan make_embedding_plan(const std::vector<int32_t>& tokens, int segment_length = 32);

/// Ints a device copy of any plan for N tokens needs at most: 4N + 2.
inline size_t embedding_plan_capacity(int N) { return 4 * static_cast<size_t>(N) + 2; }

/**
 * @brief dwte[:, id] += sum of dout's columns whose token is id: eq. (2.2). Deterministic: each
 * segment is summed in position order, then the segments of an id in order.
 * @param[in,out] dwte    (C, V) accumulates
 * @param[out]    scratch (C, plan.segments) segment sums (a (C, N) buffer is always enough)
 * @param[in]     dout    (C, N) gradient of the encoder output (after the dropout's backward)
 * @param[in]     plan    device copy of EmbeddingPlan::data
 * @param[in]     host_plan the same plan on the host, for its sizes
 * @param[in]     C       channels
 * @param[in]     stream  where the work is queued
 */
void embedding_backward(float* dwte, float* scratch, const float* dout, const int32_t* plan,
                        const EmbeddingPlan& host_plan, int C, cudaStream_t stream);

/**
 * @brief dwpe[:, t] += sum over sequences b of dout[:, b*T + t]: eq. (3.2), summed over b in
 * order, exactly as the CPU.
 * @param[in,out] dwpe (C, >= T) accumulates
 * @param[in]     dout (C, N)
 * @param[in]     B, T, C sizes
 * @param[in]     stream where the work is queued
 */
void positional_backward(float* dwpe, const float* dout, int B, int T, int C, cudaStream_t stream);

} // namespace gptbook::cuda
