// Shapes: OC output channels, C input channels, G group size, N tokens.
#include "gptbook/quant/qmatmul.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <cstdlib>
#include <omp.h>

// The vector kernels are for x86-64; elsewhere only the portable one is built.
#if defined(__x86_64__)
#define GPTBOOK_QUANT_X86 1
#include <immintrin.h>
#else
#define GPTBOOK_QUANT_X86 0
#endif

namespace gptbook {

std::string to_string(QuantKernel k) {
    switch (k) {
    case QuantKernel::portable: return "portable";
    case QuantKernel::avx2: return "avx2";
    case QuantKernel::avx512_vnni: return "avx512_vnni";
    }
    return "?";
}

bool quant_kernel_available(QuantKernel k) {
#if !GPTBOOK_QUANT_X86
    return k == QuantKernel::portable;
#endif
    switch (k) {
    case QuantKernel::portable: return true;
    case QuantKernel::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case QuantKernel::avx512_vnni:
        return quant_kernel_available(QuantKernel::avx2) && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx512vl");
    }
    return false;
}

namespace {

QuantKernel choose_kernel() {
    if (const char* env = std::getenv("GPTBOOK_QUANT_KERNEL"); env != nullptr && *env != '\0') {
        for (QuantKernel k : {QuantKernel::portable, QuantKernel::avx2, QuantKernel::avx512_vnni}) {
            if (to_string(k) != env) continue;
            GPTBOOK_CHECK(quant_kernel_available(k),
                          "GPTBOOK_QUANT_KERNEL=" << env << " but this CPU lacks its instructions; unset it or "
                                                  << "choose portable");
            return k;
        }
        GPTBOOK_FAIL("GPTBOOK_QUANT_KERNEL=" << env << " names no kernel; expected portable, avx2 or avx512_vnni");
    }
    for (QuantKernel k : {QuantKernel::avx512_vnni, QuantKernel::avx2})
        if (quant_kernel_available(k)) return k;
    return QuantKernel::portable;
}

// ---- One row of eq. (14.2), three ways. Each returns y_r for the row's bytes and scales. ----

// The integer sum of one group, plain C++: the kernels below compute exactly these integers.
int32_t group_isum(const uint8_t* w, const int8_t* p, int G, int bits) {
    int32_t isum = 0;
    if (bits == 8) {
        // Read as int8 through the pointer: GCC 12 at -O3 -march=native vectorises the loop with
        // static_cast<int8_t>(w[k]) into VNNI's unsigned-by-signed product and gets it wrong
        // (tests/quant/test_qmatmul.cpp caught it).
        const int8_t* q = reinterpret_cast<const int8_t*>(w);
        for (int k = 0; k < G; ++k) isum += q[k] * p[k];
        return isum;
    }
    for (int b = 0; b < G / 32; ++b) { // a block of 32: 16 bytes; p holds its even columns, then its odd
        const uint8_t* bytes = w + 16 * b;
        const int8_t* pe = p + 32 * b;
        for (int i = 0; i < 16; ++i) isum += ((bytes[i] & 0x0F) - 8) * pe[i] + ((bytes[i] >> 4) - 8) * pe[16 + i];
    }
    return isum;
}

float row_portable(const uint8_t* w, const float* d, const QuantizedInput& x, int C) {
    const int G = x.group, bytes_per_group = G * x.bits / 8;
    float y = 0.0f;
    for (int g = 0; g < C / G; ++g)
        y +=
            d[g] * x.scales[g] * static_cast<float>(group_isum(w + g * bytes_per_group, x.q.data() + g * G, G, x.bits));
    return y;
}

#if GPTBOOK_QUANT_X86
// ---- The vector kernels. Each computes R rows at once (R = 4 for 4-bit weights; 1 for 8-bit
// ones and the last rows, see qmatvec): one load of the input serves R rows, and two accumulators
// per row (even and odd groups) keep independent chains of float multiply-adds in flight (one
// accumulator would make every group wait for the previous one's addition, about 4 cycles, which
// at batch 1 costs more than the memory does). ----

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// 32 packed 4-bit weights (16 bytes) as 32 unsigned bytes u = q + 8: the low nibbles (even
// columns) then the high ones (odd columns), the order quantize_input gave the input.
__attribute__((target("avx2,fma"))) inline __m256i nibbles(const uint8_t* w) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
    const __m128i low = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), low), _mm_and_si128(bytes, low));
}

