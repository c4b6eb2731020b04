// `gptbook quantize` and `gptbook distill` as a user meets them (chapter 14): a run quantized to
// int8 and int4 that sample and eval read, a student distilled from a teacher, and one clear line
// for each kind of bad input.
#include "gptbook/core/file.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace gptbook::test;

namespace {

// A run as train_tiny_base's, 32 channels wide: rows that split into groups of 32.
std::string train_base_32(const Scratch& s) {
    if (train_tiny_base(s).empty()) return {}; // writes corpus.txt
    const Result r =
        run(s, "train --data " + s.file("corpus.txt") + " --out " + s.file("base32") +
                   " --n-layer 2 --n-head 2 --n-embd 32 --block-size 32 --max-iters 10 --eval-interval 10" +
                   tiny_run_options);
    return r.code == 0 ? s.file("base32") : std::string();
}

} // namespace

TEST_CASE("quantize a run to int8 and int4, then sample from it and score it", "[ch14][cli]") {
    Scratch s;
    const std::string base = train_base_32(s);
    REQUIRE(!base.empty());
    const Result q8 = run(s, "quantize --run " + base + " --bits 8");
    INFO(q8.out << q8.err);
    REQUIRE(q8.code == 0);
    const std::string q8_dir = base + "-int8-g32";
    CHECK_THAT(q8.out, Catch::Contains("-> " + q8_dir) && Catch::Contains("int8, groups of 32") &&
                           Catch::Contains("9.000 bits per weight") && Catch::Contains("model.safetensors"));
    for (const char* f : {"model.safetensors", "config.json", "tokenizer.json"})
        CHECK(std::filesystem::exists(q8_dir + "/" + f));
    CHECK_FALSE(std::filesystem::exists(q8_dir + "/train_state.safetensors"));
    CHECK(std::filesystem::file_size(q8_dir + "/model.safetensors") <
          std::filesystem::file_size(base + "/model.safetensors") / 2);

    const Result sample = run(s, "sample --run " + q8_dir + " --prompt the --max-new-tokens 20 --seed 1");
    INFO(sample.err);
    CHECK(sample.code == 0);
    CHECK(sample.out.size() >= 20);
    const Result inspect = run(s, "inspect " + q8_dir);
    CHECK(inspect.code == 0);
    CHECK_THAT(inspect.out, Catch::Contains("int8, groups of 32"));
    const Result e_float = run(s, "eval --run " + base + " --split val");
    const Result e_q8 = run(s, "eval --run " + q8_dir + " --split val");
    INFO(e_float.out << e_q8.out << e_q8.err);
    REQUIRE(e_q8.code == 0);
    REQUIRE(e_float.out.find("loss ") != std::string::npos);
    REQUIRE(e_q8.out.find("loss ") != std::string::npos);
    const auto loss = [](const std::string& out) { return std::stod(out.substr(out.find("loss ") + 5)); };
    CHECK(std::abs(loss(e_q8.out) - loss(e_float.out)) < 0.01); // int8 changes the loss by far less

    const Result q4 = run(s, "quantize --run " + base + " --bits 4 --group 32 --out " + s.file("q4"));
    INFO(q4.out << q4.err);
    REQUIRE(q4.code == 0);
    CHECK_THAT(q4.out, Catch::Contains("int4, groups of 32") && Catch::Contains("5.000 bits per weight"));
    CHECK(run(s, "eval --run " + s.file("q4") + " --split val").code == 0);
}

