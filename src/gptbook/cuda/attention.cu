// Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS = C/NH, KV = KVH*HS,
// N = B*T tokens, BH = B*NH blocks.
#include "gptbook/cuda/attention.hpp"
#include "gptbook/cuda/common.cuh"

#include <algorithm>
#include <cmath>

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;
constexpr int rows_per_block = block_size / warp_size; // softmax: one warp per row

// Element idx of a (HS, T) head block bh = b*NH + h, as (d, t, h, b) from fastest to slowest.
struct HeadIndex {
    unsigned token; // b*T + t, the column in a (features, N) matrix
    unsigned head;  // h, the query head
    unsigned d;     // the channel inside the head
};
__device__ inline HeadIndex head_index(unsigned idx, unsigned T, unsigned NH, unsigned HS) {
    const unsigned d = idx % HS, rest = idx / HS;
    const unsigned t = rest % T, bh = rest / T;
    return {(bh / NH) * T + t, bh % NH, d};
}

// qkv (C + 2KV, N) -> q, k, v, each (HS, T) per block bh, blocks back to back. Query head h
// gets the key and value of its key/value head h / (NH/KVH), eq. (10.7): with grouped-query
// attention the heads of a group get copies of the same keys and values.
__global__ void split_qkv_kernel(float* q, float* k, float* v, const float* qkv, unsigned total, int T, int NH, int KVH,
                                 int HS) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const HeadIndex at = head_index(idx, T, NH, HS);
    const unsigned C = NH * HS, KV = KVH * HS;
    const float* col = qkv + static_cast<size_t>(at.token) * (C + 2 * KV);
    const unsigned kv = at.head / (NH / KVH) * HS + at.d; // eq. (10.7)
    q[idx] = col[at.head * HS + at.d];
    k[idx] = col[C + kv];
    v[idx] = col[C + KV + kv];
}

// The keys' and values' gradients back into dqkv: key/value head g's is the sum of its group's
// query heads' blocks, added in head order by one thread per element (deterministic, no atomics).
__global__ void merge_kv_kernel(float* dqkv, const float* dk, const float* dv, unsigned total, int T, int NH, int KVH,
                                int HS) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x; // over (KV, N): (d, g, token)
    if (idx >= total) return;
    const unsigned d = idx % HS, g = (idx / HS) % KVH, token = idx / HS / KVH;
    const unsigned b = token / T, t = token % T, group = NH / KVH, C = NH * HS, KV = KVH * HS;
    const size_t first =
        (static_cast<size_t>(b * NH + g * group) * T + t) * HS + d; // in the group's first head's block
    const size_t next = static_cast<size_t>(T) * HS;                // from one head's block to the next
    float sum_k = dk[first], sum_v = dv[first];
    for (unsigned j = 1; j < group; ++j) {
        sum_k += dk[first + j * next];
        sum_v += dv[first + j * next];
    }
    float* col = dqkv + static_cast<size_t>(token) * (C + 2 * KV);
    col[C + g * HS + d] = sum_k;
    col[C + KV + g * HS + d] = sum_v;
}

// (C, N) with heads side by side (the rows [0, C) of a matrix of `ld` rows) -> (HS, T) blocks,
// and back.
__global__ void split_heads_kernel(float* heads, const float* mat, unsigned total, int T, int NH, int HS, int ld) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const HeadIndex at = head_index(idx, T, NH, HS);
    heads[idx] = mat[static_cast<size_t>(at.token) * ld + at.head * HS + at.d];
}
__global__ void merge_heads_kernel(float* mat, const float* heads, unsigned total, int T, int NH, int HS, int ld) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const HeadIndex at = head_index(idx, T, NH, HS);
    mat[static_cast<size_t>(at.token) * ld + at.head * HS + at.d] = heads[idx];
}

