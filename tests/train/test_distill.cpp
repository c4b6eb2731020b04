// Tests for src/gptbook/train/distill.cpp and gpt_backward_logits (chapter 14): the distillation
// step's gradient through the whole model against central differences, GPT-2's and Llama's
// shapes; gpt_backward_logits given cross-entropy's gradient is gpt_backward; and the batches of
// distill_data carry the teacher's logits for training only.
#include "gptbook/train/distill.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/nn/crossentropy.hpp"
#include "support/ch11_config.hpp"
#include "support/model_gradcheck.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

Batch some_batch(int B, int T, int V) {
    Batch b;
    b.B = B;
    b.T = T;
    for (int i = 0; i < B * T; ++i) {
        b.inputs.push_back((3 * i + 1) % V);
        b.targets.push_back(i % 5 == 4 ? ignore_target : (5 * i + 2) % V);
    }
    return b;
}

} // namespace

TEST_CASE("gpt_backward_logits given cross-entropy's gradient is gpt_backward", "[ch14][train][distill]") {
    const GPTConfig c = test::ch11_config();
    GPT a(c), b(c);
    Rng rng(3);
    test::spread_init(a, rng);
    b.params = a.params;
    const Batch batch = some_batch(2, 8, c.vocab_size);
    ActivationTensors acts_a(c, 2, 8), acts_b(c, 2, 8);
    gpt_forward(a, acts_a, batch.inputs, &batch.targets);
    gpt_backward(a, acts_a, batch.inputs, batch.targets);
    gpt_forward(b, acts_b, batch.inputs, &batch.targets);
    size_t scored = 0;
    for (int32_t y : batch.targets) scored += y != ignore_target;
    RowVec dlosses(batch.targets.size());
    for (size_t n = 0; n < batch.targets.size(); ++n)
        dlosses[n] = batch.targets[n] == ignore_target ? 0.0f : 1.0f / static_cast<float>(scored);
    Mat dlogits(c.vocab_size, 16, arma::fill::zeros);
    crossentropy_backward(dlogits, dlosses, acts_b.probs, batch.targets); // eq. (6.2)
    gpt_backward_logits(b, acts_b, batch.inputs, dlogits);
    // The same operations in the same order: equal to the last bit.
    CHECK(arma::approx_equal(a.grads, b.grads, "absdiff", 0.0f));
    CHECK_THROWS_WITH(gpt_backward_logits(b, acts_b, batch.inputs, Mat(3, 16)),
                      Contains("dlogits is (3 x 16), expected (11 x 16)"));
}

TEST_CASE("the distillation step's gradient through the model matches central differences", "[ch14][train][distill]") {
    for (bool llama : {false, true}) {
        const GPTConfig c = test::ch11_config(llama);
        GPT student(c), teacher(c);
        Rng rng(llama ? 12 : 11);
        test::spread_init(student, rng);
        test::spread_init(teacher, rng);
        Batch batch = some_batch(2, 8, c.vocab_size);
        ActivationTensors teacher_acts(c, 2, 8), acts(c, 2, 8);
        gpt_forward(teacher, teacher_acts, batch.inputs, nullptr);
        batch.distill = Batch::Distill{teacher_acts.logits, 0.5f, 2.0f};
        student.zero_grad();
        distill_batch_forward(student, acts, batch);
        distill_batch_backward(student, acts, batch);
        const Vec analytic = student.grads;
        const auto loss = [&] { return static_cast<double>(distill_batch_forward(student, acts, batch)); };
        const std::vector<size_t> probes = test::probe_indices(
            student.layout, [](const std::string&) { return false; }, 3);
        CHECK(test::check_gradient_at(student, analytic, probes, loss, llama ? "distill, llama" : "distill, gpt-2") ==
              0);
    }
}

TEST_CASE("distill_data gives training batches the teacher's logits and validation batches none",
          "[ch14][train][distill]") {
    const GPTConfig c = test::ch11_config();
    auto teacher = std::make_shared<GPT>(c);
    Rng init(4);
    gpt_init(*teacher, init);
    const DataSource text{[&](int, int B, Rng&) { return some_batch(B, 8, c.vocab_size); }};
    const DataSource data = distill_data(text, teacher, 0.7f, 3.0f);
    Rng rng(1);
    const Batch train = data.sample(0, 2, rng);
    REQUIRE(train.distill.teacher_logits.n_rows == static_cast<arma::uword>(c.vocab_size));
    REQUIRE(train.distill.teacher_logits.n_cols == 16);
    CHECK(train.distill.alpha == 0.7f);
    CHECK(train.distill.tau == 3.0f);
    ActivationTensors acts(c, 2, 8);
    gpt_forward(*teacher, acts, train.inputs, nullptr);
    CHECK(arma::approx_equal(train.distill.teacher_logits, acts.logits, "absdiff", 0.0f)); // the teacher's own logits
    CHECK(data.sample(1, 2, rng).distill.teacher_logits.is_empty());
    GPTConfig short_context = c;
    short_context.block_size = 4;
    const DataSource too_long = distill_data(text, std::make_shared<GPT>(short_context), 0.5f, 2.0f);
    CHECK_THROWS_WITH(too_long.sample(0, 2, rng), Contains("the teacher's context is 4"));
    CHECK_THROWS_WITH(distill_data(text, teacher, 1.5f, 2.0f), Contains("--alpha is 1.5"));
}
