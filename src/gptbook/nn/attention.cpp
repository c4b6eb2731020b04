// Shapes: B batch, T time, C channels, NH heads, HS head size, N = B*T tokens.
#include "gptbook/nn/attention.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/softmax.hpp"

#include <cmath>

namespace gptbook {

namespace {

void check_attention(const char* fn, const Mat& qkv, const Mat& att, int B, int T, int NH, float dropout) {
    GPTBOOK_CHECK(dropout >= 0.0f && dropout < 1.0f,
                  fn << ": dropout is " << dropout << ", expected a probability in [0, 1)");
    GPTBOOK_CHECK(B > 0 && T > 0 && NH > 0,
                  fn << ": B=" << B << ", T=" << T << ", NH=" << NH << "; expected positive sizes");
    GPTBOOK_CHECK(qkv.n_rows % (3 * NH) == 0,
                  fn << ": qkv has " << qkv.n_rows << " rows, expected 3*C with C divisible by NH=" << NH);
    GPTBOOK_CHECK_SHAPE(fn, "qkv", qkv, qkv.n_rows, B * T);
    GPTBOOK_CHECK_SHAPE(fn, "att", att, T, T * B * NH);
}

// The (T, T) block of attention weights of sequence b, head h.
float* att_block(Mat& att, int T, int NH, int b, int h) { return att.colptr(static_cast<arma::uword>(b * NH + h) * T); }
const float* att_block(const Mat& att, int T, int NH, int b, int h) {
    return att.colptr(static_cast<arma::uword>(b * NH + h) * T);
}

// D = dropout(A) for one (T, T) block; element (k, t) of block bh is draw (bh*T + t)*T + k.
void dropout_block(float* dst, const float* a, int T, float p, uint64_t seed, int bh) {
    const float scale = 1.0f / (1.0f - p);
    const uint64_t base = static_cast<uint64_t>(bh) * T * T;
    for (int i = 0; i < T * T; ++i) dst[i] = dropout_keep(seed, base + i, p) ? a[i] * scale : 0.0f;
}

} // namespace

void attention_forward(Mat& out, Mat& att, const Mat& qkv, int B, int T, int NH, float dropout, uint64_t seed) {
    check_attention("attention_forward", qkv, att, B, T, NH, dropout);
    const int C = static_cast<int>(qkv.n_rows) / 3, HS = C / NH, ld = 3 * C;
    GPTBOOK_CHECK_SHAPE("attention_forward", "out", out, C, B * T);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    // One (sequence, head) pair per iteration; BLAS calls inside an OpenMP region run on one
    // thread, so the two levels of parallelism do not fight over the cores.
#pragma omp parallel
    {
        Mat dropped(dropout > 0.0f ? T : 0, dropout > 0.0f ? T : 0);
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * NH; ++bh) {
            const int b = bh / NH, h = bh % NH;
            const float* q = qkv.colptr(b * T) + h * HS; // (HS, T), leading dimension 3C
            const float* k = q + C;
            const float* v = q + 2 * C;
            float* a = att_block(att, T, NH, b, h);                       // (T, T), column t = query t
            gemm(true, false, T, T, HS, scale, k, ld, q, ld, 0.0f, a, T); // eq. (4.2)
            for (int t = 0; t < T; ++t) {
                float* col = a + static_cast<size_t>(t) * T;
                softmax_inplace(col, t + 1);                           // eq. (4.1) over keys 0..t
                for (int key = t + 1; key < T; ++key) col[key] = 0.0f; // eq. (4.3)
            }
            const float* used = a;
            if (dropout > 0.0f) {
                dropout_block(dropped.memptr(), a, T, dropout, seed, bh);
                used = dropped.memptr();
            }
            float* y = out.colptr(b * T) + h * HS;                          // (HS, T), leading dimension C
            gemm(false, false, HS, T, T, 1.0f, v, ld, used, T, 0.0f, y, C); // eq. (4.4)
        }
    }
}