// One warp per column (query t of block bh, r = bh*T + t): softmax over keys 0..t, eq. (4.1),
// zeros above, eq. (4.3); with dropout, also the dropped copy D that multiplies V.
__global__ void softmax_forward_kernel(float* att, float* dropped, int rows, int T, float p, float keep_scale,
                                       uint64_t seed) {
    const int lane = threadIdx.x % warp_size;
    const int r = blockIdx.x * rows_per_block + threadIdx.x / warp_size;
    if (r >= rows) return;
    const int t = r % T;
    float* a = att + static_cast<size_t>(r) * T;
    float mx = -INFINITY;
    for (int k = lane; k <= t; k += warp_size) mx = fmaxf(mx, a[k]);
    mx = warp_max(mx); // the shift cancels in the ratio and keeps exp() finite
    float sum = 0.0f;
    for (int k = lane; k <= t; k += warp_size) sum += expf(a[k] - mx);
    const float inv = 1.0f / warp_sum(sum);
    for (int k = lane; k < T; k += warp_size) {
        const float w = k <= t ? expf(a[k] - mx) * inv : 0.0f;
        a[k] = w;
        if (dropped != nullptr) {
            const size_t i = static_cast<size_t>(r) * T + k;
            dropped[i] = dropout_keep(seed, i, p) ? w * keep_scale : 0.0f; // eq. (5.5)
        }
    }
}

// D = dropout(A) again in backward, from the same seed: the mask is redrawn, not stored.
__global__ void dropout_att_kernel(float* dropped, const float* att, size_t total, float p, float keep_scale,
                                   uint64_t seed) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < total) dropped[i] = dropout_keep(seed, i, p) ? att[i] * keep_scale : 0.0f;
}

// In place: dL/dD -> (through the dropout mask) dL/dA -> dL/dS, eqs. (6.14) and (6.9), one warp
// per column; masked keys get no gradient.
__global__ void softmax_backward_kernel(float* datt, const float* att, int rows, int T, float p, float keep_scale,
                                        uint64_t seed) {
    const int lane = threadIdx.x % warp_size;
    const int r = blockIdx.x * rows_per_block + threadIdx.x / warp_size;
    if (r >= rows) return;
    const int t = r % T;
    const float* a = att + static_cast<size_t>(r) * T;
    float* d = datt + static_cast<size_t>(r) * T;
    const size_t base = static_cast<size_t>(r) * T;
    float dot = 0.0f;
    for (int k = lane; k <= t; k += warp_size) {
        const float g = p > 0.0f ? (dropout_keep(seed, base + k, p) ? d[k] * keep_scale : 0.0f) : d[k];
        dot += a[k] * g;
    }
    dot = warp_sum(dot); // every lane has read its d[k] before any lane writes below
    for (int k = lane; k < T; k += warp_size) {
        const float g = p > 0.0f ? (dropout_keep(seed, base + k, p) ? d[k] * keep_scale : 0.0f) : d[k];
        d[k] = k <= t ? a[k] * (g - dot) : 0.0f;
    }
}

// One block per query head h: the scores of the new token's query against the cached positions
// first .. first+count-1 (position q in column q % capacity), softmax, then the weighted values.
__global__ void attention_decode_kernel(float* out, const float* q, const float* k_cache, const float* v_cache,
                                        int first, int count, int capacity, int KV, int HS, int group, float scale) {
    extern __shared__ float scores[]; // (count)
    __shared__ float reduce[warp_size];
    const int h = blockIdx.x;
    const int kv = h / group * HS; // the first row of the key/value head, eq. (10.7)
    const float* qh = q + h * HS;
    for (int j = threadIdx.x; j < count; j += blockDim.x) { // eq. (4.2)
        const float* kh = k_cache + static_cast<size_t>((first + j) % capacity) * KV + kv;
        float s = 0.0f;
        for (int i = 0; i < HS; ++i) s += qh[i] * kh[i];
        scores[j] = s * scale;
    }
    __syncthreads();
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < count; j += blockDim.x) mx = fmaxf(mx, scores[j]);
    mx = block_max(mx, reduce);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        scores[j] = expf(scores[j] - mx);
        sum += scores[j];
    }
    const float inv = 1.0f / block_sum(sum, reduce); // block_sum's barrier also publishes scores[]
    for (int j = threadIdx.x; j < count; j += blockDim.x) scores[j] *= inv; // eq. (4.1)
    __syncthreads();
    // eq. (4.4). The positions lie in at most two runs of the ring's columns: from first's slot to
    // the ring's end, then (once the ring has turned) from column 0.
    const int start = first % capacity, run = min(count, capacity - start);
    for (int i = threadIdx.x; i < HS; i += blockDim.x) {
        float y = 0.0f;
        for (int j = 0; j < run; ++j) y += scores[j] * v_cache[static_cast<size_t>(start + j) * KV + kv + i];
        for (int j = run; j < count; ++j) y += scores[j] * v_cache[static_cast<size_t>(j - run) * KV + kv + i];
        out[h * HS + i] = y;
    }
}

