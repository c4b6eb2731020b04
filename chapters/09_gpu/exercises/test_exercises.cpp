// Tests that grade the chapter 09 exercises (exercises.hpp). Built twice: against the stubs in this
// folder (exercises_ch09, fails until you solve them) and against solutions/09_gpu (solutions_ch09,
// which shows the tests pass with a correct answer). Every test needs a GPU: without one it prints
// "no CUDA device: skipped", which CTest reports as skipped.
//
// Shapes: n elements; (rows, cols) row-major matrices, which Armadillo sees as (cols, rows).
#include "exercises.hpp"

#include "gpu_harness.hpp"

#include "gptbook/core/rng.hpp"
#include "gptbook/nn/gelu.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace gptbook;
using namespace gptbook::exercises;
using gptbook::ch09::DeviceBuffer;

namespace {

bool have_gpu() {
    static const bool available = [] {
        std::string why;
        return ch09::cuda_device_available(why);
    }();
    return available;
}

Mat random_mat(Rng& rng, arma::uword rows, arma::uword cols, float stddev = 1.0f) {
    Mat m(rows, cols);
    for (float& x : m) x = stddev * rng.normal();
    return m;
}

/// Runs `fn` on a copy of `inp` on the GPU and returns its `n_out` outputs; the output buffer
/// starts as NaN so that an element the kernel never writes is caught.
template <typename Fn>
std::vector<float> on_gpu(const Mat& inp, size_t n_out, Fn fn) {
    DeviceBuffer d_inp(inp.memptr(), inp.n_elem), d_out(n_out);
    d_out.poison();
    fn(d_out.data(), d_inp.data());
    CUDA_CHECK(cudaDeviceSynchronize()); // a fault inside the kernel is reported here
    return d_out.to_host();
}

} // namespace