void attention_forward_naive(Mat& out, Mat& att, const Mat& qkv, int B, int T, int NH) {
    check_attention("attention_forward_naive", qkv, att, B, T, NH, 0.0f);
    const int C = static_cast<int>(qkv.n_rows) / 3, HS = C / NH;
    GPTBOOK_CHECK_SHAPE("attention_forward_naive", "out", out, C, B * T);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    for (int b = 0; b < B; ++b) {
        for (int h = 0; h < NH; ++h) {
            float* a = att_block(att, T, NH, b, h);
            for (int t = 0; t < T; ++t) {
                float* col = a + static_cast<size_t>(t) * T;
                for (int key = 0; key < T; ++key) {
                    if (key > t) { // causal mask
                        col[key] = 0.0f;
                        continue;
                    }
                    float s = 0.0f;
                    for (int i = 0; i < HS; ++i) s += qkv(h * HS + i, b * T + t) * qkv(C + h * HS + i, b * T + key);
                    col[key] = s * scale;
                }
                softmax_inplace(col, t + 1);
                for (int i = 0; i < HS; ++i) {
                    float y = 0.0f;
                    for (int key = 0; key <= t; ++key) y += col[key] * qkv(2 * C + h * HS + i, b * T + key);
                    out(h * HS + i, b * T + t) = y;
                }
            }
        }
    }
}

void attention_backward(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH, float dropout,
                        uint64_t seed) {
    check_attention("attention_backward", qkv, att, B, T, NH, dropout);
    const int C = static_cast<int>(qkv.n_rows) / 3, HS = C / NH, ld = 3 * C;
    GPTBOOK_CHECK_SHAPE("attention_backward", "dqkv", dqkv, 3 * C, B * T);
    GPTBOOK_CHECK_SHAPE("attention_backward", "dout", dout, C, B * T);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
#pragma omp parallel
    {
        Mat datt(T, T), dscores(T, T);
        Mat dropped(dropout > 0.0f ? T : 0, dropout > 0.0f ? T : 0);
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * NH; ++bh) {
            const int b = bh / NH, h = bh % NH;
            const float* q = qkv.colptr(b * T) + h * HS;
            const float* k = q + C;
            const float* v = q + 2 * C;
            float* dq = dqkv.colptr(b * T) + h * HS;
            float* dk = dq + C;
            float* dv = dq + 2 * C;
            const float* dy = dout.colptr(b * T) + h * HS; // (HS, T), leading dimension C
            const float* a = att_block(att, T, NH, b, h);
            const float* used = a;
            if (dropout > 0.0f) {
                dropout_block(dropped.memptr(), a, T, dropout, seed, bh); // the same mask, redrawn
                used = dropped.memptr();
            }
            gemm(false, true, HS, T, T, 1.0f, dy, C, used, T, 1.0f, dv, ld);         // eq. (6.10)
            gemm(true, false, T, T, HS, 1.0f, v, ld, dy, C, 0.0f, datt.memptr(), T); // dL/dD
            if (dropout > 0.0f) {
                const float keep_scale = 1.0f / (1.0f - dropout);
                const uint64_t base = static_cast<uint64_t>(bh) * T * T;
                for (int i = 0; i < T * T; ++i)
                    datt[i] = dropout_keep(seed, base + i, dropout) ? datt[i] * keep_scale : 0.0f; // eq. (6.14)
            }
            for (int t = 0; t < T; ++t) { // eq. (6.9), column by column over keys 0..t
                const float* p = a + static_cast<size_t>(t) * T;
                const float* dp = datt.colptr(t);
                float* ds = dscores.colptr(t);
                float dot = 0.0f;
                for (int key = 0; key <= t; ++key) dot += p[key] * dp[key];
                for (int key = 0; key <= t; ++key) ds[key] = p[key] * (dp[key] - dot);
                for (int key = t + 1; key < T; ++key) ds[key] = 0.0f; // masked scores get no gradient
            }
            gemm(false, false, HS, T, T, scale, k, ld, dscores.memptr(), T, 1.0f, dq, ld); // eq. (6.11)
            gemm(false, true, HS, T, T, scale, q, ld, dscores.memptr(), T, 1.0f, dk, ld);  // eq. (6.12)
        }
    }
}

} // namespace gptbook
