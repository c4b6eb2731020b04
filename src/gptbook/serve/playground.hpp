/**
 * @file
 * @brief The playground's JSON API (`gptbook serve`): what the page asks of a model, answered
 *        without any HTTP: the text's tokens, the next-token distribution, generation token by
 *        token with probabilities, and the attention weights of a layer.
 *
 * Every request is a JSON object; every answer is one (generation: one per token, then a last one).
 * A request that is wrong gets an ApiError with the HTTP status to answer and one line saying what
 * was expected and what was found. Nothing a request says can name a file: runs are picked by the
 * names the server was started with. Shapes: V vocabulary, T block_size, NH heads, n tokens.
 */
#pragma once

#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/sampler.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gptbook {

/// A refused request: the HTTP status to answer (400 bad input, 404 unknown run, 413 too long,
/// 429 busy) and the one-line reason sent as {"error": what()}.
class ApiError : public std::runtime_error {
public:
    /// A refusal with HTTP `status` and the one-line `message`.
    ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; } ///< @return the HTTP status code
private:
    int status_;
};

/// What one request may ask for at most. The defaults suit a class of 50 on a laptop.
struct PlaygroundLimits {
    int max_prompt_chars = 4000;    ///< bytes of text in a request (413 beyond)
    int max_new_tokens = 500;       ///< tokens one generation may ask for (413 beyond)
    int max_attention_tokens = 256; ///< attention is shown over the text's last this-many tokens at most
    int max_generations = 4;        ///< generations streaming at once (429 for one more)
    double max_seconds = 60.0;      ///< a generation stops after this long (its last event says so)
    int max_body_bytes = 64 * 1024; ///< a request body (413 beyond; checked by the server)

    /// Throws gptbook::Error naming the option (`--max-...`) when a limit is not positive.
    void validate() const;
};

/// One model the playground serves, as the page lists it.
struct PlaygroundModel {
    std::string name;           ///< what requests call it ("run"): the run directory's name
    const GPT* model;           ///< the weights (outlive the playground)
    const Tokenizer* tokenizer; ///< its tokenizer (outlives the playground)
    std::string data;           ///< what it was trained on, for the page
};

/// A generation request, checked: what Playground::generate() runs.
struct GenerationRequest {
    const PlaygroundModel* model = nullptr; ///< which model
    Tokens prompt;                          ///< the text's tokens
    int max_new_tokens = 100;               ///< at most this many tokens
    SamplingOptions options;                ///< temperature, top-k, top-p
    uint64_t seed = 1337;                   ///< the sampler's random stream
};

/**
 * @brief The API over a fixed set of models. Thread-safe: requests only read the models, each with
 * its own buffers, so several may run at once (the server bounds how many generate).
 */
class Playground {
public:
    /// Throws gptbook::Error when `models` is empty, two share a name, or one does not generate text.
    Playground(std::vector<PlaygroundModel> models, PlaygroundLimits limits);

    /// GET /api/runs: {"runs": [{name, tokenizer, vocab_size, block_size, n_layer, n_head,
    /// parameters, position, quantized, data}], "limits": {...}}.
    nlohmann::json runs() const;

    /// POST /api/tokenize {run?, text}: {"tokens": [{id, text}], "count": n}. `run` defaults to the
    /// first model; a token's text is its bytes (U+FFFD where it holds part of a character, and then
    /// also "bytes": its bytes in hex).
    nlohmann::json tokenize(const nlohmann::json& request) const;

    /**
     * @brief POST /api/next {run?, text, temperature?, top_k?, top_p?, seed?, top?}: the next-token
     * distribution after the text's last T tokens, eq. (7.1), and the token the seed draws from it.
     * @return {"context": tokens seen, "distribution": the `top` (default 20, at most V) most likely
     * tokens under the model, each {id, text, p (after temperature, top-k, top-p), p_model (the
     * softmax of the logits)}, "rest": {p, p_model} of the others, "sampled": {id, text, p}}
     */
    nlohmann::json next(const nlohmann::json& request) const;

    /**
     * @brief POST /api/attention {run?, text, layer?}: one layer's attention weights over the text's
     * last min(T, max_attention_tokens) tokens.
     * @return {"tokens": [{id, text}], "layer", "n_layer", "n_head", "heads": NH matrices, each n
     * rows (queries) of n weights (keys; 0 above the diagonal), "mean": their average over heads}
     */
    nlohmann::json attention(const nlohmann::json& request) const;

    /**
     * @brief POST /api/generate {run?, text, max_new_tokens? (100, at most the limit), temperature?,
     * top_k?, top_p?, seed?}:
     * generates with the KV cache, calling `on_token` with each token's event as soon as it is
     * drawn: {"id", "text" (what it adds to the text: empty while a character is unfinished), "p",
     * "p_model", "top": the 10 most likely tokens under the model, each {id, text, p, p_model}}; stops early when `on_token` returns false (the client left) or after max_seconds.
     * @return the last event: {"tokens": generated, "seconds", "tokens_per_second", "stopped":
     * "length", "time limit" or "client", "tail": text still held back at the end (an unfinished
     * character, as U+FFFD; usually empty)}. The server sends it as the `done` event, except to a
     * client that has left ("client"); a generation that failed midway ends with {"error": ...}.
     * @throws ApiError for a bad request, before anything is generated
     */
    nlohmann::json generate(const nlohmann::json& request,
                            const std::function<bool(const nlohmann::json& event)>& on_token) const {
        return generate(check_generation(request), on_token);
    }
    /// The checks of generate(), without generating: a server answers 4xx before it streams.
    GenerationRequest check_generation(const nlohmann::json& request) const;
    /// generate() of a checked request.
    nlohmann::json generate(const GenerationRequest& g,
                            const std::function<bool(const nlohmann::json& event)>& on_token) const;

    const PlaygroundLimits& limits() const { return limits_; } ///< @return the limits it enforces

private:
    const PlaygroundModel& model_of(const nlohmann::json& request) const;

    std::vector<PlaygroundModel> models_;
    PlaygroundLimits limits_;
};

/// Parses a request body: the JSON object it holds, or ApiError 400 saying what was wrong.
nlohmann::json parse_request(const std::string& body);

/// `j` as one line of JSON, with any invalid UTF-8 (a token's partial character) replaced by U+FFFD.
std::string dump_json(const nlohmann::json& j);

} // namespace gptbook
