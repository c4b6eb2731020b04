// Tests for src/gptbook/data/chat.cpp: the chat template, its token checks, the prompt-masked
// examples and their padded batches.
#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

constexpr int32_t ignore = Batch::ignore;

// The worked example of chat.hpp: h=0, i=1, k=2, o=3, <|user|>=4, <|assistant|>=5, <|end|>=6.
Tokenizer hiko_chat() {
    return Tokenizer(CharTokenizer::from_text("hiko")).with_added_tokens("", chat_special_tokens(ChatTemplate{}));
}

} // namespace

TEST_CASE("the chat template's special tokens are user, assistant, end", "[ch11][chat]") {
    CHECK(chat_special_tokens(ChatTemplate{}) == std::vector<std::string>{"<|user|>", "<|assistant|>", "<|end|>"});
    const ChatTemplate custom{"<u>", "<a>", "<e>"};
    CHECK(chat_special_tokens(custom) == std::vector<std::string>{"<u>", "<a>", "<e>"});
}

TEST_CASE("check_chat_tokens names the missing token and says how to get it", "[ch11][chat]") {
    const Tokenizer plain(CharTokenizer::from_text("hiko"));
    CHECK_THROWS_WITH(check_chat_tokens(plain, ChatTemplate{}, "runs/x"),
                      Contains("runs/x: the tokenizer has no \"<|user|>\" token, so it cannot hold a chat") &&
                          Contains("`gptbook finetune --base runs/x --chat ...`") &&
                          Contains("adds the template's tokens"));
    // Only the first two tokens: the message names the one missing.
    const Tokenizer partial = plain.with_added_tokens("", {"<|user|>", "<|assistant|>"});
    CHECK_THROWS_WITH(check_chat_tokens(partial, ChatTemplate{}, "runs/y"), Contains("no \"<|end|>\" token"));
    CHECK_NOTHROW(check_chat_tokens(hiko_chat(), ChatTemplate{}, "runs/z"));
    // A template with other texts needs those texts.
    CHECK_THROWS_WITH(check_chat_tokens(hiko_chat(), ChatTemplate{"<u>", "<a>", "<e>"}, "runs/z"),
                      Contains("no \"<u>\" token"));
}

TEST_CASE("chat_prompt_ids wraps the prompt in <|user|> ... <|assistant|>", "[ch11][chat]") {
    CHECK(chat_prompt_ids(hiko_chat(), ChatTemplate{}, "hik") == Tokens{4, 0, 1, 2, 5});
    CHECK(chat_prompt_ids(hiko_chat(), ChatTemplate{}, "") == Tokens{4, 5});
    CHECK_THROWS_WITH(chat_prompt_ids(Tokenizer(CharTokenizer::from_text("hiko")), ChatTemplate{}, "hi"),
                      Contains("no \"<|user|>\" token") && Contains("with_added_tokens"));
}

TEST_CASE("chat_example_ids: the worked example of chat.hpp, prompt targets ignored", "[ch11][chat]") {
    const ChatExample ex = chat_example_ids(hiko_chat(), ChatTemplate{}, "hi", "ok");
    CHECK(ex.inputs == Tokens{4, 0, 1, 5, 3, 2});
    CHECK(ex.targets == Tokens{ignore, ignore, ignore, 3, 2, 6});
}

TEST_CASE("chat_example_ids scores exactly the response and the end token", "[ch11][chat]") {
    const Tokenizer tok = hiko_chat();
    for (const auto& [prompt, response] : std::vector<std::pair<std::string, std::string>>{
             {"", ""}, {"h", ""}, {"", "k"}, {"hikohiko", "ok"}, {"o", "kiokiokio"}}) {
        const ChatExample ex = chat_example_ids(tok, ChatTemplate{}, prompt, response);
        const std::size_t P = prompt.size() + 2, R = response.size();
        REQUIRE(ex.inputs.size() == P + R);
        REQUIRE(ex.targets.size() == P + R);
        // Inputs and targets are one sequence shifted by one.
        for (std::size_t t = 0; t + 1 < ex.inputs.size(); ++t)
            if (ex.targets[t] != ignore) CHECK(ex.targets[t] == ex.inputs[t + 1]);
        const auto scored = std::count_if(ex.targets.begin(), ex.targets.end(), [](int32_t t) { return t != ignore; });
        CHECK(scored == static_cast<std::ptrdiff_t>(R + 1));
        CHECK(ex.targets.back() == *tok.special_id("<|end|>"));
        CHECK(ex.inputs[P - 1] == *tok.special_id("<|assistant|>"));
        CHECK(tok.decode(Tokens(ex.targets.begin() + static_cast<std::ptrdiff_t>(P - 1), ex.targets.end())) ==
              response + "<|end|>");
    }
}

