// Shapes: none; the schedule maps a step number to a learning rate.
#include "gptbook/optim/schedule.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace gptbook;

namespace {
const LrSchedule schedule{1e-3f, 1e-4f, 100, 2000}; // max, min, warmup, max_iters
}

// Every comparison below is of float32 results against values computed in double: a relative
// margin of 1e-6 covers the float rounding of the ratio and of the cosine.

TEST_CASE("warmup rises linearly from max_lr / W at step 0 to max_lr at step W - 1", "[ch06][optim][schedule]") {
    CHECK(learning_rate(schedule, 0) == Approx(1e-5).epsilon(1e-6));
    CHECK(learning_rate(schedule, 49) == Approx(5e-4).epsilon(1e-6));
    CHECK(learning_rate(schedule, 99) == Approx(1e-3).epsilon(1e-6));
    for (int it = 1; it < 100; ++it) CHECK(learning_rate(schedule, it) > learning_rate(schedule, it - 1));
}

TEST_CASE("the cosine starts at max_lr, is halfway at the middle and reaches min_lr at max_iters",
          "[ch06][optim][schedule]") {
    CHECK(learning_rate(schedule, 100) == Approx(1e-3).epsilon(1e-6));
    // A quarter of the way: min + (max - min) (1 + cos(pi/4)) / 2 = 1e-4 + 9e-4 * 0.8535534.
    CHECK(learning_rate(schedule, 575) == Approx(1e-4 + 9e-4 * 0.5 * (1 + std::cos(M_PI / 4))).epsilon(1e-6));
    CHECK(learning_rate(schedule, 1050) == Approx(5.5e-4).epsilon(1e-6)); // (max + min) / 2
    // One step before the end: cos(pi * 1899/1900) is 1.4e-6 above -1, so lr is min_lr + ~6e-10.
    CHECK(learning_rate(schedule, 1999) == Approx(1e-4).epsilon(1e-5));
    CHECK(learning_rate(schedule, 1999) > learning_rate(schedule, 2000));
    CHECK(learning_rate(schedule, 2000) == 1e-4f);
    for (int it = 101; it <= 2000; ++it) CHECK(learning_rate(schedule, it) <= learning_rate(schedule, it - 1));
}

TEST_CASE("beyond max_iters the learning rate stays at min_lr", "[ch06][optim][schedule]") {
    for (int it : {2000, 2001, 5000, 1000000}) CHECK(learning_rate(schedule, it) == 1e-4f);
}

TEST_CASE("without warmup the schedule starts at max_lr, and with warmup = max_iters it never decays",
          "[ch06][optim][schedule]") {
    const LrSchedule no_warmup{2e-3f, 2e-4f, 0, 10};
    CHECK(learning_rate(no_warmup, 0) == Approx(2e-3).epsilon(1e-6));
    CHECK(learning_rate(no_warmup, 5) == Approx(1.1e-3).epsilon(1e-6));
    const LrSchedule all_warmup{1e-3f, 1e-4f, 10, 10};
    CHECK(learning_rate(all_warmup, 9) == Approx(1e-3).epsilon(1e-6));
    CHECK(learning_rate(all_warmup, 10) == 1e-4f);
}
