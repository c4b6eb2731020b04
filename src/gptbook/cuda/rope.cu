// Shapes: B batch, T time, NH query heads, KVH key/value heads, HS head size, N = B*T tokens.
#include "gptbook/cuda/common.cuh"
#include "gptbook/cuda/rope.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::cuda {

namespace {

constexpr int block_size = 256;

// One thread per (pair i, token n): it computes the pair's angle once and turns pair i of every
// query and key head of the token (they all share the position). sign = -1 turns backwards.
__global__ void rope_kernel(float* qkv, unsigned pairs, unsigned total, int T, int heads, int ld, int HS, float theta,
                            int pos0, float sign) {
    const unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const unsigned i = idx % pairs, n = idx / pairs;
    const int p = pos0 + static_cast<int>(n % T);
    // nn/rope.cpp's rope_angle: the frequency in double, then the angle rounded to float once.
    const double freq = pow(static_cast<double>(theta), -2.0 * i / HS);
    const float phi = static_cast<float>(p * freq);
    const float c = cosf(phi), s = sign * sinf(phi);
    float* col = qkv + static_cast<size_t>(n) * ld;
    for (int h = 0; h < heads; ++h) { // the query heads, then the key heads right after them
        float* x = col + h * HS + 2 * i;
        const float x0 = x[0], x1 = x[1];
        x[0] = c * x0 - s * x1; // eq. (10.3), or (10.4) with sign = -1
        x[1] = s * x0 + c * x1;
    }
}

void rotate(const char* fn, float* qkv, int B, int T, int NH, int KVH, int HS, float theta, int pos0, float sign,
            cudaStream_t stream) {
    GPTBOOK_CHECK(B > 0 && T > 0 && NH > 0 && KVH > 0 && HS > 0 && HS % 2 == 0 && pos0 >= 0,
                  fn << ": B=" << B << ", T=" << T << ", NH=" << NH << ", KVH=" << KVH << ", HS=" << HS
                     << ", pos0=" << pos0 << "; expected positive sizes, an even head size and pos0 >= 0");
    const size_t total = static_cast<size_t>(B) * T * (HS / 2);
    const int ld = (NH + 2 * KVH) * HS; // the rows of qkv
    check_index_range(fn, static_cast<size_t>(B) * T * ld);
    rope_kernel<<<blocks_for(total, block_size), block_size, 0, stream>>>(qkv, HS / 2, static_cast<unsigned>(total), T,
                                                                          NH + KVH, ld, HS, theta, pos0, sign);
    GPTBOOK_CUDA_CHECK_LAUNCH();
}

} // namespace

void rope_forward(float* qkv, int B, int T, int NH, int KVH, int HS, float theta, int pos0, cudaStream_t stream) {
    rotate("rope_forward", qkv, B, T, NH, KVH, HS, theta, pos0, 1.0f, stream);
}

void rope_backward(float* dqkv, int B, int T, int NH, int KVH, int HS, float theta, int pos0, cudaStream_t stream) {
    rotate("rope_backward", dqkv, B, T, NH, KVH, HS, theta, pos0, -1.0f, stream);
}

} // namespace gptbook::cuda