__attribute__((target("avx2"))) inline __m256i load32(const void* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Where R rows start, their scales, and their R accumulators.
template <int R>
struct Rows {
    const uint8_t* w[R];
    const float* d[R];
    Rows(const QuantMatrix& m, int r0) {
        for (int i = 0; i < R; ++i) {
            w[i] = m.data.data() + static_cast<size_t>(r0 + i) * m.row_bytes();
            d[i] = m.scales.data() + static_cast<size_t>(r0 + i) * (m.cols / m.group);
        }
    }
};

// AVX2: maddubs multiplies unsigned by signed bytes and adds pairs into int16 (at most
// 2 * 127 * 127 < 32767), madd with ones adds pairs of those into int32. 8-bit weights go in as
// |q| with the input taking q's sign; 4-bit ones as u = q + 8, the offset -8 sum p added at the start.
template <int BITS, int R>
__attribute__((target("avx2,fma"))) void rows_avx2(float* y, const QuantMatrix& m, int r0, const QuantizedInput& x) {
    const Rows<R> rows(m, r0);
    const int G = x.group, groups = m.cols / G, bytes_per_group = G * BITS / 8;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[2 * R]; // even groups add into acc[i], odd ones into acc[R + i]
    for (int i = 0; i < 2 * R; ++i) acc[i] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int g = 0; g < groups; ++g) {
        const __m256i start = _mm256_setr_epi32(BITS == 4 ? -8 * x.sums[g] : 0, 0, 0, 0, 0, 0, 0, 0);
        __m256i isum[R];
        for (int i = 0; i < R; ++i) isum[i] = start;
        for (int b = 0; b < G / 32; ++b) {
            const __m256i p = load32(x.q.data() + g * G + 32 * b);
            for (int i = 0; i < R; ++i) {
                const uint8_t* w = rows.w[i] + g * bytes_per_group;
                __m256i prod;
                if constexpr (BITS == 8) {
                    const __m256i q = load32(w + 32 * b);
                    prod = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(p, q));
                } else {
                    prod = _mm256_maddubs_epi16(nibbles(w + 16 * b), p);
                }
                isum[i] = _mm256_add_epi32(isum[i], _mm256_madd_epi16(prod, ones));
            }
        }
        const __m256 e = _mm256_set1_ps(x.scales[g]);
        for (int i = 0; i < R; ++i) // eq. (14.2): d_{r,g} e_g times the group's integer sum
            acc[(g & 1) * R + i] = _mm256_fmadd_ps(
                _mm256_mul_ps(_mm256_cvtepi32_ps(isum[i]), _mm256_set1_ps(rows.d[i][g])), e, acc[(g & 1) * R + i]);
    }
    for (int i = 0; i < R; ++i) y[r0 + i] = hsum(_mm256_add_ps(acc[i], acc[R + i]));
}