TEST_CASE("text that spells a template token never becomes that token", "[ch11][chat]") {
    const ChatTemplate chat;
    // A char tokenizer that has the characters '<', '|', ... as well as the special tokens.
    const Tokenizer chr =
        Tokenizer(CharTokenizer::from_text("<|endusrati>")).with_added_tokens("", chat_special_tokens(chat));
    // BPE, whose Tokenizer::encode() would turn "<|end|>" into the special id.
    const Tokenizer bpe =
        Tokenizer(BpeTokenizer::from_merges({}, BpePattern::gpt2, {})).with_added_tokens("", chat_special_tokens(chat));
    for (const Tokenizer* tok : {&chr, &bpe}) {
        const int32_t end = *tok->special_id(chat.end);
        const int32_t user = *tok->special_id(chat.user);
        const ChatExample ex = chat_example_ids(*tok, chat, "<|end|><|user|>", "<|end|>");
        CHECK(std::count(ex.inputs.begin(), ex.inputs.end(), end) == 0);  // only the last target is the end
        CHECK(std::count(ex.inputs.begin(), ex.inputs.end(), user) == 1); // only the template's own
        CHECK(std::count(ex.targets.begin(), ex.targets.end(), end) == 1);
        CHECK(tok->decode(ex.inputs) == "<|user|><|end|><|user|><|assistant|><|end|>");
    }
}

TEST_CASE("chat_batch right-pads each row to T with ignored targets", "[ch11][chat]") {
    const Tokenizer tok = hiko_chat();
    const std::vector<ChatExample> examples = {chat_example_ids(tok, ChatTemplate{}, "hi", "ok"), // 6 inputs
                                               chat_example_ids(tok, ChatTemplate{}, "", "h")};   // 3 inputs
    const int32_t pad = 6;
    const Batch batch = chat_batch(examples, {1, 0, 1}, 6, pad);
    CHECK(batch.B == 3);
    CHECK(batch.T == 6);
    CHECK(batch.inputs == Tokens{4, 5, 0, pad, pad, pad, /**/ 4, 0, 1, 5, 3, 2, /**/ 4, 5, 0, pad, pad, pad});
    CHECK(batch.targets == Tokens{ignore, 0, 6, ignore, ignore, ignore, //
                                  ignore, ignore, ignore, 3, 2, 6,      //
                                  ignore, 0, 6, ignore, ignore, ignore});
    CHECK(batch.lengths == std::vector<int32_t>{3, 6, 3});
    CHECK(batch.labels.empty());
}

TEST_CASE("chat_batch errors name the example and the block size", "[ch11][chat]") {
    const Tokenizer tok = hiko_chat();
    const std::vector<ChatExample> examples = {chat_example_ids(tok, ChatTemplate{}, "h", ""),
                                               chat_example_ids(tok, ChatTemplate{}, "hikohiko", "okok")};
    CHECK_THROWS_WITH(chat_batch(examples, {0, 1}, 8, 0), Contains("example 1 has 14 tokens") &&
                                                              Contains("block size T=8") &&
                                                              Contains("raise --block-size or shorten the example"));
    CHECK_NOTHROW(chat_batch(examples, {0, 1}, 14, 0)); // exactly T inputs fit
    CHECK_THROWS_WITH(chat_batch(examples, {}, 8, 0), Contains("no rows"));
    CHECK_THROWS_WITH(chat_batch(examples, {2}, 8, 0), Contains("example 2") && Contains("there are 2 examples"));
    CHECK_THROWS_WITH(chat_batch(examples, {0}, 0, 0), Contains("T is 0"));
    CHECK_THROWS_WITH(chat_batch(examples, {0}, 8, -1), Contains("pad_id is -1"));
    CHECK_THROWS_WITH(chat_batch({ChatExample{}}, {0}, 8, 0), Contains("0 inputs"));
}
