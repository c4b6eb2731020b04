#include "gptbook/serve/server.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/serve/page.hpp"

#include <httplib.h>

#include <filesystem>
#include <sys/socket.h>

namespace gptbook {

using nlohmann::json;

bool is_loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

namespace {

void send_json(httplib::Response& res, const json& j, int status = 200) {
    res.status = status;
    res.set_content(dump_json(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
    send_json(res, {{"error", message}}, status);
}

/// A generation's place among those allowed at once; given back when the stream ends, however it ends.
class GenerationSlot {
public:
    explicit GenerationSlot(std::atomic<int>& running) : running_(running) {}
    ~GenerationSlot() { running_.fetch_sub(1); }
    GenerationSlot(const GenerationSlot&) = delete;
    GenerationSlot& operator=(const GenerationSlot&) = delete;

private:
    std::atomic<int>& running_;
};

/// One server-sent event: "event: NAME\ndata: JSON\n\n".
std::string sse(const std::string& name, const json& data) {
    return "event: " + name + "\ndata: " + dump_json(data) + "\n\n";
}

/// chapters/NN_name/README.md in the source tree this binary was built from, or "" when it is not there.
std::string chapter_text_path(const std::string& number) {
    const std::filesystem::path dir = std::filesystem::path(GPTBOOK_SOURCE_DIR) / "chapters";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().filename().string().rfind(number + "_", 0) == 0 &&
            std::filesystem::exists(entry.path() / "README.md"))
            return (entry.path() / "README.md").string();
    return "";
}

/// httplib's server with a deeper queue of connections waiting to be accepted. Debian's library
/// is compiled with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG): a class of 50 connecting at once
/// overflows it, and the kernel resets the connections that do not fit. listen() again on the bound
/// socket raises it to the system's limit.
class Server : public httplib::Server {
public:
    void deepen_backlog() { ::listen(svr_sock_, SOMAXCONN); }
};

} // namespace

struct PlaygroundServer::Impl {
    const Playground& playground;
    ServeOptions options;
    Server server;
    std::atomic<int> generating{0};
    std::atomic<bool> stopping{false}; ///< stop() was asked: generations end at their next token

    Impl(const Playground& p, const ServeOptions& o) : playground(p), options(o) {}

    /// Runs `answer` on the request's JSON body, turning its refusals into 4xx JSON errors.
    template <class Answer>
    void api(const httplib::Request& req, httplib::Response& res, const Answer& answer) {
        set_num_threads(options.threads); // this worker thread's OpenMP threads
        try {
            answer(parse_request(req.body));
        } catch (const ApiError& e) {
            send_error(res, e.status(), e.what());
        } catch (const Error& e) {
            send_error(res, 400, e.what());
        }
    }

