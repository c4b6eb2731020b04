// Shapes: B batch, T time, C channels, NH query heads, KVH key/value heads, HS head size,
// KV = KVH*HS, N = B*T tokens.
#include "gptbook/nn/attention.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/nn/dropout.hpp"
#include "gptbook/nn/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gptbook {

namespace {

// The sizes every attention function reads from its arguments.
struct Dims {
    int C, HS, KVH, KV, ld;                                                    // ld = C + 2KV, the rows of qkv
    int k_row(int h, int NH) const { return C + kv_head_of(h, NH, KVH) * HS; } // first row of head h's key
    int v_row(int h, int NH) const { return C + KV + kv_head_of(h, NH, KVH) * HS; }
};

Dims dims_of(const char* fn, const Mat& qkv, int C, int NH) {
    GPTBOOK_CHECK(NH > 0 && C > 0 && C % NH == 0,
                  fn << ": C=" << C << " with NH=" << NH << " heads; expected C divisible by NH");
    const int HS = C / NH;
    const int rows = static_cast<int>(qkv.n_rows);
    GPTBOOK_CHECK(rows > C && (rows - C) % (2 * HS) == 0,
                  fn << ": qkv has " << rows << " rows, expected C + 2*KVH*HS with C=" << C
                     << " (the rows of the output), NH=" << NH << ", HS=" << HS << " and KVH dividing NH");
    const int KVH = (rows - C) / (2 * HS);
    GPTBOOK_CHECK(NH % KVH == 0, fn << ": qkv holds " << KVH << " key/value heads, which does not divide NH=" << NH);
    return {C, HS, KVH, KVH * HS, rows};
}

Dims check_attention(const char* fn, const Mat& out, const Mat& qkv, const Mat& att, int B, int T, int NH,
                     float dropout) {
    GPTBOOK_CHECK(dropout >= 0.0f && dropout < 1.0f,
                  fn << ": dropout is " << dropout << ", expected a probability in [0, 1)");
    GPTBOOK_CHECK(B > 0 && T > 0 && NH > 0,
                  fn << ": B=" << B << ", T=" << T << ", NH=" << NH << "; expected positive sizes");
    GPTBOOK_CHECK(out.n_rows < qkv.n_rows, fn << ": out is " << shape_str(out) << ", expected (C x " << B * T
                                              << ") with fewer rows than qkv's " << qkv.n_rows << ": ("
                                              << qkv.n_rows / 3 << " x " << B * T << ") for multi-head attention");
    const Dims d = dims_of(fn, qkv, static_cast<int>(out.n_rows), NH);
    GPTBOOK_CHECK_SHAPE(fn, "qkv", qkv, qkv.n_rows, B * T);
    GPTBOOK_CHECK_SHAPE(fn, "att", att, T, T * B * NH);
    return d;
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
    const Dims d = check_attention("attention_forward", out, qkv, att, B, T, NH, dropout);
    GPTBOOK_CHECK_SHAPE("attention_forward", "out", out, d.C, B * T);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d.HS));
    // One (sequence, head) pair per iteration; BLAS calls inside an OpenMP region run on one
    // thread, so the two levels of parallelism do not fight over the cores.
#pragma omp parallel
    {
        Mat dropped(dropout > 0.0f ? T : 0, dropout > 0.0f ? T : 0);
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * NH; ++bh) {
            const int b = bh / NH, h = bh % NH;
            const float* col = qkv.colptr(b * T);
            const float* q = col + h * d.HS; // (HS, T), leading dimension ld
            const float* k = col + d.k_row(h, NH);
            const float* v = col + d.v_row(h, NH);
            float* a = att_block(att, T, NH, b, h);                             // (T, T), column t = query t
            gemm(true, false, T, T, d.HS, scale, k, d.ld, q, d.ld, 0.0f, a, T); // eq. (4.2)
            for (int t = 0; t < T; ++t) {
                float* c = a + static_cast<size_t>(t) * T;
                softmax_inplace(c, t + 1);                           // eq. (4.1) over keys 0..t
                for (int key = t + 1; key < T; ++key) c[key] = 0.0f; // eq. (4.3)
            }
            const float* used = a;
            if (dropout > 0.0f) {
                dropout_block(dropped.memptr(), a, T, dropout, seed, bh);
                used = dropped.memptr();
            }
            float* y = out.colptr(b * T) + h * d.HS;                              // (HS, T), leading dimension C
            gemm(false, false, d.HS, T, T, 1.0f, v, d.ld, used, T, 0.0f, y, d.C); // eq. (4.4)
        }
    }
}