// C = alpha op(A) op(B) + beta C for each of `batch` (m, n) blocks at fixed strides.
void gemm_batched(Context& ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                  const float* a, int lda, long long stride_a, const float* b, int ldb, long long stride_b, float beta,
                  float* c, int ldc, long long stride_c, int batch) {
    GPTBOOK_CUBLAS_CHECK(cublasGemmStridedBatchedEx(ctx.cublas, ta, tb, m, n, k, &alpha, a, CUDA_R_32F, lda, stride_a,
                                                    b, CUDA_R_32F, ldb, stride_b, &beta, c, CUDA_R_32F, ldc, stride_c,
                                                    batch, ctx.compute_type(), CUBLAS_GEMM_DEFAULT));
}

// The scratch buffer: [q | k | v | y | dq | dk | dv], each (C, N) floats (k, v, dk and dv hold
// one block per query head, so grouped-query attention needs no more), then [D | datt], each
// (T, T*BH).
struct Scratch {
    float *q, *k, *v, *y, *dq, *dk, *dv, *dropped, *datt;
    Scratch(float* base, size_t CN, size_t TTBH)
        : q(base), k(q + CN), v(k + CN), y(v + CN), dq(y + CN), dk(dq + CN), dv(dk + CN), dropped(dv + CN),
          datt(dropped + TTBH) {}
};

} // namespace

size_t attention_scratch_floats(int B, int T, int C, int NH) {
    const size_t CN = static_cast<size_t>(C) * B * T, TTBH = static_cast<size_t>(T) * T * B * NH;
    return 7 * CN + 2 * TTBH;
}

