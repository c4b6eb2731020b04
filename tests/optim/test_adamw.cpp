// Shapes: P parameters; params, grads and both moments are (P) vectors of one layout.
#include "gptbook/optim/adamw.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/gpt.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

/// Three parameters: a (1, 2) weight that decays and a (1) bias that does not.
std::vector<ParamSpec> three_parameters() {
    ParamSpec w;
    w.name = "w.weight";
    w.shape = {1, 2};
    w.offset = 0;
    w.numel = 2;
    w.decay = true;
    w.rows = 2;
    w.cols = 1;
    ParamSpec b;
    b.name = "w.bias";
    b.shape = {1};
    b.offset = 2;
    b.numel = 1;
    b.decay = false;
    b.rows = 1;
    b.cols = 1;
    return {w, b};
}

} // namespace

TEST_CASE("adamw_update matches a hand-computed two-step example, with decay on the weight only",
          "[ch06][optim][adamw]") {
    const std::vector<ParamSpec> layout = three_parameters();
    const AdamWConfig cfg{0.9f, 0.99f, 1e-8f, 0.1f};
    const float lr = 0.1f; // decay factor 1 - lr * lambda = 0.99
    Vec params = {1.0f, -2.0f, 0.5f};
    AdamWState state(3);

    // Step 1, g = (0.2, -0.1, 0.4). m = 0.1 g, v = 0.01 g^2; the bias corrections 1 - 0.9 = 0.1 and
    // 1 - 0.99 = 0.01 turn them back into g and g^2, so the step is lr * g / |g| = 0.1 sign(g):
    //   p0 = 1 * 0.99 - 0.1 = 0.89,  p1 = -2 * 0.99 + 0.1 = -1.88,  p2 = 0.5 - 0.1 = 0.4 (no decay).
    adamw_update(params, Vec{0.2f, -0.1f, 0.4f}, state, layout, lr, cfg);
    CHECK(state.step == 1);
    // Float32 arithmetic on O(1) values: a few ulps, and eps / |g| = 1e-7 relative in the step.
    CHECK(params[0] == Approx(0.89).margin(1e-6));
    CHECK(params[1] == Approx(-1.88).margin(1e-6));
    CHECK(params[2] == Approx(0.4).margin(1e-6));
    CHECK(state.m[1] == Approx(-0.01).margin(1e-8));
    CHECK(state.v[2] == Approx(0.0016).margin(1e-9));

    // Step 2, g = (0.2, 0.3, -0.4); bias corrections 1 - 0.81 = 0.19 and 1 - 0.9801 = 0.0199.
    //   p0: m = 0.9*0.02 + 0.1*0.2 = 0.038, v = 0.99*4e-4 + 0.01*0.04 = 7.96e-4
    //       m/0.19 = 0.2, sqrt(v/0.0199) = sqrt(0.04) = 0.2: step 0.1; p0 = 0.89*0.99 - 0.1 = 0.7811
    //   p1: m = -0.009 + 0.03 = 0.021, v = 9.9e-5 + 9e-4 = 9.99e-4
    //       m/0.19 = 0.1105263, sqrt(v/0.0199) = 0.2240567: step 0.0493298;
    //       p1 = -1.88*0.99 - 0.0493298 = -1.9105298
    //   p2: m = 0.036 - 0.04 = -0.004, v = 1.584e-3 + 1.6e-3 = 3.184e-3
    //       m/0.19 = -0.0210526, sqrt(v/0.0199) = 0.4: step -0.00526316; p2 = 0.40526316
    adamw_update(params, Vec{0.2f, 0.3f, -0.4f}, state, layout, lr, cfg);
    CHECK(state.step == 2);
    CHECK(state.m[0] == Approx(0.038).margin(1e-8));
    CHECK(state.v[1] == Approx(9.99e-4).margin(1e-9));
    CHECK(params[0] == Approx(0.7811).margin(1e-6));
    CHECK(params[1] == Approx(-1.9105298).margin(1e-6));
    CHECK(params[2] == Approx(0.40526316).margin(1e-6));
}

