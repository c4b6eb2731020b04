// The playground's API (serve/playground) against the library it shows: the softmax and eq. (7.1)
// of the cache's logits, gpt_forward's attention weights, generate's tokens; and every refusal.
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "tiny_playground.hpp"

#include <catch2/catch.hpp>

using namespace gptbook;
using namespace gptbook::test;
using nlohmann::json;

namespace {

/// The HTTP status an API call is refused with (0 when it is answered).
template <class Call>
int refusal(const Call& call) {
    try {
        call();
    } catch (const ApiError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find('\n') == std::string::npos); // one line
        return e.status();
    }
    return 0;
}

} // namespace

TEST_CASE("the playground lists its runs and limits, and refuses a run list it cannot serve", "[serve][ch07]") {
    const json runs = playground().runs();
    REQUIRE(runs["runs"].size() == 1);
    CHECK(runs["runs"][0]["name"] == "tiny");
    CHECK(runs["runs"][0]["vocab_size"] == tiny().tokenizer.vocab_size());
    CHECK(runs["runs"][0]["n_layer"] == 2);
    CHECK(runs["runs"][0]["parameters"] == tiny().model.params.n_elem);
    CHECK(runs["limits"]["max_new_tokens"] == 500);
    CHECK_THROWS_WITH(Playground({}, {}), Catch::Contains("no run to serve"));
    CHECK_THROWS_WITH(
        Playground({{"a", &tiny().model, &tiny().tokenizer, ""}, {"a", &tiny().model, &tiny().tokenizer, ""}}, {}),
        Catch::Contains("two runs are called a"));
    PlaygroundLimits bad;
    bad.max_generations = 0;
    CHECK_THROWS_WITH(playground(bad), Catch::Contains("--max-generations"));
}

TEST_CASE("tokenize returns the tokenizer's ids, whose texts put together are the text", "[serve][ch07]") {
    const std::string text = "the cat sat.\nno.";
    const json answer = playground().tokenize({{"text", text}});
    const Tokens ids = tiny().tokenizer.encode(text);
    REQUIRE(answer["count"] == ids.size());
    std::string joined;
    for (size_t i = 0; i < ids.size(); ++i) {
        CHECK(answer["tokens"][i]["id"] == ids[i]);
        joined += answer["tokens"][i]["text"].get<std::string>();
    }
    CHECK(joined == text);
}

TEST_CASE("a byte-level token that holds part of a character also shows its bytes", "[serve][ch07]") {
    const Tokenizer bpe(BpeTokenizer::train("the cat sat on the mat", 256 + 4)); // too few merges for é's bytes
    GPTConfig c = tiny().config();
    c.vocab_size = bpe.vocab_size();
    GPT model(c);
    Rng rng(3);
    gpt_init(model, rng);
    const Playground pg({{"bpe", &model, &bpe, ""}}, {});
    const json answer = pg.tokenize({{"text", "café"}});
    REQUIRE(answer["count"] == 5); // c a f, then é's two bytes
    CHECK_FALSE(answer["tokens"][2].contains("bytes"));
    CHECK(answer["tokens"][3]["bytes"] == "c3");
    CHECK(answer["tokens"][4]["bytes"] == "a9");
    CHECK(json::parse(dump_json(answer))["tokens"][3]["text"] == "\xef\xbf\xbd"); // U+FFFD in valid JSON
}

TEST_CASE("next gives the model's softmax and the sampler's distribution (eq. 7.1) and the seed's draw",
          "[serve][ch07]") {
    const std::string text = "a cat and a dog sat on the mat"; // 30 characters: the model sees the last 16
    const Tokens context = last_tokens(tiny().tokenizer.encode(text), 16);
    KVCache cache(tiny().model);
    const Vec logits = cache.prefill(context);
    SamplingOptions o;
    o.temperature = 0.7f;
    o.top_k = 5;
    const Vec p = next_token_distribution(logits, o), p_model = next_token_distribution(logits, SamplingOptions{});
    const json answer =
        playground().next({{"text", text}, {"temperature", 0.7}, {"top_k", 5}, {"seed", 3}, {"top", 8}});
    CHECK(answer["context"] == 16);
    REQUIRE(answer["distribution"].size() == 8);
    // Margins: the API rounds each probability to 6 decimals; 8 of them summed, to under 1e-5.
    double shown = 0, shown_model = 0, last = 1;
    for (const json& d : answer["distribution"]) {
        const auto id = d["id"].get<arma::uword>();
        CHECK(d["p_model"].get<double>() == Approx(p_model(id)).margin(1e-6));
        CHECK(d["p"].get<double>() == Approx(p(id)).margin(1e-6));
        CHECK(d["p_model"].get<double>() <= last); // the most likely first
        last = d["p_model"].get<double>();
        shown += d["p"].get<double>();
        shown_model += d["p_model"].get<double>();
    }
    CHECK(shown + answer["rest"]["p"].get<double>() == Approx(1.0).margin(1e-5));
    CHECK(shown_model + answer["rest"]["p_model"].get<double>() == Approx(1.0).margin(1e-5));
    Rng rng(3);
    CHECK(answer["sampled"]["id"] == sample_token(logits, o, rng));
    // Greedy: all the sampler's mass on the model's most likely token, whatever the seed.
    const json greedy = playground().next({{"text", text}, {"temperature", 0}, {"seed", 99}});
    CHECK(greedy["sampled"]["id"] == greedy["distribution"][0]["id"]);
    CHECK(greedy["distribution"][0]["p"] == 1.0);
}

