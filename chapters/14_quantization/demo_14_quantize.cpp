// demo_14_quantize: models made smaller and faster, step by step. One group of eight weights
// rounded to int8 and to int4, with every error; two 4-bit weights packed into a byte; one row
// multiplied by an input with integers only; what each format reads per token, which sets the
// speed of decoding; and one token of distillation: the teacher's soft targets at three
// temperatures, the student's loss and its gradient. Chapter 14 (chapters/14_quantization/README.md)
// explains every line.
//
// Shapes: G group size, C input channels, V vocabulary.
//
//   demo_14_quantize --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_14_quantize           # the same (the demo has no slow part)
#include "gptbook/model/parameters.hpp"
#include "gptbook/nn/distill.hpp"
#include "gptbook/quant/qmatmul.hpp"
#include "gptbook/quant/quantize.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// A printed 0 never shows as -0.0000.
double clean(double x) { return std::abs(x) < 5e-5 ? 0.0 : x; }

// Eight weights of one group, as a trained matrix has them: mostly small, one large.
const std::vector<float> group = {0.12f, -0.05f, 0.33f, -0.62f, 0.04f, 0.0f, -0.18f, 0.27f};

void print_floats(const char* label, const std::vector<float>& x) {
    std::printf("  %-10s", label);
    for (float v : x) std::printf(" %8.4f", clean(v));
    std::printf("\n");
}

// ---- Part 1 and 2: one group, 8 and 4 bits ----

void part_group(int bits) {
    const int qmax = bits == 8 ? 127 : 7;
    std::printf("== Part %d: one group of G = 8 weights to %d bits (14.1): d = max|x| / %d ==\n", bits == 8 ? 1 : 2,
                bits, qmax);
    std::vector<int8_t> q(group.size());
    const float d =
        bits == 8 ? quantize_group_q8(group.data(), 8, q.data()) : quantize_group_q4(group.data(), 8, q.data());
    std::printf("  max|x| = %.4f, d = %.6f\n", 0.62, static_cast<double>(d));
    print_floats("x", group);
    std::printf("  %-10s", "x / d");
    for (float v : group) std::printf(" %8.3f", clean(v / d));
    std::printf("\n  %-10s", "q");
    for (int8_t v : q) std::printf(" %8d", v);
    std::vector<float> back(group.size()), err(group.size());
    for (size_t k = 0; k < group.size(); ++k) {
        back[k] = d * static_cast<float>(q[k]);
        err[k] = group[k] - back[k];
    }
    std::printf("\n");
    print_floats("d q", back);
    print_floats("x - d q", err);
    float worst = 0.0f;
    for (float e : err) worst = std::max(worst, std::fabs(e));
    std::printf("  largest error %.6f <= d/2 = %.6f; %d bits + one float scale per group\n", static_cast<double>(worst),
                static_cast<double>(d / 2), bits);
    if (bits == 4) {
        std::printf("  stored as nibbles u = q + 8 in [1, 15], two a byte (column 2i low, 2i+1 high):");
        for (size_t k = 0; k < group.size(); k += 2)
            std::printf(" 0x%X%X", static_cast<unsigned>(q[k + 1] + 8), static_cast<unsigned>(q[k] + 8));
        std::printf("\n");
    }
    std::printf("\n");
}

// ---- Part 3: a row times an input, with integers ----

void part3_integer_dot() {
    std::printf("== Part 3: one row times an input with integers (14.2), C = 64 in G = 32 groups ==\n");
    std::vector<float> w(64), x(64);
    for (int c = 0; c < 64; ++c) { // a smooth row and input: the numbers are easy to follow
        w[c] = 0.1f * std::sin(0.3f * static_cast<float>(c)) + (c == 40 ? 0.5f : 0.0f);
        x[c] = std::cos(0.2f * static_cast<float>(c));
    }
    const QuantMatrix m = quantize_matrix(w.data(), 1, 64, 8, 32);
    QuantizedInput xq;
    quantize_input(x.data(), 64, 8, 32, xq);
    double exact = 0.0;
    for (int c = 0; c < 64; ++c) exact += static_cast<double>(w[c]) * x[c];
    for (int g = 0; g < 2; ++g) {
        int32_t isum = 0;
        for (int c = 32 * g; c < 32 * g + 32; ++c) isum += m.q(0, c) * xq.q[c];
        std::printf("  group %d: d = %.6f (weights), e = %.6f (input), sum q p = %6d in int32 -> d e sum = %.6f\n", g,
                    static_cast<double>(m.scales[g]), static_cast<double>(xq.scales[g]), isum,
                    clean(static_cast<double>(m.scales[g]) * xq.scales[g] * isum));
    }
    float ref = 0.0f, integer = 0.0f;
    qmatvec_reference(&ref, m, x.data());
    qmatvec(&integer, m, xq, QuantKernel::portable);
    std::printf("  float weights, float input:             %.6f\n", exact);
    std::printf("  int8 weights (dequantized), float input: %.6f\n", static_cast<double>(ref));
    std::printf("  int8 weights, int8 input (integer sums): %.6f\n", static_cast<double>(integer));
    std::printf("  the groups' sums (about +1.2 and -1.27) cancel, so their small errors show large beside -0.07;\n"
                "  two float multiplies per group instead of one per weight; the rest is int8 x int8 -> int32\n\n");
}

