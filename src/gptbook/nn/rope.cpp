// Shapes: B batch, T time, NH query heads, KVH key/value heads, HS head size, N = B*T tokens.
#include "gptbook/nn/rope.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <vector>

namespace gptbook {

float rope_angle(int p, int i, int HS, float theta) {
    const double freq = std::pow(static_cast<double>(theta), -2.0 * i / HS);
    return static_cast<float>(p * freq);
}

namespace {

// Turns the query and key heads of every token by +angle (sign = 1) or -angle (sign = -1).
void rotate(const char* fn, Mat& qkv, int B, int T, int NH, int HS, float theta, int pos0, float sign) {
    GPTBOOK_CHECK(B > 0 && T > 0 && NH > 0 && HS > 0 && HS % 2 == 0 && pos0 >= 0,
                  fn << ": B=" << B << ", T=" << T << ", NH=" << NH << ", HS=" << HS << ", pos0=" << pos0
                     << "; expected positive sizes, an even head size and pos0 >= 0");
    const int C = NH * HS;
    GPTBOOK_CHECK(qkv.n_rows > static_cast<arma::uword>(C) && (qkv.n_rows - C) % (2 * HS) == 0,
                  fn << ": qkv has " << qkv.n_rows << " rows, expected C + 2*KVH*HS with C = NH*HS = " << C);
    GPTBOOK_CHECK_SHAPE(fn, "qkv", qkv, qkv.n_rows, B * T);
    const int KVH = static_cast<int>(qkv.n_rows - C) / (2 * HS);
    const int heads = NH + KVH; // the query heads, then the key heads right after them
    const int pairs = HS / 2;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; ++t) {
        std::vector<float> cos_phi(pairs), sin_phi(pairs); // one position's angles serve every head
        for (int i = 0; i < pairs; ++i) {
            const float phi = rope_angle(pos0 + t, i, HS, theta);
            cos_phi[i] = std::cos(phi);
            sin_phi[i] = sign * std::sin(phi);
        }
        for (int b = 0; b < B; ++b) {
            float* col = qkv.colptr(static_cast<arma::uword>(b) * T + t);
            for (int h = 0; h < heads; ++h) {
                float* x = col + h * HS;
                for (int i = 0; i < pairs; ++i) { // eq. (10.3), or (10.4) with sign = -1
                    const float x0 = x[2 * i], x1 = x[2 * i + 1];
                    x[2 * i] = cos_phi[i] * x0 - sin_phi[i] * x1;
                    x[2 * i + 1] = sin_phi[i] * x0 + cos_phi[i] * x1;
                }
            }
        }
    }
}

} // namespace

void rope_forward(Mat& qkv, int B, int T, int NH, int HS, float theta, int pos0) {
    rotate("rope_forward", qkv, B, T, NH, HS, theta, pos0, 1.0f);
}

void rope_backward(Mat& dqkv, int B, int T, int NH, int HS, float theta, int pos0) {
    rotate("rope_backward", dqkv, B, T, NH, HS, theta, pos0, -1.0f);
}

} // namespace gptbook
