// Tests for src/gptbook/train/progress.cpp: durations written for humans.
#include "gptbook/train/progress.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <unistd.h>

using namespace gptbook;

TEST_CASE("format_duration writes seconds, then minutes and seconds, then hours and minutes", "[ch08][progress]") {
    CHECK(format_duration(0.0) == "0s");
    CHECK(format_duration(12.4) == "12s");
    CHECK(format_duration(59.4) == "59s");
    CHECK(format_duration(185.0) == "3m05s");
    CHECK(format_duration(3599.0) == "59m59s");
    CHECK(format_duration(3725.0) == "1h02m");
    CHECK(format_duration(36000.0) == "10h00m");
}

TEST_CASE("format_duration rounds to the nearest second before choosing the unit", "[ch08][progress]") {
    CHECK(format_duration(59.6) == "1m00s"); // 60 s after rounding, so minutes
    CHECK(format_duration(3599.7) == "1h00m");
    CHECK(format_duration(0.49) == "0s");
}

TEST_CASE("format_duration shows a negative duration (clock skew) as zero", "[ch08][progress]") {
    CHECK(format_duration(-5.0) == "0s");
}

TEST_CASE("progress to a pipe or a file keeps a line only at evaluations, unless log_interval was chosen",
          "[ch08][progress]") {
    if (isatty(fileno(stdout))) {
        WARN("stdout is a terminal here (ctest gives a pipe): the live style is tested by eye");
        return;
    }
    const ProgressStyle quiet = progress_style_for_stdout(10, 250, false);
    CHECK_FALSE(quiet.live);
    CHECK(quiet.interval == 250);
    const ProgressStyle chosen = progress_style_for_stdout(10, 250, true);
    CHECK_FALSE(chosen.live);
    CHECK(chosen.interval == 10);
}
