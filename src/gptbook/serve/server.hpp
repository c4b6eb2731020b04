/**
 * @file
 * @brief The playground's HTTP server (`gptbook serve`): the page built into the binary, and the
 *        Playground's JSON API under /api/, over cpp-httplib.
 *
 *     GET  /                 the page (HTML, CSS and JavaScript; nothing fetched from elsewhere)
 *     GET  /api/runs         the runs served and the limits
 *     POST /api/tokenize     {run?, text}                       -> the text's tokens
 *     POST /api/next         {run?, text, temperature?, ...}    -> the next-token distribution
 *     POST /api/attention    {run?, text, layer?}               -> one layer's attention weights
 *     POST /api/generate     {run?, text, max_new_tokens?, ...} -> server-sent events, one per token
 *     GET  /chapters/NN      chapter NN's text, from the source tree the binary was built from
 *
 * Every refusal is a 4xx with a one-line JSON body {"error": "..."}.
 */
#pragma once

#include "gptbook/serve/playground.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace gptbook {

/// Where and how the server listens.
struct ServeOptions {
    std::string host = "127.0.0.1"; ///< the address to bind: loopback only unless told otherwise
    int port = 8080;                ///< 0 picks a free port (tests)
    int workers = 32;               ///< connections served at once (the rest wait their turn)
    int threads = 1;                ///< CPU threads each request computes with
};

/// True when `host` is reachable from this machine only (127.x.x.x, ::1, localhost).
bool is_loopback(const std::string& host);

/**
 * @brief The server: binds in its constructor (so the port is known before it serves), serves in
 * listen() until stop() (from any thread, or a signal handler's thread).
 */
class PlaygroundServer {
public:
    /// Binds `options.host:options.port`; throws gptbook::Error (with what to do) when it cannot.
    PlaygroundServer(const Playground& playground, const ServeOptions& options);
    ~PlaygroundServer();
    PlaygroundServer(const PlaygroundServer&) = delete;
    PlaygroundServer& operator=(const PlaygroundServer&) = delete;

    int port() const { return port_; } ///< @return the port bound (the one picked when 0 was asked)
    /// Serves until stop(); returns when the listening socket is closed. Throws gptbook::Error when
    /// it stopped by itself (the system refused a connection: out of descriptors or memory).
    void listen();
    /**
     * @brief Asks listen() to return (thread-safe); generations end at their next token. A stop asked
     * before listen() has started serving is not seen by it: call again until listen() has returned.
     */
    void stop();
    /// @return whether stop() was asked
    bool stopping() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    int port_ = 0;
};

} // namespace gptbook
