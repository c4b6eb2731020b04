// Tests for src/gptbook/data/instructions.cpp: the generated families, their held-out instances
// and phrasings, the alphabet, scoring, and Alpaca files.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/instructions.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

// Every held-out instance of every family, asked in every phrasing: "family\tprompt".
const std::set<std::string>& held_out_prompts() {
    static const std::set<std::string> prompts = [] {
        std::set<std::string> out;
        for (const std::string& family : instruction_families())
            for (uint64_t i = 0; i < instruction_instance_count(family); ++i)
                if (instruction_split_of(family, i) == InstructionSplit::test)
                    for (int p = 0; p < instruction_phrasing_count(family); ++p)
                        out.insert(family + "\t" + make_instruction(family, i, p).prompt);
        return out;
    }();
    return prompts;
}

bool is_held_out(const Instruction& ins) { return held_out_prompts().count(ins.family + "\t" + ins.prompt) == 1; }

uint64_t index_of_word(const std::string& word) {
    const auto& words = instruction_words();
    return static_cast<uint64_t>(std::find(words.begin(), words.end(), word) - words.begin());
}

} // namespace

TEST_CASE("the word list is a few hundred distinct lowercase words of 3 to 8 letters", "[ch11][instructions]") {
    const auto& words = instruction_words();
    CHECK(words.size() == 350);
    CHECK(std::set<std::string>(words.begin(), words.end()).size() == words.size());
    for (const std::string& w : words) {
        CHECK(w.size() >= 3);
        CHECK(w.size() <= 8);
        CHECK(std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
    }
}

TEST_CASE("each family is asked in at least 4 different phrasings", "[ch11][instructions]") {
    CHECK(instruction_families() ==
          std::vector<std::string>{"reverse", "sort", "add", "upper", "count", "first", "repeat"});
    for (const std::string& family : instruction_families()) {
        const int K = instruction_phrasing_count(family);
        CHECK(K >= 4);
        std::set<std::string> prompts;
        std::set<std::string> responses;
        for (int p = 0; p < K; ++p) {
            const Instruction ins = make_instruction(family, 7, p);
            CHECK(ins.family == family);
            CHECK(ins.phrasing == p);
            prompts.insert(ins.prompt);
            responses.insert(ins.response);
        }
        CHECK(prompts.size() == static_cast<std::size_t>(K)); // different words
        CHECK(responses.size() == 1);                         // the same request
    }
}

TEST_CASE("generated instructions have the exact expected responses", "[ch11][instructions]") {
    const uint64_t apple = index_of_word("apple"), river = index_of_word("river");
    const uint64_t n_words = instruction_words().size();
    CHECK(make_instruction("reverse", apple, 0).prompt == "Reverse the word apple.");
    CHECK(make_instruction("reverse", apple, 0).response == "elppa");
    CHECK(make_instruction("sort", apple, 1).prompt == "Put the letters of apple in alphabetical order.");
    CHECK(make_instruction("sort", apple, 1).response == "aelpp");
    CHECK(make_instruction("add", 12 * 100 + 34, 0).prompt == "What is 12 + 34?");
    CHECK(make_instruction("add", 12 * 100 + 34, 0).response == "46");
    CHECK(make_instruction("add", 99 * 100 + 99, 1).response == "198");
    CHECK(make_instruction("add", 0, 2).prompt == "Compute the sum of 0 and 0.");
    CHECK(make_instruction("add", 0, 2).response == "0");
    CHECK(make_instruction("upper", apple * n_words + river, 0).prompt == "Write this in capital letters: apple river");
    CHECK(make_instruction("upper", apple * n_words + river, 0).response == "APPLE RIVER");
    // count: the word's distinct letters a, p, l, e in order, then the letters it lacks: b, c, ...
    CHECK(make_instruction("count", apple * 8 + 1, 0).prompt == "How many times does the letter p appear in apple?");
    CHECK(make_instruction("count", apple * 8 + 1, 0).response == "2");
    CHECK(make_instruction("count", apple * 8 + 3, 2).prompt == "How many e's are in apple?");
    CHECK(make_instruction("count", apple * 8 + 3, 2).response == "1");
    CHECK(make_instruction("count", apple * 8 + 4, 1).prompt == "Count the letter b in apple.");
    CHECK(make_instruction("count", apple * 8 + 4, 1).response == "0");
    CHECK(make_instruction("first", river, 3).prompt == "Name the letter that begins river.");
    CHECK(make_instruction("first", river, 3).response == "r");
    CHECK(make_instruction("repeat", river, 3).prompt == "Give me river and then river again.");
    CHECK(make_instruction("repeat", river, 3).response == "river river");
}

TEST_CASE("every add instance's response is the sum of the numbers in its prompt", "[ch11][instructions]") {
    REQUIRE(instruction_instance_count("add") == 10000);
    for (uint64_t i = 0; i < 10000; ++i) {
        const Instruction ins = make_instruction("add", i, 0); // "What is A + B?"
        int a = -1, b = -1;
        REQUIRE(std::sscanf(ins.prompt.c_str(), "What is %d + %d?", &a, &b) == 2);
        CHECK(ins.response == std::to_string(a + b));
    }
}

TEST_CASE("instruction arguments out of range are errors that say the range", "[ch11][instructions]") {
    CHECK_THROWS_WITH(make_instruction("translate", 0, 0),
                      Contains("unknown instruction family \"translate\"") && Contains("reverse, sort, add"));
    CHECK_THROWS_WITH(make_instruction("add", 10000, 0), Contains("instance 10000 is out of range [0, 10000)"));
    CHECK_THROWS_WITH(make_instruction("add", 0, 4), Contains("phrasing 4 is out of range [0, 4)"));
    CHECK_THROWS_WITH(make_instruction("add", 0, -1), Contains("phrasing -1"));
    CHECK_THROWS_WITH(instruction_eval_set(InstructionEval::held_out_phrasing, 0), Contains("per_family is 0"));
}

TEST_CASE("about 1 in 5 instances of every family is held out", "[ch11][instructions]") {
    for (const std::string& family : instruction_families()) {
        const uint64_t n = instruction_instance_count(family);
        uint64_t test = 0;
        for (uint64_t i = 0; i < n; ++i) test += instruction_split_of(family, i) == InstructionSplit::test;
        const double share = static_cast<double>(test) / static_cast<double>(n);
        INFO(family << ": " << test << " of " << n << " held out");
        // 350 instances (the smallest families): a binomial(350, 0.2) share has standard
        // deviation 0.021, so [0.12, 0.28] is nearly 4 of them either side.
        CHECK(share > 0.12);
        CHECK(share < 0.28);
    }
}

TEST_CASE("training draws never give a held-out instance or the held-out phrasing", "[ch11][instructions]") {
    std::map<std::string, std::set<int>> phrasings_seen;
    for (const uint64_t seed : {1ULL, 2ULL, 3ULL}) {
        Rng rng(seed);
        for (int n = 0; n < 3000; ++n) {
            const Instruction ins = random_training_instruction(rng);
            REQUIRE_FALSE(is_held_out(ins));
            REQUIRE(ins.phrasing < instruction_phrasing_count(ins.family) - 1);
            phrasings_seen[ins.family].insert(ins.phrasing);
        }
    }
    // Every family and every training phrasing is drawn.
    CHECK(phrasings_seen.size() == instruction_families().size());
    for (const auto& [family, seen] : phrasings_seen)
        CHECK(seen.size() == static_cast<std::size_t>(instruction_phrasing_count(family) - 1));
    // The same seed draws the same instructions.
    Rng a(42), b(42);
    for (int n = 0; n < 20; ++n) CHECK(random_training_instruction(a).prompt == random_training_instruction(b).prompt);
}

TEST_CASE("the evaluation sets are fixed, held out, and share their instances", "[ch11][instructions]") {
    const int per_family = 20;
    const auto seen = instruction_eval_set(InstructionEval::held_out_instances, per_family);
    const auto unseen = instruction_eval_set(InstructionEval::held_out_phrasing, per_family);
    REQUIRE(seen.size() == instruction_families().size() * per_family);
    REQUIRE(unseen.size() == seen.size());
    CHECK(instruction_eval_set(InstructionEval::held_out_phrasing, per_family).front().prompt == unseen.front().prompt);
    std::set<std::string> distinct;
    std::set<int> add_first_numbers;
    for (std::size_t k = 0; k < seen.size(); ++k) {
        CHECK(is_held_out(seen[k]));
        CHECK(is_held_out(unseen[k]));
        const int K = instruction_phrasing_count(seen[k].family);
        CHECK(seen[k].phrasing < K - 1);
        CHECK(unseen[k].phrasing == K - 1);
        // The same instance in both: the same family and answer.
        CHECK(seen[k].family == unseen[k].family);
        CHECK(seen[k].response == unseen[k].response);
        distinct.insert(seen[k].family + "\t" + seen[k].prompt);
        int a = -1, b = -1;
        if (std::sscanf(seen[k].prompt.c_str(), "What is %d + %d?", &a, &b) == 2) add_first_numbers.insert(a);
    }
    CHECK(distinct.size() == seen.size());
    CHECK(add_first_numbers.size() > 1); // shuffled, not the first held-out instances in index order
    // More than a family has: all of its held-out instances, once each.
    const auto all = instruction_eval_set(InstructionEval::held_out_phrasing, 100000);
    const auto reverse_count =
        std::count_if(all.begin(), all.end(), [](const Instruction& i) { return i.family == "reverse"; });
    uint64_t reverse_test = 0;
    for (uint64_t i = 0; i < instruction_instance_count("reverse"); ++i)
        reverse_test += instruction_split_of("reverse", i) == InstructionSplit::test;
    CHECK(static_cast<uint64_t>(reverse_count) == reverse_test);
}

TEST_CASE("instruction_alphabet holds every character of every instruction", "[ch11][instructions]") {
    const std::string alphabet = instruction_alphabet();
    // Golden: adding these characters to a run's tokenizer fixes the ids of the new rows of the
    // embedding; a change here is a change of every chat run's vocabulary.
    CHECK(alphabet == " '+,.0123456789:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    CHECK(std::is_sorted(alphabet.begin(), alphabet.end()));
    CHECK(std::adjacent_find(alphabet.begin(), alphabet.end()) == alphabet.end());
    // A tiny-Shakespeare-like vocabulary plus the alphabet encodes every instruction.
    const auto tok = CharTokenizer::from_text("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                         .with_added(alphabet, {});
    Rng rng(7);
    std::vector<Instruction> sample = instruction_eval_set(InstructionEval::held_out_phrasing, 50);
    for (int n = 0; n < 2000; ++n) sample.push_back(random_training_instruction(rng));
    for (const Instruction& ins : sample) {
        CHECK_NOTHROW(tok.encode(ins.prompt));
        CHECK_NOTHROW(tok.encode(ins.response));
        for (const char c : ins.prompt + ins.response) CHECK(alphabet.find(c) != std::string::npos);
    }
    // Each character of the alphabet is used by some instruction: the placeholders "{0}" are not.
    CHECK(alphabet.find('{') == std::string::npos);
    CHECK(alphabet.find('}') == std::string::npos);
}

TEST_CASE("instruction_correct compares exactly, after cutting at the end token or a newline", "[ch11][instructions]") {
    const Instruction ins = make_instruction("reverse", index_of_word("apple"), 0); // "elppa"
    CHECK(instruction_correct(ins, "elppa"));
    CHECK(instruction_correct(ins, "elppa<|end|>elppa and more"));
    CHECK(instruction_correct(ins, "elppa\nWhat is"));
    CHECK(instruction_correct(ins, "elppa<e>x", "<e>"));
    CHECK_FALSE(instruction_correct(ins, "elpp"));
    CHECK_FALSE(instruction_correct(ins, "elppa "));
    CHECK_FALSE(instruction_correct(ins, " elppa"));
    CHECK_FALSE(instruction_correct(ins, "ELPPA"));
    CHECK_FALSE(instruction_correct(ins, "elppaelppa"));
    CHECK_FALSE(instruction_correct(ins, ""));
    // A response of several lines is not cut at its first newline.
    const Instruction poem{"alpaca", "Write two lines.", "roses\nviolets", 0};
    CHECK(instruction_correct(poem, "roses\nviolets<|end|>"));
    CHECK_FALSE(instruction_correct(poem, "roses\nvio<|end|>lets"));
    CHECK_FALSE(instruction_correct(poem, "roses"));
}

TEST_CASE("load_alpaca_json reads instruction, optional input, and output", "[ch11][instructions]") {
    TempDir dir;
    const std::string path = dir.file("data.json");
    write_file_atomic(path, R"([
        {"instruction": "Give a synonym.", "input": "happy", "output": "glad"},
        {"instruction": "Name a colour.", "input": "", "output": "red"},
        {"instruction": "Say hi.", "output": "hi"}
    ])");
    const std::vector<Instruction> data = load_alpaca_json(path);
    REQUIRE(data.size() == 3);
    CHECK(data[0].prompt == "Give a synonym.\n\nhappy");
    CHECK(data[0].response == "glad");
    CHECK(data[1].prompt == "Name a colour.");
    CHECK(data[2].prompt == "Say hi.");
    CHECK(data[2].response == "hi");
    for (const Instruction& ins : data) {
        CHECK(ins.family == "alpaca");
        CHECK(ins.phrasing == 0);
    }
}

TEST_CASE("load_alpaca_json errors name the file and the item", "[ch11][instructions]") {
    TempDir dir;
    const std::string path = dir.file("bad.json");
    const auto error_of = [&](const std::string& text) {
        write_file_atomic(path, text);
        try {
            load_alpaca_json(path);
        } catch (const Error& e) {
            const std::string message = e.what();
            CHECK_THAT(message, Contains("Alpaca file " + path));
            return message;
        }
        FAIL("loading " << text << " did not throw");
        return std::string();
    };
    const std::string ok = R"({"instruction": "a", "output": "b"}, )";
    CHECK_THAT(error_of("[{"), Contains("is not valid JSON"));
    CHECK_THAT(error_of(R"({"instruction": "a", "output": "b"})"),
               Contains("expected a JSON array") && Contains("object"));
    CHECK_THAT(error_of("[]"), Contains("empty array"));
    CHECK_THAT(error_of("[" + ok + "3]"), Contains("item 1 is a number, expected an object"));
    CHECK_THAT(error_of("[" + ok + ok + R"({"output": "b"}])"),
               Contains("item 2 has no \"instruction\" field") && Contains("\"input\" is optional"));
    CHECK_THAT(error_of("[" + ok + R"({"instruction": "a"}])"), Contains("item 1 has no \"output\" field"));
    CHECK_THAT(error_of("[" + ok + R"({"instruction": "a", "input": 5, "output": "b"}])"),
               Contains("item 1: field \"input\" is a number, expected a string"));
    CHECK_THAT(error_of("[" + ok + R"({"instruction": "a", "output": null}])"),
               Contains("item 1: field \"output\" is a null"));
    CHECK_THAT(error_of(R"([{"instruction": "", "output": "b"}])"), Contains("item 0 has an empty \"instruction\""));
    CHECK_THROWS_WITH(load_alpaca_json(dir.file("missing.json")), Contains("missing.json"));
}
