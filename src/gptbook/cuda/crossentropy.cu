// Shapes: V vocabulary, N = B*T tokens; (V, N) is column-major, a token's logits contiguous.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/crossentropy.hpp"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;
constexpr int tokens_per_block = block_size / warp_size;
constexpr int mean_threads = 1024;

__global__ void crossentropy_forward_kernel(float* losses, float* probs, const float* logits, const int32_t* targets,
                                            int N, int V) {
    const int lane = threadIdx.x % warp_size;
    const int n = blockIdx.x * tokens_per_block + threadIdx.x / warp_size;
    if (n >= N) return;
    const float* z = logits + static_cast<size_t>(n) * V;
    float* p = probs + static_cast<size_t>(n) * V;
    float mx = -INFINITY;
    for (int v = lane; v < V; v += warp_size) mx = fmaxf(mx, z[v]);
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int v = lane; v < V; v += warp_size) {
        p[v] = expf(z[v] - mx);
        sum += p[v];
    }
    sum = warp_sum(sum);
    const float inv = 1.0f / sum;
    for (int v = lane; v < V; v += warp_size) p[v] *= inv;
    if (lane == 0) {
        const int32_t y = targets[n];
        losses[n] = y < 0 ? 0.0f : logf(sum) - (z[y] - mx); // eq. (6.1)
    }
}

// One block; thread j sums tokens j, j + 1024, ... in double, then a fixed tree adds the threads.
__global__ void mean_loss_kernel(double* accumulator, const float* losses, const int32_t* targets, int N) {
    __shared__ double shared_sum[warp_size];
    __shared__ int shared_count[warp_size];
    double sum = 0.0;
    int count = 0;
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
        if (targets[n] < 0) continue;
        sum += losses[n];
        ++count;
    }
    const int lane = threadIdx.x % warp_size, warp = threadIdx.x / warp_size;
    sum = warp_sum(sum);
    for (int offset = warp_size / 2; offset > 0; offset >>= 1) count += __shfl_xor_sync(full_mask, count, offset);
    if (lane == 0) {
        shared_sum[warp] = sum;
        shared_count[warp] = count;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    double total = 0.0;
    int scored = 0;
    for (int w = 0; w < static_cast<int>(blockDim.x / warp_size); ++w) {
        total += shared_sum[w];
        scored += shared_count[w];
    }
    // The CPU's crossentropy_forward returns float(total / scored); the caller adds that float.
    if (scored > 0) *accumulator += static_cast<double>(static_cast<float>(total / static_cast<double>(scored)));
}

__global__ void crossentropy_backward_kernel(float* dlogits, const float* probs, const int32_t* targets, float dloss,
                                             unsigned total, unsigned V) {
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int32_t y = targets[i / V];
    const int v = static_cast<int>(i % V);
    if (y < 0) {
        dlogits[i] = 0.0f;
        return;
    }
    float g = dloss * probs[i]; // eq. (6.2), the two terms in the CPU's order
    if (v == y) g -= dloss;
    dlogits[i] = g;
}

} // namespace

void crossentropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets, int N, int V,
                          cudaStream_t stream) {
    if (N == 0) return;
    crossentropy_forward_kernel<<<blocks_for(N, tokens_per_block), block_size, 0, stream>>>(losses, probs, logits,
                                                                                            targets, N, V);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void mean_loss(double* accumulator, const float* losses, const int32_t* targets, int N, cudaStream_t stream) {
    mean_loss_kernel<<<1, mean_threads, 0, stream>>>(accumulator, losses, targets, N);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

void crossentropy_backward(float* dlogits, const float* probs, const int32_t* targets, float dloss, int N, int V,
                           cudaStream_t stream) {
    const size_t total = static_cast<size_t>(N) * V;
    if (total == 0) return;
    check_index_range("crossentropy_backward", total);
    crossentropy_backward_kernel<<<blocks_for(total, block_size), block_size, 0, stream>>>(
        dlogits, probs, targets, dloss, static_cast<unsigned>(total), V);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace gptbook::cuda
