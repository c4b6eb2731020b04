// The playground's API (serve/playground) against the library it shows, and its HTTP server
// (serve/server) as a client sees it: every endpoint, every refusal, a client that leaves mid-stream.
#include "gptbook/core/rng.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/serve/server.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gptbook;
using nlohmann::json;

namespace {

const std::string alphabet = "abcdefghijklmnopqrstuvwxyz .,\n";

/// A small random model over `alphabet`: L2 H2 C16 T16 (learned positions, so generation past T rebuilds).
struct TinyModel {
    Tokenizer tokenizer{CharTokenizer::from_text(alphabet)};
    GPT model;
    TinyModel() : model(config()) {
        Rng rng(7);
        gpt_init(model, rng);
    }
    GPTConfig config() const {
        GPTConfig c;
        c.vocab_size = tokenizer.vocab_size();
        c.block_size = 16;
        c.n_layer = 2;
        c.n_head = 2;
        c.n_embd = 16;
        return c;
    }
};

const TinyModel& tiny() {
    static const TinyModel m;
    return m;
}

Playground playground(PlaygroundLimits limits = {}) {
    return Playground({{"tiny", &tiny().model, &tiny().tokenizer, "letters"}}, limits);
}

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

TEST_CASE("the playground lists its runs and limits, and refuses a run list it cannot serve", "[serve]") {
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

TEST_CASE("tokenize returns the tokenizer's ids, whose texts put together are the text", "[serve]") {
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

TEST_CASE("a byte-level token that holds part of a character also shows its bytes", "[serve]") {
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

TEST_CASE("next gives the model's softmax and the sampler's distribution (eq. 7.1) and the seed's draw", "[serve]") {
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

TEST_CASE("attention returns the forward pass's weights: causal rows that sum to 1, and their mean", "[serve]") {
    const std::string text = "the cat sat";
    const Tokens ids = tiny().tokenizer.encode(text);
    const int n = static_cast<int>(ids.size());
    ActivationTensors acts(tiny().model.config, 1, n);
    gpt_forward(tiny().model, acts, ids, nullptr);
    const json answer = playground().attention({{"text", text}, {"layer", 1}});
    CHECK(answer["layer"] == 1);
    REQUIRE(answer["heads"].size() == 2);
    REQUIRE(answer["tokens"].size() == ids.size());
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

TEST_CASE("generate streams the tokens generate() draws, each with its probabilities and alternatives", "[serve]") {
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

TEST_CASE("every bad request is refused with a 4xx and one line saying what was expected", "[serve]") {
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

namespace {

/// A server on a free loopback port, serving in a thread for the test's duration.
struct RunningServer {
    Playground pg;
    PlaygroundServer server;
    std::thread thread;
    explicit RunningServer(PlaygroundLimits limits = {})
        : pg(playground(limits)), server(pg, ServeOptions{"127.0.0.1", 0, 8, 1}), thread([this] { server.listen(); }) {}
    ~RunningServer() {
        server.stop();
        thread.join();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server.port());
        c.set_read_timeout(30);
        return c;
    }
};

/// Sends `request` as it is over a new connection to the port and returns what comes back until the
/// server closes it (or 5 s pass).
std::string raw_exchange(int port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        const timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
            out.append(buffer, static_cast<size_t>(n));
            if (out.find("\r\n\r\n") != std::string::npos && out.find("}") != std::string::npos) break;
        }
    }
    ::close(fd);
    return out;
}

int post_status(httplib::Client& c, const std::string& path, const std::string& body) {
    auto r = c.Post(path.c_str(), body, "application/json");
    return r ? r->status : -1;
}

} // namespace

TEST_CASE("the server answers the page, the API and server-sent events over HTTP", "[serve]") {
    RunningServer s;
    httplib::Client c = s.client();
    auto page = c.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Content-Type").find("text/html") == 0);
    CHECK(page->body.find("/playground.js") != std::string::npos);
    for (const char* asset : {"/playground.js", "/playground.css"}) {
        auto r = c.Get(asset);
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body.size() > 1000);
    }
    auto runs = c.Get("/api/runs");
    REQUIRE(runs);
    CHECK(json::parse(runs->body)["runs"][0]["name"] == "tiny");
    auto tokens = c.Post("/api/tokenize", R"({"text": "abc"})", "application/json");
    REQUIRE(tokens);
    CHECK(json::parse(tokens->body)["count"] == 3);

    auto stream = c.Post("/api/generate", R"({"text": "the", "max_new_tokens": 12, "seed": 1})", "application/json");
    REQUIRE(stream);
    CHECK(stream->status == 200);
    CHECK(stream->get_header_value("Content-Type") == "text/event-stream");
    size_t events = 0, at = 0;
    while ((at = stream->body.find("event: token\ndata: ", at)) != std::string::npos) ++events, ++at;
    CHECK(events == 12);
    CHECK(stream->body.find("event: done\ndata: {") != std::string::npos);
}

TEST_CASE("the server refuses bad requests with 4xx and a one-line JSON error", "[serve]") {
    RunningServer s;
    httplib::Client c = s.client();
    const auto error_of = [](const httplib::Result& r) { return json::parse(r->body).at("error").get<std::string>(); };
    auto bad = c.Post("/api/next", "{not json", "application/json");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(error_of(bad).find("not JSON") != std::string::npos);
    CHECK(post_status(c, "/api/generate", R"({"text": "a", "max_new_tokens": 100000})") == 413);
    CHECK(post_status(c, "/api/generate", R"({"text": "a", "run": "/etc/passwd"})") == 404);
    CHECK(post_status(c, "/api/attention", R"({"text": "a", "layer": -1})") == 400);
    CHECK(post_status(c, "/api/tokenize", "{\"text\": \"" + std::string(70000, 'a') + "\"}") == 413); // the body limit
    auto get_post = c.Get("/api/generate");
    REQUIRE(get_post);
    CHECK(get_post->status == 405);
    auto missing = c.Get("/etc/passwd");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(error_of(missing).find("/api/runs") != std::string::npos);
    auto no_chapter = c.Get("/chapters/../../etc/passwd");
    REQUIRE(no_chapter);
    CHECK(no_chapter->status == 404);
    // A body without its length (chunked) would be read whole, past the limit: refused before any of
    // it is read (sent here as headers alone, so that the answer is not lost to a reset).
    const std::string answer = raw_exchange(s.server.port(), "POST /api/tokenize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                             "Content-Type: application/json\r\n"
                                                             "Transfer-Encoding: chunked\r\n\r\n");
    CHECK(answer.rfind("HTTP/1.1 411", 0) == 0);
    CHECK(answer.find(R"({"error":"a POST needs a Content-Length header)") != std::string::npos);
}

TEST_CASE("a generation beyond the limit gets 429, and a client that leaves mid-stream frees its place", "[serve]") {
    PlaygroundLimits one;
    one.max_generations = 1;
    one.max_new_tokens = 200000; // far more events than the socket buffers hold
    RunningServer s(one);
    // The first client reads one chunk, then waits: the server blocks writing, holding the one place.
    std::promise<std::string> reading;
    std::promise<void> leave;
    std::shared_future<void> may_leave = leave.get_future().share();
    std::thread first([&] {
        httplib::Client c = s.client();
        httplib::Request req;
        req.method = "POST";
        req.path = "/api/generate";
        req.body = R"({"text": "abc", "max_new_tokens": 200000})";
        req.set_header("Content-Type", "application/json");
        bool once = false;
        req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
            if (!once) {
                once = true;
                reading.set_value(std::string(data, n));
                may_leave.wait();
            }
            return false; // leaves: the connection closes mid-stream
        };
        httplib::Response res;
        httplib::Error error = httplib::Error::Success;
        if (!c.send(req, res, error) && !once) reading.set_value("the request failed: " + httplib::to_string(error));
    });
    struct LeaveAndJoin { // also when a REQUIRE below fails: the first client leaves, its thread ends
        std::promise<void>& leave;
        std::thread& thread;
        bool left = false;
        void now() {
            if (!left) leave.set_value();
            left = true;
        }
        ~LeaveAndJoin() {
            now();
            thread.join();
        }
    } first_client{leave, first};
    std::future<std::string> first_chunk = reading.get_future();
    REQUIRE(first_chunk.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    // Streamed: the first token's event is on the wire while the 200000-token generation goes on.
    CHECK(first_chunk.get().rfind("event: token\ndata: {", 0) == 0);
    httplib::Client c = s.client();
    auto busy = c.Post("/api/generate", R"({"text": "a", "max_new_tokens": 5})", "application/json");
    REQUIRE(busy);
    CHECK(busy->status == 429);
    CHECK(json::parse(busy->body)["error"].get<std::string>().find("try again") != std::string::npos);
    // A bad request is told what is wrong with it, busy or not.
    CHECK(post_status(c, "/api/generate", R"({"text": "a", "max_new_tokens": 0})") == 400);
    first_client.now();
    // The server noticed the client leave and gave the place back: the next generation streams.
    int status = 0;
    for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
        status = post_status(c, "/api/generate", R"({"text": "a", "max_new_tokens": 5})");
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(status == 200);
}