void attention_forward_naive(Mat& out, Mat& att, const Mat& qkv, int B, int T, int NH) {
    const Dims d = check_attention("attention_forward_naive", out, qkv, att, B, T, NH, 0.0f);
    GPTBOOK_CHECK_SHAPE("attention_forward_naive", "out", out, d.C, B * T);
    const int HS = d.HS;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    for (int b = 0; b < B; ++b) {
        for (int h = 0; h < NH; ++h) {
            const int kr = d.k_row(h, NH), vr = d.v_row(h, NH); // head h's key and value rows (eq. 10.7)
            float* a = att_block(att, T, NH, b, h);
            for (int t = 0; t < T; ++t) {
                float* col = a + static_cast<size_t>(t) * T;
                for (int key = 0; key < T; ++key) {
                    if (key > t) { // causal mask
                        col[key] = 0.0f;
                        continue;
                    }
                    float s = 0.0f;
                    for (int i = 0; i < HS; ++i) s += qkv(h * HS + i, b * T + t) * qkv(kr + i, b * T + key);
                    col[key] = s * scale;
                }
                softmax_inplace(col, t + 1);
                for (int i = 0; i < HS; ++i) {
                    float y = 0.0f;
                    for (int key = 0; key <= t; ++key) y += col[key] * qkv(vr + i, b * T + key);
                    out(h * HS + i, b * T + t) = y;
                }
            }
        }
    }
}