// ---- Part 4: bytes per token ----

void part4_bytes() {
    std::printf("== Part 4: what decoding one token reads (every weight once) ==\n");
    struct Shape {
        const char* name;
        int L, NH, C, T, V;
    };
    for (const Shape& s :
         {Shape{"shakespeare-char-cpu", 4, 4, 128, 64, 65}, Shape{"GPT-2 124M", 12, 12, 768, 1024, 50257}}) {
        GPTConfig c;
        c.n_layer = s.L;
        c.n_head = s.NH;
        c.n_embd = s.C;
        c.block_size = s.T;
        c.vocab_size = s.V;
        const auto layout = parameter_layout(c);
        size_t matrices = 0; // the four linears of each block and the head (tied: wte)
        for (const ParamSpec& p : layout)
            if (p.shape.size() == 2 && p.name != "wpe.weight") matrices += p.numel;
        const size_t total = parameter_count(layout);
        std::printf("  %s: %zu parameters, %zu of them in the matrices a token multiplies by\n", s.name, total,
                    matrices);
        for (auto [label, bits] : {std::pair{"float32", 32}, std::pair{"int8 g32", 8}, std::pair{"int4 g32", 4}}) {
            const double per_weight = bits == 32 ? 4.0 : bits / 8.0 + 4.0 / 32.0; // a float scale per 32 weights
            const double mb =
                (static_cast<double>(matrices) * per_weight + static_cast<double>(total - matrices) * 0) / 1e6;
            std::printf("    %-9s %6.3f bytes/weight -> %8.2f MB per token -> at most %7.1f tokens/s per 10 GB/s\n",
                        label, per_weight, mb, 10e3 / mb);
        }
    }
    std::printf("  (the other parameters, the position table and the norms, add one row or a few KB per token)\n\n");
}

// ---- Part 5: distillation on one token ----

void part5_distill() {
    std::printf("== Part 5: one token of distillation (14.3), (14.4), V = 5 ==\n");
    Mat teacher(5, 1), student(5, 1);
    const float zt[5] = {4.0f, 2.5f, 2.0f, 0.0f, -1.0f}; // the teacher: word 0, but 1 and 2 are plausible
    const float zs[5] = {2.0f, 0.5f, 1.5f, 0.5f, 0.0f};  // the student, not trained yet
    for (int v = 0; v < 5; ++v) {
        teacher(v, 0) = zt[v];
        student(v, 0) = zs[v];
    }
    for (float tau : {1.0f, 2.0f, 4.0f}) {
        Vec soft = arma::exp(teacher.col(0) / tau);
        soft /= arma::accu(soft);
        std::printf("  teacher at tau = %.0f:", static_cast<double>(tau));
        for (float p : soft) std::printf(" %.4f", static_cast<double>(p));
        std::printf("\n");
    }
    const Tokens target{0};
    RowVec losses;
    const float alpha = 0.5f, tau = 2.0f;
    const float hard = distill_forward(losses, student, teacher, target, 0.0f, tau);
    const float soft = distill_forward(losses, student, teacher, target, 1.0f, tau);
    const float both = distill_forward(losses, student, teacher, target, alpha, tau);
    std::printf("  student, target 0: cross-entropy %.4f, tau^2 KL at tau = 2 %.4f, loss (alpha = 0.5) %.4f\n",
                static_cast<double>(hard), static_cast<double>(soft), static_cast<double>(both));
    Mat dz(5, 1, arma::fill::zeros);
    distill_backward(dz, RowVec{1.0f}, student, teacher, target, alpha, tau);
    std::printf("  dloss/dz:");
    for (float g : dz) std::printf(" %8.4f", clean(g));
    std::printf("\n  word 0 is pushed up by both terms; word 1, which the student rates below the teacher, is pushed\n"
                "  up too though it is not the target: what the soft targets add\n");
}

} // namespace

int main(int argc, char** argv) {
    (void)argc; // --smoke runs the same parts: everything here takes milliseconds
    (void)argv;
    part_group(8);
    part_group(4);
    part3_integer_dot();
    part4_bytes();
    part5_distill();
    return 0;
}