TEST_CASE("attention returns the forward pass's weights: causal rows that sum to 1, and their mean", "[serve][ch07]") {
    const std::string text = "the cat sat";
    const Tokens ids = tiny().tokenizer.encode(text);
    const int n = static_cast<int>(ids.size());
    ActivationTensors acts(tiny().model.config, 1, n);
    gpt_forward(tiny().model, acts, ids, nullptr);
    const json answer = playground().attention({{"text", text}, {"layer", 1}});
    CHECK(answer["layer"] == 1);
    REQUIRE(answer["heads"].size() == 2);
    REQUIRE(answer["tokens"].size() == ids.size());
    // Margins: the API rounds each weight to 4 decimals (5e-5); a row of n = 11 of them sums to 1
    // within 11 x 5e-5 < 1e-3.
    for (int h = 0; h < 2; ++h) {
        for (int q = 0; q < n; ++q) {
            double sum = 0;
            for (int k = 0; k < n; ++k) {
                const double w = answer["heads"][h][q][k].get<double>();
                if (k > q) CHECK(w == 0.0);
                else CHECK(w == Approx(acts.h[1].att(k, h * n + q)).margin(5e-5));
                sum += w;
                const double mean = answer["mean"][q][k].get<double>();
                CHECK(mean == Approx((acts.h[1].att(k, q) + acts.h[1].att(k, n + q)) / 2 * (k <= q)).margin(5e-5));
            }
            CHECK(sum == Approx(1.0).margin(1e-3));
        }
    }
    PlaygroundLimits few;
    few.max_attention_tokens = 4;
    CHECK(playground(few).attention({{"text", text}})["tokens"].size() == 4); // the last 4
}

TEST_CASE("generate streams the tokens generate() draws, each with its probabilities and alternatives",
          "[serve][ch07]") {
    const std::string text = "the cat";
    SamplingOptions o;
    o.top_p = 0.9f;
    Rng rng(5);
    const Tokens expected = generate(tiny().model, tiny().tokenizer.encode(text), 40, o, rng);
    std::vector<json> events;
    const json done = playground().generate({{"text", text}, {"max_new_tokens", 40}, {"top_p", 0.9}, {"seed", 5}},
                                            [&](const json& e) {
                                                events.push_back(e);
                                                return true;
                                            });
    REQUIRE(events.size() == 40);
    std::string joined;
    for (size_t i = 0; i < events.size(); ++i) {
        CHECK(events[i]["id"] == expected[i]);
        joined += events[i]["text"].get<std::string>();
        CHECK(events[i]["top"].size() == 10);
        CHECK(events[i]["p_model"].get<double>() > 0.0);
    }
    CHECK(joined == tiny().tokenizer.decode(expected));
    CHECK(done["tokens"] == 40);
    CHECK(done["stopped"] == "length");

    int seen = 0;
    const json left =
        playground().generate({{"text", text}, {"max_new_tokens", 40}}, [&](const json&) { return ++seen < 3; });
    CHECK(left["tokens"] == 3);
    CHECK(left["stopped"] == "client");
    PlaygroundLimits quick;
    quick.max_seconds = 1e-9;
    const json timed =
        playground(quick).generate({{"text", text}, {"max_new_tokens", 40}}, [](const json&) { return true; });
    CHECK(timed["stopped"] == "time limit");
    CHECK(timed["tokens"] == 1);
}

TEST_CASE("every bad request is refused with a 4xx and one line saying what was expected", "[serve][ch07]") {
    const Playground pg = playground();
    const auto next = [&](const json& r) { return refusal([&] { pg.next(r); }); };
    CHECK(refusal([] { parse_request("not json"); }) == 400);
    CHECK(refusal([] { parse_request("[1, 2]"); }) == 400);
    CHECK(next({{"text", "a"}, {"temprature", 1}}) == 400);      // unknown field
    CHECK(next({{"text", 3}}) == 400);                           // not a string
    CHECK(next(json::object()) == 400);                          // no text
    CHECK(next({{"text", ""}}) == 400);                          // empty
    CHECK(next({{"text", "ABC"}}) == 400);                       // outside the vocabulary
    CHECK(next({{"text", "a"}, {"temperature", "hot"}}) == 400); // not a number
    CHECK(next({{"text", "a"}, {"temperature", -1}}) == 400);
    CHECK(next({{"text", "a"}, {"top_p", 0}}) == 400);
    CHECK(next({{"text", "a"}, {"top_k", 1.5}}) == 400);
    CHECK(next({{"text", "a"}, {"top", 0}}) == 400);
    CHECK(next({{"text", "a"}, {"seed", -1}}) == 400);
    CHECK(next({{"run", "../../etc/passwd"}, {"text", "a"}}) == 404); // runs are names, never paths
    CHECK(next({{"run", 1}, {"text", "a"}}) == 400);
    CHECK(next({{"text", std::string(4001, 'a')}}) == 413);
    CHECK(refusal([&] { pg.attention({{"text", "a"}, {"layer", 2}}); }) == 400);
    CHECK(refusal([&] { pg.check_generation({{"text", "a"}, {"max_new_tokens", 501}}); }) == 413);
    CHECK(refusal([&] { pg.check_generation({{"text", "a"}, {"max_new_tokens", 0}}); }) == 400);
    CHECK(refusal([&] { pg.tokenize({{"text", "a"}, {"layer", 1}}); }) == 400);
    // Without max_new_tokens: 100, or the server's limit when it is lower.
    CHECK(pg.check_generation({{"text", "a"}}).max_new_tokens == 100);
    PlaygroundLimits low;
    low.max_new_tokens = 7;
    CHECK(playground(low).check_generation({{"text", "a"}}).max_new_tokens == 7);
}