void attention_backward(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH, float dropout,
                        uint64_t seed) {
    const Dims d = check_attention("attention_backward", dout, qkv, att, B, T, NH, dropout);
    GPTBOOK_CHECK_SHAPE("attention_backward", "dqkv", dqkv, qkv.n_rows, B * T);
    GPTBOOK_CHECK_SHAPE("attention_backward", "dout", dout, d.C, B * T);
    const int HS = d.HS, ld = d.ld, C = d.C, group = NH / d.KVH;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    // One (sequence, key/value head) pair per iteration, its group of query heads in order: the
    // heads of a group add into the same dk and dv, so they stay on one thread.
#pragma omp parallel
    {
        Mat datt(T, T), dscores(T, T);
        Mat dropped(dropout > 0.0f ? T : 0, dropout > 0.0f ? T : 0);
#pragma omp for schedule(static)
        for (int bg = 0; bg < B * d.KVH; ++bg) {
            const int b = bg / d.KVH, g = bg % d.KVH;
            for (int h = g * group; h < (g + 1) * group; ++h) {
                const int bh = b * NH + h;
                const float* col = qkv.colptr(b * T);
                const float* q = col + h * HS;
                const float* k = col + d.k_row(h, NH);
                const float* v = col + d.v_row(h, NH);
                float* dcol = dqkv.colptr(b * T);
                float* dq = dcol + h * HS;
                float* dk = dcol + d.k_row(h, NH);
                float* dv = dcol + d.v_row(h, NH);
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
}

void attention_backward_naive(Mat& dqkv, const Mat& dout, const Mat& qkv, const Mat& att, int B, int T, int NH) {
    const Dims d = check_attention("attention_backward_naive", dout, qkv, att, B, T, NH, 0.0f);
    GPTBOOK_CHECK_SHAPE("attention_backward_naive", "dqkv", dqkv, qkv.n_rows, B * T);
    const int HS = d.HS;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    std::vector<float> datt(T), dscore(T);
    for (int b = 0; b < B; ++b) {
        for (int h = 0; h < NH; ++h) {
            const int kr = d.k_row(h, NH), vr = d.v_row(h, NH);
            const float* a = att_block(att, T, NH, b, h);
            for (int t = 0; t < T; ++t) { // query t, its weights a[key] over keys 0..t
                const float* p = a + static_cast<size_t>(t) * T;
                const int n = b * T + t;
                for (int key = 0; key <= t; ++key) {
                    datt[key] = 0.0f; // dL/dA[key] = dy . v[key]
                    for (int i = 0; i < HS; ++i) {
                        datt[key] += dout(h * HS + i, n) * qkv(vr + i, b * T + key);
                        dqkv(vr + i, b * T + key) += p[key] * dout(h * HS + i, n); // eq. (6.10)
                    }
                }
                float dot = 0.0f; // softmax backward, eq. (6.9)
                for (int key = 0; key <= t; ++key) dot += p[key] * datt[key];
                for (int key = 0; key <= t; ++key) dscore[key] = p[key] * (datt[key] - dot);
                for (int key = 0; key <= t; ++key) {
                    for (int i = 0; i < HS; ++i) {
                        dqkv(h * HS + i, n) += scale * dscore[key] * qkv(kr + i, b * T + key); // eq. (6.11)
                        dqkv(kr + i, b * T + key) += scale * dscore[key] * qkv(h * HS + i, n); // eq. (6.12)
                    }
                }
            }
        }
    }
}

void attention_forward_cached(Mat& out, const Mat& qkv, LayerKV& cache, int pos0, int NH, Mat* att) {
    const char* fn = "attention_forward_cached";
    const Dims d = dims_of(fn, qkv, static_cast<int>(out.n_rows), NH);
    const int n = static_cast<int>(qkv.n_cols), capacity = static_cast<int>(cache.k.n_cols), HS = d.HS;
    GPTBOOK_CHECK_SHAPE(fn, "out", out, d.C, n);
    GPTBOOK_CHECK_SHAPE(fn, "cache.k", cache.k, d.KV, cache.k.n_cols);
    GPTBOOK_CHECK_SHAPE(fn, "cache.v", cache.v, d.KV, capacity);
    GPTBOOK_CHECK(n >= 1 && n <= capacity && pos0 >= 0,
                  fn << ": " << n << " new tokens at position " << pos0 << " for a cache of " << capacity
                     << " positions; expected 1 to " << capacity << " tokens at a position >= 0");
    if (att != nullptr) att->zeros(capacity, static_cast<arma::uword>(n) * NH);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    std::vector<float> scores(capacity);
    for (int i = 0; i < n; ++i) {
        const int p = pos0 + i, first = std::max(0, p - capacity + 1), count = p - first + 1; // positions first..p
        // Remember the token's key and value in its slot of the ring. In a full ring that slot held
        // position p - capacity, which neither this query nor a later one sees.
        const arma::uword slot = static_cast<arma::uword>(p % capacity);
        cache.k.col(slot) = qkv.col(i).rows(d.C, d.C + d.KV - 1);
        cache.v.col(slot) = qkv.col(i).rows(d.C + d.KV, d.C + 2 * d.KV - 1);
        for (int h = 0; h < NH; ++h) {
            const int kv = kv_head_of(h, NH, d.KVH) * HS;
            const float* q = qkv.colptr(i) + h * HS;
            for (int j = 0; j < count; ++j) { // eq. (4.2) for one query; no mask: no cached key is later
                const float* k = cache.k.colptr((first + j) % capacity) + kv;
                float s = 0.0f;
                for (int c = 0; c < HS; ++c) s += q[c] * k[c];
                scores[j] = s * scale;
            }
            softmax_inplace(scores.data(), count); // eq. (4.1)
            float* y = out.colptr(i) + h * HS;
            std::fill(y, y + HS, 0.0f);
            for (int j = 0; j < count; ++j) { // eq. (4.4)
                const float* v = cache.v.colptr((first + j) % capacity) + kv;
                for (int c = 0; c < HS; ++c) y[c] += scores[j] * v[c];
                if (att != nullptr) (*att)((first + j) % capacity, static_cast<arma::uword>(i) * NH + h) = scores[j];
            }
        }
    }
}

} // namespace gptbook