void attention_forward(Context& ctx, float* out, float* att, float* scratch, const float* qkv, int B, int T, int C,
                       int NH, int KVH, float dropout, uint64_t seed) {
    const int HS = C / NH, BH = B * NH, rows = BH * T;
    const size_t CN = static_cast<size_t>(C) * B * T, TT = static_cast<size_t>(T) * T;
    if (CN == 0) return;
    check_index_range("attention_forward", std::max(CN + 2 * CN / NH * KVH, TT * BH)); // qkv is (C + 2KV, N)
    const Scratch s(scratch, CN, TT * BH);
    const float scale = 1.0f / sqrtf(static_cast<float>(HS));
    const float keep_scale = dropout > 0.0f ? 1.0f / (1.0f - dropout) : 1.0f;
    split_qkv_kernel<<<blocks_for(CN, block_size), block_size, 0, ctx.stream>>>(
        s.q, s.k, s.v, qkv, static_cast<unsigned>(CN), T, NH, KVH, HS);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    // eq. (4.2): S = K^T Q / sqrt(HS), (T, T) per block, column t = query t
    gemm_batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, HS, scale, s.k, HS, T * HS, s.q, HS, T * HS, 0.0f, att, T, TT,
                 BH);
    float* dropped = dropout > 0.0f ? s.dropped : nullptr;
    softmax_forward_kernel<<<blocks_for(rows, rows_per_block), block_size, 0, ctx.stream>>>(att, dropped, rows, T,
                                                                                            dropout, keep_scale, seed);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    // eq. (4.4): Y = V D, (HS, T) per block
    const float* used = dropped != nullptr ? dropped : att;
    gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, HS, T, T, 1.0f, s.v, HS, T * HS, used, T, TT, 0.0f, s.y, HS, T * HS,
                 BH);
    merge_heads_kernel<<<blocks_for(CN, block_size), block_size, 0, ctx.stream>>>(out, s.y, static_cast<unsigned>(CN),
                                                                                  T, NH, HS, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void attention_backward(Context& ctx, float* dqkv, float* scratch, const float* dout, const float* qkv,
                        const float* att, int B, int T, int C, int NH, int KVH, float dropout, uint64_t seed) {
    const int HS = C / NH, BH = B * NH, rows = BH * T, QKV = C + 2 * KVH * HS;
    const size_t CN = static_cast<size_t>(C) * B * T, TT = static_cast<size_t>(T) * T;
    if (CN == 0) return;
    check_index_range("attention_backward", std::max(CN + 2 * CN / NH * KVH, TT * BH));
    const Scratch s(scratch, CN, TT * BH);
    const float scale = 1.0f / sqrtf(static_cast<float>(HS));
    const float keep_scale = dropout > 0.0f ? 1.0f / (1.0f - dropout) : 1.0f;
    split_qkv_kernel<<<blocks_for(CN, block_size), block_size, 0, ctx.stream>>>(
        s.q, s.k, s.v, qkv, static_cast<unsigned>(CN), T, NH, KVH, HS);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    float* dy = s.y; // dL/dY in head blocks
    split_heads_kernel<<<blocks_for(CN, block_size), block_size, 0, ctx.stream>>>(dy, dout, static_cast<unsigned>(CN),
                                                                                  T, NH, HS, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    const float* used = att;
    if (dropout > 0.0f) {
        dropout_att_kernel<<<blocks_for(TT * BH, block_size), block_size, 0, ctx.stream>>>(s.dropped, att, TT * BH,
                                                                                           dropout, keep_scale, seed);
        GPTBOOK_CUDA_CHECK_LAUNCH();
        used = s.dropped;
    }
    // dL/dD = V^T dY (column t = query t), and eq. (6.10): dV = dY D^T
    gemm_batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, HS, 1.0f, s.v, HS, T * HS, dy, HS, T * HS, 0.0f, s.datt, T, TT,
                 BH);
    gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, HS, T, T, 1.0f, dy, HS, T * HS, used, T, TT, 0.0f, s.dv, HS, T * HS,
                 BH);
    softmax_backward_kernel<<<blocks_for(rows, rows_per_block), block_size, 0, ctx.stream>>>(s.datt, att, rows, T,
                                                                                             dropout, keep_scale, seed);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    // eqs. (6.11), (6.12): dQ = K dS / sqrt(HS), dK = Q dS^T / sqrt(HS)
    gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, HS, T, T, scale, s.k, HS, T * HS, s.datt, T, TT, 0.0f, s.dq, HS, T * HS,
                 BH);
    gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, HS, T, T, scale, s.q, HS, T * HS, s.datt, T, TT, 0.0f, s.dk, HS, T * HS,
                 BH);
    merge_heads_kernel<<<blocks_for(CN, block_size), block_size, 0, ctx.stream>>>(dqkv, s.dq, static_cast<unsigned>(CN),
                                                                                  T, NH, HS, QKV);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    const size_t KVN = CN / NH * KVH; // the (KV, N) elements of the keys (and of the values)
    merge_kv_kernel<<<blocks_for(KVN, block_size), block_size, 0, ctx.stream>>>(
        dqkv, s.dk, s.dv, static_cast<unsigned>(KVN), T, NH, KVH, HS);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void attention_decode(float* out, float* k_cache, float* v_cache, const float* qkv, int p, int capacity, int C, int NH,
                      int KVH, cudaStream_t stream) {
    GPTBOOK_CHECK(NH > 0 && KVH > 0 && NH % KVH == 0 && C % NH == 0 && capacity > 0 && p >= 0,
                  "attention_decode: C=" << C << ", NH=" << NH << ", KVH=" << KVH << ", capacity=" << capacity
                                         << ", position " << p << "; expected KVH dividing NH dividing C, a positive "
                                         << "capacity and a position >= 0");
    const int HS = C / NH, KV = KVH * HS;
    const int first = std::max(0, p - capacity + 1), count = p - first + 1; // positions first..p, at most `capacity`
    const size_t shared_bytes = static_cast<size_t>(count) * sizeof(float);
    GPTBOOK_CHECK(shared_bytes <= 48 * 1024, "attention_decode: " << count << " cached positions exceed the kernel's "
                                                                  << "shared memory (12288 at most)");
    // The token's key and value (rows [C, C+KV) and [C+KV, C+2KV) of its qkv) into its slot of the
    // ring. In a full ring that slot held position p - capacity, which no query sees any more.
    const size_t slot = static_cast<size_t>(p % capacity) * KV;
    GPTBOOK_CUDA_CHECK(cudaMemcpyAsync(k_cache + slot, qkv + C, KV * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    GPTBOOK_CUDA_CHECK(
        cudaMemcpyAsync(v_cache + slot, qkv + C + KV, KV * sizeof(float), cudaMemcpyDeviceToDevice, stream));
    const float scale = 1.0f / sqrtf(static_cast<float>(HS));
    attention_decode_kernel<<<NH, 128, shared_bytes, stream>>>(out, qkv, k_cache, v_cache, first, count, capacity, KV,
                                                               HS, NH / KVH, scale);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