TEST_CASE("adamw_update with a zero gradient only decays the matrices", "[ch06][optim][adamw]") {
    const std::vector<ParamSpec> layout = three_parameters();
    Vec params = {1.0f, -2.0f, 0.5f};
    AdamWState state(3);
    adamw_update(params, Vec(3, arma::fill::zeros), state, layout, 0.5f, AdamWConfig{0.9f, 0.99f, 1e-8f, 0.2f});
    // m = v = 0 gives a step of 0 / (0 + eps) = 0 exactly; the decay factor 1 - 0.5*0.2 = 0.9.
    CHECK(params[0] == Approx(0.9).margin(1e-7));
    CHECK(params[1] == Approx(-1.8).margin(1e-7));
    CHECK(params[2] == 0.5f);
}

TEST_CASE("adamw_update follows the model's decay groups over the flat buffer", "[ch06][optim][adamw]") {
    GPTConfig c;
    c.vocab_size = 5;
    c.block_size = 3;
    c.n_layer = 1;
    c.n_head = 1;
    c.n_embd = 4;
    GPT model(c);
    model.params.fill(1.0f);
    AdamWState state(model.params.n_elem);
    adamw_update(model.params, model.grads, state, model.layout, 0.1f, AdamWConfig{}); // zero grads
    // Decayed tensors become 1 - 0.1 * 0.1 = 0.99; the others stay 1. Float32: one rounding.
    CHECK(model.w.wte(0, 0) == Approx(0.99f).margin(1e-7));
    CHECK(model.w.h[0].fc_proj_w(15, 3) == Approx(0.99f).margin(1e-7));
    CHECK(model.w.h[0].fc_b(2) == 1.0f);
    CHECK(model.w.ln_f_w(1) == 1.0f);
}

TEST_CASE("adamw_update rejects buffers of different sizes", "[ch06][optim][adamw]") {
    const std::vector<ParamSpec> layout = three_parameters();
    Vec params(3, arma::fill::zeros);
    AdamWState state(3), small_state(2);
    CHECK_THROWS_AS(adamw_update(params, Vec(4, arma::fill::zeros), state, layout, 0.1f, AdamWConfig{}), Error);
    CHECK_THROWS_WITH(adamw_update(params, Vec(3, arma::fill::zeros), small_state, layout, 0.1f, AdamWConfig{}),
                      Contains("adamw_update") && Contains("(3)") && Contains("(2, 2)"));
    CHECK(state.step == 0); // a refused update does not count
}

TEST_CASE("a frozen tensor keeps its values and has no moments, the trainable ones update as before",
          "[ch06][ch11][optim][adamw]") {
    std::vector<ParamSpec> layout = three_parameters();
    const Vec start = {0.5f, -0.25f, 1.0f}, grads = {0.1f, -0.2f, 0.3f};
    Vec all = start;
    AdamWState all_state(3);
    adamw_update(all, grads, all_state, layout, 0.1f, AdamWConfig{});
    REQUIRE(layout.size() == 2);
    layout[0].trainable = false; // freeze the weight, train the bias
    REQUIRE(trainable_count(layout) == layout[1].numel);
    Vec some = start;
    AdamWState some_state(trainable_count(layout));
    adamw_update(some, grads, some_state, layout, 0.1f, AdamWConfig{});
    for (const ParamSpec& s : layout)
        for (size_t i = s.offset; i < s.offset + s.numel; ++i) {
            INFO(s.name << "[" << i - s.offset << "]");
            CHECK(some[i] == (s.trainable ? all[i] : start[i]));
        }
    AdamWState too_many(3);
    CHECK_THROWS_WITH(adamw_update(some, grads, too_many, layout, 0.1f, AdamWConfig{}),
                      Contains("one per trainable parameter"));
}