// AVX-512 VNNI: vpdpbusd adds 32 unsigned-by-signed byte products into 8 int32 in one instruction.
// 8-bit weights are read as q + 128 (the top bit flipped), 4-bit ones are already u = q + 8; the
// offsets (-128 or -8 times sum p) start in lane 0.
template <int BITS, int R>
__attribute__((target("avx2,fma,avx512vnni,avx512vl"))) void rows_vnni(float* y, const QuantMatrix& m, int r0,
                                                                       const QuantizedInput& x) {
    const Rows<R> rows(m, r0);
    const int G = x.group, groups = m.cols / G, bytes_per_group = G * BITS / 8;
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    __m256 acc[2 * R]; // even groups add into acc[i], odd ones into acc[R + i]
    for (int i = 0; i < 2 * R; ++i) acc[i] = _mm256_setzero_ps();
    int g = 0;
    if constexpr (R == 1) {
        // One row: eight groups at a time, their int32 sums gathered into one vector (lane k the sum
        // of group g + k), then one conversion and one multiply-add for all eight: the float work per
        // group is an eighth of the loop below, which measured slower than memory at G = 32.
        for (; g + 8 <= groups; g += 8) {
            __m256i s[8];
            for (int k = 0; k < 8; ++k) {
                const uint8_t* w = rows.w[0] + (g + k) * bytes_per_group;
                s[k] = _mm256_setzero_si256();
                for (int b = 0; b < G / 32; ++b) {
                    const __m256i p = load32(x.q.data() + (g + k) * G + 32 * b);
                    const __m256i u = BITS == 8 ? _mm256_xor_si256(load32(w + 32 * b), flip) : nibbles(w + 16 * b);
                    s[k] = _mm256_dpbusd_epi32(s[k], u, p);
                }
            }
            // Pairwise sums twice, then the two 128-bit halves: lane k = the 8 lanes of s[k] added.
            const __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
            const __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
            __m256i sums =
                _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
            // The offsets, exactly: minus 128 (or 8) times each group's sum of p.
            sums = _mm256_sub_epi32(sums, _mm256_slli_epi32(load32(x.sums.data() + g), BITS == 8 ? 7 : 3));
            const __m256 de = _mm256_mul_ps(_mm256_loadu_ps(rows.d[0] + g), _mm256_loadu_ps(x.scales.data() + g));
            acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), de, acc[0]); // eq. (14.2), eight groups
        }
    }
#pragma GCC unroll 2
    for (; g < groups; ++g) {
        const __m256i start = _mm256_setr_epi32((BITS == 8 ? -128 : -8) * x.sums[g], 0, 0, 0, 0, 0, 0, 0);
        __m256i isum[R];
        for (int i = 0; i < R; ++i) isum[i] = start;
        for (int b = 0; b < G / 32; ++b) {
            const __m256i p = load32(x.q.data() + g * G + 32 * b);
            for (int i = 0; i < R; ++i) {
                const uint8_t* w = rows.w[i] + g * bytes_per_group;
                const __m256i u = BITS == 8 ? _mm256_xor_si256(load32(w + 32 * b), flip) : nibbles(w + 16 * b);
                isum[i] = _mm256_dpbusd_epi32(isum[i], u, p);
            }
        }
        const __m256 e = _mm256_set1_ps(x.scales[g]);
        for (int i = 0; i < R; ++i) // eq. (14.2)
            acc[(g & 1) * R + i] = _mm256_fmadd_ps(
                _mm256_mul_ps(_mm256_cvtepi32_ps(isum[i]), _mm256_set1_ps(rows.d[i][g])), e, acc[(g & 1) * R + i]);
    }
    for (int i = 0; i < R; ++i) y[r0 + i] = hsum(_mm256_add_ps(acc[i], acc[R + i]));
}

#endif // GPTBOOK_QUANT_X86

// Rows r0 .. r0+R-1 of y with kernel k (R = 4 or 1).
template <int R>
void rows(QuantKernel k, float* y, const QuantMatrix& m, int r0, const QuantizedInput& x) {
#if GPTBOOK_QUANT_X86
    switch (k) {
    case QuantKernel::avx512_vnni: m.bits == 8 ? rows_vnni<8, R>(y, m, r0, x) : rows_vnni<4, R>(y, m, r0, x); return;
    case QuantKernel::avx2: m.bits == 8 ? rows_avx2<8, R>(y, m, r0, x) : rows_avx2<4, R>(y, m, r0, x); return;
    case QuantKernel::portable: break;
    }
#else
    (void)k;
#endif
    for (int i = 0; i < R; ++i) {
        const int r = r0 + i;
        y[r] = row_portable(m.data.data() + static_cast<size_t>(r) * m.row_bytes(),
                            m.scales.data() + static_cast<size_t>(r) * (m.cols / m.group), x, m.cols);
    }
}

void check_input(const char* fn, const QuantMatrix& w, const QuantizedInput& x) {
    GPTBOOK_CHECK(x.bits == w.bits && x.group == w.group && x.q.size() == static_cast<size_t>(w.cols),
                  fn << ": the input was quantized for " << x.bits << "-bit weights in groups of " << x.group
                     << " with " << x.q.size() << " numbers; the weights are " << w.bits << "-bit in groups of "
                     << w.group << " with " << w.cols << " columns");
}

} // namespace

QuantKernel default_quant_kernel() {
    static const QuantKernel k = choose_kernel();
    return k;
}

