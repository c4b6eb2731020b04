// Tests for src/gptbook/train/rag_data.cpp (chapter 13): the reader's packed training rows and its
// single-example validation rows, the context it asks for, and the embedding model's pairs.
#include "gptbook/train/rag_data.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/rag/world.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

Tokenizer base_tokenizer() { return CharTokenizer::from_text("abcdefghijklmnopqrstuvwxyz .\n"); }

GPTConfig small(int T) {
    GPTConfig c;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 16;
    c.block_size = T;
    return c;
}

} // namespace

TEST_CASE("the reader's rows: packed examples in training, one per row in validation", "[ch13][rag][train]") {
    GPTConfig c = small(64);
    CHECK_THROWS_WITH(reader_data("world:2", c, base_tokenizer()),
                      Contains("the model's context is T=64") && Contains("give --block-size"));
    GPTConfig grown = small(64);
    reader_data("world:2", grown, base_tokenizer(), /*fit_context=*/true);
    CHECK(grown.block_size % 32 == 0);
    CHECK(grown.block_size > 64);
    CHECK_THROWS_WITH(reader_data("world:x", c, base_tokenizer()), Contains("expected world or world:K"));

    GPTConfig model = small(256);
    const FinetuneData d = reader_data("world:3", model, base_tokenizer());
    const Tokenizer& tok = *d.tokenizer;
    CHECK(model.vocab_size == tok.vocab_size());
    const ChatTemplate chat;
    const int32_t user = *tok.special_id(chat.user), end = *tok.special_id(chat.end);
    Rng rng(3);
    for (const int split : {0, 1}) {
        const Batch b = d.source.sample(split, 6, rng);
        REQUIRE(b.B == 6);
        REQUIRE(b.T == 256);
        int total_turns = 0;
        for (int r = 0; r < b.B; ++r) {
            int turns = 0;
            for (int t = 0; t < b.lengths[static_cast<size_t>(r)]; ++t) {
                const size_t i = static_cast<size_t>(r) * 256 + static_cast<size_t>(t);
                turns += b.inputs[i] == user;
                // The token after an end token is the next prompt's: never a target.
                if (b.inputs[i] == end) CHECK(b.targets[i] == Batch::ignore);
            }
            CHECK(turns >= 1);
            if (split == 1) CHECK(turns == 1);
            total_turns += turns;
        }
        if (split == 0) CHECK(total_turns > 6); // packed: more answers than rows
    }
}

TEST_CASE("the embedding model's pairs: a question and its passage, two facts per person", "[ch13][rag][train]") {
    GPTConfig model = small(64);
    const FinetuneData d = embedder_data("world", model, base_tokenizer(), 8, 0.05);
    CHECK(model.embedder);
    CHECK(model.n_classes == 8);
    CHECK(model.pool == Pooling::mean);
    const Tokenizer& tok = *d.tokenizer;
    Rng rng(4);
    const Batch b = d.source.sample(0, 8, rng);
    REQUIRE(b.B == 8);
    CHECK(b.infonce_tau == 0.05);
    CHECK(b.labels.empty());
    auto row = [&](int r) {
        Tokens ids(b.inputs.begin() + r * 64, b.inputs.begin() + r * 64 + b.lengths[static_cast<size_t>(r)]);
        return tok.decode(ids);
    };
    for (int i = 0; i < 4; ++i) {
        const std::string q = row(2 * i), p = row(2 * i + 1);
        INFO(q << " / " << p);
        CHECK(q.back() == '?');
        CHECK(p.back() == '.');
        const std::string name = q.substr(q.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1));
        CHECK(p.find(name.substr(0, name.find(' '))) != std::string::npos); // the same person
    }
    // Pairs 0 and 1 are two facts of one person, pairs 2 and 3 of another.
    CHECK(row(1).substr(0, 4) != row(5).substr(0, 4));
    CHECK_THROWS_WITH(d.source.sample(0, 6, rng), Contains("must be a multiple of 4"));
    GPTConfig bad = small(64);
    CHECK_THROWS_WITH(embedder_data("web", bad, base_tokenizer(), 8, 0.05), Contains("expected world"));
    CHECK_THROWS_WITH(embedder_data("world", bad, base_tokenizer(), 1, 0.05), Contains("at least 2"));
}