/// Every test starts here: without a GPU it says so (CTest's SKIP_REGULAR_EXPRESSION) and ends.
#define SKIP_WITHOUT_GPU()                                                                                             \
    do {                                                                                                               \
        if (!have_gpu()) {                                                                                             \
            std::printf("no CUDA device: skipped\n");                                                                  \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

TEST_CASE("9.1: GELU on the GPU equals gelu_forward on a million values", "[ch09][ex9.1]") {
    SKIP_WITHOUT_GPU();
    Rng rng(91);
    const Mat x = random_mat(rng, 1, (1 << 20) + 7, 3.0f); // not a multiple of any block size
    Mat expected(x.n_rows, x.n_cols);
    gelu_forward(expected, x);
    const std::vector<float> y =
        on_gpu(x, x.n_elem, [&](float* out, float* inp) { gelu_forward_gpu(out, inp, static_cast<int>(x.n_elem)); });
    REQUIRE(y.size() == x.n_elem);
    // Two tanhf implementations (CUDA's and the CPU's vectorised one) differ by a few ulp; for
    // |x| up to ~15 that is ~1e-6 of the value: 1e-5 relative, at least 1e-5 absolute.
    double worst = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
        const float scale = std::max(1.0f, std::fabs(expected[i]));
        worst = std::max(worst, static_cast<double>(std::fabs(y[i] - expected[i]) / scale));
    }
    CHECK(worst < 1e-5);
}

TEST_CASE("9.1: GELU keeps large positives, zeroes large negatives, and n = 1 and n = 0 work", "[ch09][ex9.1]") {
    SKIP_WITHOUT_GPU();
    const Mat x = {{0.0f, 1.0f, -1.0f, 10.0f, -10.0f}};
    const std::vector<float> y = on_gpu(x, 5, [](float* out, float* inp) { gelu_forward_gpu(out, inp, 5); });
    CHECK(y[0] == 0.0f);                            // 0 * anything
    CHECK(y[1] == Approx(0.841192f).margin(1e-5));  // eq. (5.3) at 1, by hand: 0.5 (1 + tanh(0.833562))
    CHECK(y[2] == Approx(-0.158808f).margin(1e-5)); // GELU(x) - GELU(-x) = x
    CHECK(y[3] == Approx(10.0f).margin(1e-5));      // tanh(8.0) = 1 in float32
    CHECK(std::fabs(y[4]) < 1e-5f);
    const std::vector<float> one =
        on_gpu(x.cols(1, 1), 1, [](float* out, float* inp) { gelu_forward_gpu(out, inp, 1); });
    CHECK(one[0] == y[1]); // the same arithmetic on the same number: bit for bit
    DeviceBuffer untouched(1);
    untouched.poison();
    gelu_forward_gpu(untouched.data(), untouched.data(), 0); // launches nothing, and is no error
    CUDA_CHECK(cudaDeviceSynchronize());
    CHECK(std::isnan(untouched.to_host()[0]));
}

TEST_CASE("9.2: rows of ones sum exactly to their length", "[ch09][ex9.2]") {
    SKIP_WITHOUT_GPU();
    const int rows = 1000, cols = 777;
    const Mat ones(cols, rows, arma::fill::ones); // (rows, cols) row-major
    const std::vector<float> sums =
        on_gpu(ones, rows, [&](float* out, float* inp) { row_sum_gpu(out, inp, rows, cols); });
    for (int r = 0; r < rows; ++r) {
        INFO("row " << r);
        REQUIRE(sums[r] == static_cast<float>(cols)); // integers below 2^24 add exactly in float32
    }
}

TEST_CASE("9.2: row sums equal the CPU's for rows shorter, equal to and longer than a warp", "[ch09][ex9.2]") {
    SKIP_WITHOUT_GPU();
    Rng rng(92);
    for (const int cols : {1, 5, 31, 32, 33, 1000}) {
        const int rows = 301;                      // not a multiple of the rows per block
        const Mat x = random_mat(rng, cols, rows); // (rows, cols) row-major
        const Mat expected = arma::sum(x, 0);      // (1, rows)
        const std::vector<float> sums =
            on_gpu(x, rows, [&](float* out, float* inp) { row_sum_gpu(out, inp, rows, cols); });
        INFO("cols = " << cols);
        // Sums of up to 1000 N(0, 1) values (|sum| ~ 30) in another order: ~1e-5 apart.
        double worst = 0.0;
        for (int r = 0; r < rows; ++r) worst = std::max(worst, static_cast<double>(std::fabs(sums[r] - expected[r])));
        CHECK(worst < 1e-3);
    }
}

TEST_CASE("9.3: the transpose moves every element exactly, for any shape", "[ch09][ex9.3]") {
    SKIP_WITHOUT_GPU();
    Rng rng(93);
    // (rows, cols): a single element, thinner than a tile, not multiples of 32, large and square
    const std::vector<std::pair<int, int>> shapes = {{1, 1}, {31, 2}, {33, 65}, {1000, 333}, {1024, 1024}};
    for (const auto& [rows, cols] : shapes) {
        const Mat x = random_mat(rng, cols, rows); // inp (rows, cols) row-major
        const Mat expected = x.t();                // out (cols, rows) row-major
        const std::vector<float> y =
            on_gpu(x, x.n_elem, [&](float* out, float* inp) { transpose_gpu(out, inp, rows, cols); });
        INFO("rows = " << rows << ", cols = " << cols);
        bool same = true; // a copy, no arithmetic: equal bit for bit
        for (size_t i = 0; i < y.size(); ++i) same = same && y[i] == expected[i];
        CHECK(same);
    }
}

TEST_CASE("9.3: transposing twice gives the matrix back", "[ch09][ex9.3]") {
    SKIP_WITHOUT_GPU();
    Rng rng(931);
    const int rows = 70, cols = 45;
    const Mat x = random_mat(rng, cols, rows);
    DeviceBuffer d_x(x.memptr(), x.n_elem), d_t(x.n_elem), d_back(x.n_elem);
    d_back.poison();
    transpose_gpu(d_t.data(), d_x.data(), rows, cols);
    transpose_gpu(d_back.data(), d_t.data(), cols, rows);
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> back = d_back.to_host();
    bool same = true;
    for (size_t i = 0; i < back.size(); ++i) same = same && back[i] == x[i];
    CHECK(same);
}