void quantize_input(const float* x, int C, int bits, int group, QuantizedInput& out) {
    check_quant_shape(bits, group, C, "quantize_input");
    out.bits = bits;
    out.group = group;
    out.q.resize(C);
    out.scales.resize(C / group);
    out.sums.resize(C / group);
    int8_t natural[32];
    for (int g = 0; g < C / group; ++g) {
        int8_t* p = out.q.data() + g * group;
        out.scales[g] = quantize_group_q8(x + g * group, group, p); // eq. (14.1)
        int32_t sum = 0;
        for (int k = 0; k < group; ++k) sum += p[k];
        out.sums[g] = sum;
        if (bits == 4) // each block of 32: even columns first, then odd, as the packed nibbles come
            for (int b = 0; b < group / 32; ++b) {
                std::copy(p + 32 * b, p + 32 * b + 32, natural);
                for (int i = 0; i < 16; ++i) {
                    p[32 * b + i] = natural[2 * i];
                    p[32 * b + 16 + i] = natural[2 * i + 1];
                }
            }
    }
}

void qmatvec(float* y, const QuantMatrix& w, const QuantizedInput& x, QuantKernel kernel) {
    check_input("qmatvec", w, x);
    GPTBOOK_CHECK(quant_kernel_available(kernel),
                  "qmatvec: this CPU cannot run the " << to_string(kernel) << " kernel");
    // Decoding one token is one pass over the weights: spread the rows over the threads when there
    // are enough of them to pay for waking the threads (and never inside another parallel loop).
    const bool parallel = !omp_in_parallel() && static_cast<size_t>(w.rows) * w.cols >= (1u << 16);
    if (w.bits == 8) { // measured on AMD EPYC (Zen 4), GPT-2's matrices: one row at a time streams
                       // int8 fastest; 4-bit rows are half as long and gain from sharing the input's loads
#pragma omp parallel for schedule(static) if (parallel)
        for (int r = 0; r < w.rows; ++r) rows<1>(kernel, y, w, r, x);
        return;
    }
    const int quads = w.rows / 4;
#pragma omp parallel for schedule(static) if (parallel)
    for (int i = 0; i < quads; ++i) rows<4>(kernel, y, w, 4 * i, x);
    for (int r = 4 * quads; r < w.rows; ++r) rows<1>(kernel, y, w, r, x);
}

void qmatvec_reference(float* y, const QuantMatrix& w, const float* x) {
    for (int r = 0; r < w.rows; ++r) {
        float acc = 0.0f;
        for (int c = 0; c < w.cols; ++c) acc += w.dequantized(r, c) * x[c];
        y[r] = acc;
    }
}

void qlinear_forward(Mat& out, const Mat& inp, const QuantMatrix& w, const Vec& bias, QuantKernel kernel) {
    GPTBOOK_CHECK(inp.n_rows == static_cast<arma::uword>(w.cols),
                  "qlinear_forward: inp is " << shape_str(inp) << " but the weights are (" << w.rows << ", " << w.cols
                                             << "); expected inp (C x N) with C = " << w.cols);
    GPTBOOK_CHECK_SHAPE("qlinear_forward", "out", out, w.rows, inp.n_cols);
    GPTBOOK_CHECK(bias.is_empty() || bias.n_elem == static_cast<arma::uword>(w.rows),
                  "qlinear_forward: bias has " << bias.n_elem << " elements, expected OC = " << w.rows);
    GPTBOOK_CHECK(quant_kernel_available(kernel),
                  "qlinear_forward: this CPU cannot run the " << to_string(kernel) << " kernel");
    const auto N = static_cast<int>(inp.n_cols);
    auto column = [&](int n) {
        // Each thread keeps its quantized input's buffers from call to call: decoding one token
        // quantizes an input for every linear layer, and would otherwise allocate each time.
        thread_local QuantizedInput x;
        quantize_input(inp.colptr(n), w.cols, w.bits, w.group, x);
        qmatvec(out.colptr(n), w, x, kernel);
        if (!bias.is_empty()) out.col(n) += bias;
    };
    if (N == 1) { // decoding: qmatvec spreads the rows over the threads
        column(0);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; ++n) column(n);
}

} // namespace gptbook
