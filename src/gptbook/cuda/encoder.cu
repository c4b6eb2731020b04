// Shapes: B batch, T time, C channels, V vocabulary, N = B*T tokens; (C, N) is column-major.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/encoder.hpp"

#include <algorithm>
#include <numeric>

namespace gptbook::cuda {

namespace {

// One thread per element of out; consecutive threads take consecutive channels of a token, so
// every read and write of a warp is one contiguous 128-byte line.
__global__ void encoder_forward_kernel(float* out, const int32_t* tokens, const float* wte, const float* pos,
                                       unsigned T, unsigned C, unsigned NC, float p, float keep_scale, uint64_t seed) {
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= NC) return;
    const unsigned n = i / C, c = i % C, t = n % T;
    float x = wte[static_cast<size_t>(tokens[n]) * C + c];                      // eq. (2.1)
    if (pos != nullptr) x += pos[static_cast<size_t>(t) * C + c];               // eq. (3.1); RoPE adds none here
    out[i] = p > 0.0f ? (dropout_keep(seed, i, p) ? x * keep_scale : 0.0f) : x; // eq. (5.5)
}

// Stage 1 of the embedding gradient: thread (segment s, channel c) sums its segment's columns.
__global__ void embedding_segments_kernel(float* scratch, const float* dout, const int32_t* order,
                                          const int32_t* segment_start, int C) {
    const int s = blockIdx.x, c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float sum = 0.0f;
    for (int j = segment_start[s]; j < segment_start[s + 1]; ++j) sum += dout[static_cast<size_t>(order[j]) * C + c];
    scratch[static_cast<size_t>(s) * C + c] = sum;
}

// Stage 2: thread (group g, channel c) adds its token's segment sums, in order, to dwte.
__global__ void embedding_groups_kernel(float* dwte, const float* scratch, const int32_t* group_segment_start,
                                        const int32_t* group_token, int C) {
    const int g = blockIdx.x, c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float* dst = dwte + static_cast<size_t>(group_token[g]) * C + c;
    float acc = *dst;
    for (int s = group_segment_start[g]; s < group_segment_start[g + 1]; ++s)
        acc += scratch[static_cast<size_t>(s) * C + c];
    *dst = acc; // eq. (2.2)
}

// Thread (t, c) owns dwpe[c, t]: nothing else writes it, so no atomics, and b runs in order.
__global__ void positional_backward_kernel(float* dwpe, const float* dout, int B, int T, int C) {
    const size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<size_t>(T) * C) return;
    float acc = dwpe[i];
    for (int b = 0; b < B; ++b) acc += dout[static_cast<size_t>(b) * T * C + i]; // eq. (3.2)
    dwpe[i] = acc;
}

constexpr int block_size = 256;
constexpr int channel_block = 128;

} // namespace

void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* pos, int B, int T, int C,
                     float dropout, uint64_t seed, cudaStream_t stream) {
    const size_t NC = static_cast<size_t>(B) * T * C;
    if (NC == 0) return;
    check_index_range("encoder_forward", NC);
    const float keep_scale = dropout > 0.0f ? 1.0f / (1.0f - dropout) : 1.0f;
    encoder_forward_kernel<<<blocks_for(NC, block_size), block_size, 0, stream>>>(
        out, tokens, wte, pos, T, C, static_cast<unsigned>(NC), dropout, keep_scale, seed);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

EmbeddingPlan make_embedding_plan(const std::vector<int32_t>& tokens, int segment_length) {
    EmbeddingPlan plan;
    plan.N = static_cast<int>(tokens.size());
    std::vector<int32_t> order(tokens.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return tokens[a] < tokens[b]; });
    std::vector<int32_t> segment_start, group_segment_start, group_token;
    for (int j = 0; j < plan.N;) {
        int end = j; // the group of positions [j, end) share one token id
        while (end < plan.N && tokens[order[end]] == tokens[order[j]]) ++end;
        group_token.push_back(tokens[order[j]]);
        group_segment_start.push_back(static_cast<int32_t>(segment_start.size()));
        for (int s = j; s < end; s += segment_length) segment_start.push_back(s);
        j = end;
    }
    plan.segments = static_cast<int>(segment_start.size());
    plan.groups = static_cast<int>(group_token.size());
    segment_start.push_back(plan.N);
    group_segment_start.push_back(plan.segments);
    plan.data = std::move(order);
    plan.data.insert(plan.data.end(), segment_start.begin(), segment_start.end());
    plan.data.insert(plan.data.end(), group_segment_start.begin(), group_segment_start.end());
    plan.data.insert(plan.data.end(), group_token.begin(), group_token.end());
    return plan;
}

void embedding_backward(float* dwte, float* scratch, const float* dout, const int32_t* plan,
                        const EmbeddingPlan& host_plan, int C, cudaStream_t stream) {
    if (host_plan.groups == 0) return;
    const int32_t* order = plan;
    const int32_t* segment_start = order + host_plan.N;
    const int32_t* group_segment_start = segment_start + host_plan.segments + 1;
    const int32_t* group_token = group_segment_start + host_plan.groups + 1;
    const dim3 segments(host_plan.segments, blocks_for(C, channel_block));
    embedding_segments_kernel<<<segments, channel_block, 0, stream>>>(scratch, dout, order, segment_start, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
    const dim3 groups(host_plan.groups, blocks_for(C, channel_block));
    embedding_groups_kernel<<<groups, channel_block, 0, stream>>>(dwte, scratch, group_segment_start, group_token, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void positional_backward(float* dwpe, const float* dout, int B, int T, int C, cudaStream_t stream) {
    const size_t TC = static_cast<size_t>(T) * C;
    if (TC == 0) return;
    positional_backward_kernel<<<blocks_for(TC, block_size), block_size, 0, stream>>>(dwpe, dout, B, T, C);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
