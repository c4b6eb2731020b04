// The playground's HTTP server (serve/server) as a client sees it: the page, the API and its
// server-sent events over the wire, every refusal as a 4xx with one line of JSON, the limit on
// generations at once, and a client that leaves mid-stream.
#include "gptbook/serve/server.hpp"
#include "tiny_playground.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gptbook;
using namespace gptbook::test;
using nlohmann::json;

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

TEST_CASE("the server answers the page, the API and server-sent events over HTTP", "[serve][ch07]") {
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

TEST_CASE("the server refuses bad requests with 4xx and a one-line JSON error", "[serve][ch07]") {
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

TEST_CASE("a generation beyond the limit gets 429, and a client that leaves mid-stream frees its place",
          "[serve][ch07]") {
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