TEST_CASE("quantize refuses bad input in one line, and a quantized run is for inference", "[ch14][cli]") {
    Scratch s;
    const std::string base = train_base_32(s);
    REQUIRE(!base.empty());
    const Result narrow = run(s, "quantize --run " + s.file("base") + " --out " + s.file("n"));
    CHECK(narrow.code == 1); // train_tiny_base's rows of 16 numbers
    CHECK_THAT(narrow.err, Catch::Contains("rows of 16 numbers do not split into groups of 32"));
    CHECK_FALSE(std::filesystem::exists(s.file("n"))); // refused before anything is written
    const Result group = run(s, "quantize --run " + base + " --group 48 --out " + s.file("g"));
    CHECK(group.code == 1);
    CHECK_THAT(group.err, Catch::Contains("group size 48; expected a multiple of 32"));
    const Result bits = run(s, "quantize --run " + base + " --bits 3");
    CHECK(bits.code == 1);
    CHECK_THAT(bits.err, Catch::Contains("--bits"));

    const std::string q = s.file("q");
    REQUIRE(run(s, "quantize --run " + base + " --out " + q).code == 0);
    const Result again = run(s, "quantize --run " + base + " --out " + q);
    CHECK(again.code == 1);
    CHECK_THAT(again.err, Catch::Contains("already exists and holds a run"));
    const Result twice = run(s, "quantize --run " + q + " --bits 4");
    CHECK(twice.code == 1);
    CHECK_THAT(twice.err, Catch::Contains("already quantized (int8, groups of 32); quantize the float run"));
    const Result resume = run(s, "train --out " + q + " --resume");
    CHECK(resume.code == 1);
    CHECK_THAT(resume.err,
               Catch::Contains(q + " is a quantized run") &&
                   Catch::Contains("quantized runs are for inference (sample, eval) and cannot be resumed"));
    CHECK(count_lines(resume.err) == 1);
    const Result finetune =
        run(s, "finetune --base " + q + " --data " + s.file("corpus.txt") + " --out " + s.file("f"));
    CHECK(finetune.code == 1);
    CHECK_THAT(finetune.err, Catch::Contains("is a quantized run (int8, groups of 32), which is for inference"));
}

TEST_CASE("distill a student from a teacher, resume it, and refuse a context the teacher cannot read", "[ch14][cli]") {
    Scratch s;
    const std::string teacher = train_base_32(s);
    REQUIRE(!teacher.empty());
    const std::string opts = " --n-layer 1 --n-head 2 --n-embd 16 --eval-iters 2 --log-interval 10 --threads 1";
    const Result half = run(s, "distill --teacher " + teacher + opts + " --max-iters 8 --eval-interval 4");
    INFO(half.out << half.err);
    REQUIRE(half.code == 0);
    const std::string student = teacher + "-student"; // the default --out
    CHECK_THAT(half.out,
               Catch::Contains("gptbook distill: " + teacher + " -> " + student) &&
                   Catch::Contains("0.50 * tau^2 KL(teacher || student at tau = 2.00) + 0.50 * cross-entropy"));
    CHECK_THAT(half.out, Catch::Contains("done: best val loss") && Catch::Contains("(cross-entropy) after 8 steps"));
    // Resumed, the run finds its teacher, alpha and tau in its own config (a finished run: nothing to do).
    const Result rest = run(s, "distill --out " + student + " --resume --threads 1");
    INFO(rest.out << rest.err);
    REQUIRE(rest.code == 0);
    CHECK_THAT(rest.out,
               Catch::Contains("gptbook distill: " + teacher + " -> " + student) && Catch::Contains("after 8 steps"));
    const Result other = run(s, "distill --out " + student + " --resume --teacher " + s.file("base"));
    CHECK(other.code == 1);
    CHECK_THAT(other.err, Catch::Contains("learns from " + teacher) && Catch::Contains("drop --teacher"));

    const Result context = run(s, "distill --teacher " + teacher + opts + " --block-size 64 --out " + s.file("long"));
    CHECK(context.code == 1);
    CHECK_THAT(context.err, Catch::Contains("the student's context is 64 tokens but the teacher reads at most 32"));
    CHECK_FALSE(std::filesystem::exists(s.file("long")));
    const Result none = run(s, "distill --n-layer 1");
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Catch::Contains("distill needs a trained teacher: --teacher runs/NAME"));
}