    void routes() {
        for (const PageAsset& asset : page_assets()) {
            server.Get(asset.path, [&asset](const httplib::Request&, httplib::Response& res) {
                res.set_content(std::string(asset.content), asset.content_type);
            });
        }
        server.Get("/api/runs",
                   [this](const httplib::Request&, httplib::Response& res) { send_json(res, playground.runs()); });
        server.Post("/api/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
            api(req, res, [&](const json& r) { send_json(res, playground.tokenize(r)); });
        });
        server.Post("/api/next", [this](const httplib::Request& req, httplib::Response& res) {
            api(req, res, [&](const json& r) { send_json(res, playground.next(r)); });
        });
        server.Post("/api/attention", [this](const httplib::Request& req, httplib::Response& res) {
            api(req, res, [&](const json& r) { send_json(res, playground.attention(r)); });
        });
        server.Post("/api/generate", [this](const httplib::Request& req, httplib::Response& res) {
            api(req, res, [&](const json& r) { start_generation(r, res); });
        });
        // The POST endpoints asked with GET (a browser's address bar): say how to ask.
        for (const char* path : {"/api/tokenize", "/api/next", "/api/attention", "/api/generate"}) {
            server.Get(path, [path](const httplib::Request&, httplib::Response& res) {
                send_error(res, 405,
                           std::string(path) + " answers POST with a JSON body, such as {\"text\": \"ROMEO:\"}");
            });
        }
        server.Get(R"(/chapters/(\d\d))", [](const httplib::Request& req, httplib::Response& res) {
            const std::string number = req.matches[1];
            const std::string path = chapter_text_path(number);
            if (path.empty()) {
                send_error(res, 404,
                           "chapter " + number + "'s text is not beside this binary; read chapters/" + number +
                               "_*/README.md in the gptbook repository");
                return;
            }
            res.set_content(read_file(path), "text/plain; charset=utf-8");
        });
        // A body without a Content-Length (chunked) would be read whole, past the size limit: refused
        // before it is read.
        server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            if (req.method != "POST" || req.has_header("Content-Length")) return Server::HandlerResponse::Unhandled;
            send_error(res, 411, "a POST needs a Content-Length header (a JSON body sent whole, not chunked)");
            return Server::HandlerResponse::Handled;
        });
        // Every other refusal (an unknown path, a body over the limit) as one line of JSON too.
        server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            if (res.status == 413)
                send_error(res, 413, "the request body is too large for this server; send a shorter text");
            else if (res.status == 404)
                send_error(res, 404,
                           "nothing at " + req.path + "; the page is at / and the API under /api/ (GET /api/runs)");
            else
                send_error(res, res.status,
                           "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path);
        });
        server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            send_error(res, 500, "the server failed on this request: " + what);
        });
    }

    /// Checks the request and takes a generation slot (429 when none is free) before answering
    /// 200, then streams one event per token until done or the client leaves.
    void start_generation(const json& request, httplib::Response& res) {
        // Refusals (bad fields, unknown run) come back as 4xx, before the stream starts.
        auto checked = std::make_shared<const GenerationRequest>(playground.check_generation(request));
        if (generating.fetch_add(1) >= playground.limits().max_generations) {
            generating.fetch_sub(1);
            throw ApiError(429, "the server is already generating " +
                                    std::to_string(playground.limits().max_generations) +
                                    " texts, its limit; try again in a moment");
        }
        auto slot = std::make_shared<GenerationSlot>(generating);
        const int threads = options.threads;
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream", [this, checked, slot, threads](size_t, httplib::DataSink& sink) {
                set_num_threads(threads);
                json last;
                try {
                    last = playground.generate(*checked, [this, &sink](const json& event) {
                        const std::string text = sse("token", event);
                        return sink.write(text.data(), text.size()) && !stopping;
                    });
                } catch (const std::exception& e) { // checked above; a failure here ends the stream
                    last = {{"error", e.what()}};
                }
                if (last.value("stopped", "") != "client") { // (a client that left reads nothing more)
                    const std::string text = sse("done", last);
                    sink.write(text.data(), text.size());
                }
                sink.done();
                return true;
            });
    }
};

PlaygroundServer::PlaygroundServer(const Playground& playground, const ServeOptions& options)
    : impl_(std::make_unique<Impl>(playground, options)) {
    GPTBOOK_CHECK(options.port >= 0 && options.port <= 65535,
                  "--port is " << options.port << ", expected 0 (any free port) to 65535");
    GPTBOOK_CHECK(options.workers > 0, "serve: workers is " << options.workers << ", expected > 0");
    Server& s = impl_->server;
    const auto workers = static_cast<size_t>(options.workers);
    s.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    s.set_payload_max_length(static_cast<size_t>(playground.limits().max_body_bytes));
    s.set_read_timeout(10);
    s.set_write_timeout(10);
    s.set_keep_alive_timeout(2);
    impl_->routes();
    port_ = options.port == 0 ? s.bind_to_any_port(options.host)
                              : (s.bind_to_port(options.host, options.port) ? options.port : -1);
    GPTBOOK_CHECK(port_ > 0, "serve: cannot listen on " << options.host << ":" << options.port
                                                        << " (in use, or not an address of this machine); pick "
                                                           "another with --port, or --port 0 for any free one");
    s.deepen_backlog();
}

PlaygroundServer::~PlaygroundServer() = default;

void PlaygroundServer::listen() {
    const bool stopped_cleanly = impl_->server.listen_after_bind();
    GPTBOOK_CHECK(stopped_cleanly || impl_->stopping,
                  "serve: the server stopped accepting connections (accept() failed: out of file descriptors "
                  "or memory?); start it again, with --max-generations lower if the machine is loaded");
}

void PlaygroundServer::stop() {
    impl_->stopping = true;
    impl_->server.stop();
}

bool PlaygroundServer::stopping() const { return impl_->stopping; }

} // namespace gptbook
