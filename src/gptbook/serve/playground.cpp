#include "gptbook/serve/playground.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/kv_cache.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace gptbook {

using nlohmann::json;

void PlaygroundLimits::validate() const {
    GPTBOOK_CHECK(max_prompt_chars > 0, "--max-prompt-chars is " << max_prompt_chars << ", expected > 0");
    GPTBOOK_CHECK(max_new_tokens > 0, "--max-new-tokens is " << max_new_tokens << ", expected > 0");
    GPTBOOK_CHECK(max_attention_tokens > 0, "--max-attention-tokens is " << max_attention_tokens << ", expected > 0");
    GPTBOOK_CHECK(max_generations > 0, "--max-generations is " << max_generations << ", expected > 0");
    GPTBOOK_CHECK(max_seconds > 0, "--max-seconds is " << max_seconds << ", expected > 0");
    GPTBOOK_CHECK(max_body_bytes > 0, "the body limit is " << max_body_bytes << ", expected > 0");
}

json parse_request(const std::string& body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
        throw ApiError(400, "the body is not JSON; expected an object such as {\"text\": \"ROMEO:\"}");
    if (!j.is_object())
        throw ApiError(400, "the body is JSON " + std::string(j.type_name()) +
                                ", expected an object such as {\"text\": \"ROMEO:\"}");
    return j;
}

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {

/// A request's fields, read with their types and ranges checked; a field the endpoint does not
/// know is refused (a typo such as "temprature" would otherwise be ignored in silence).
class Fields {
public:
    Fields(const json& request, const std::string& endpoint, std::vector<std::string> known)
        : request_(request), endpoint_(endpoint) {
        for (const auto& [key, value] : request.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::string names;
            for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
            throw ApiError(400, endpoint + ": unknown field \"" + key + "\"; expected " + names);
        }
    }

    bool has(const std::string& key) const { return request_.contains(key) && !request_[key].is_null(); }

    std::string text(const std::string& key, int max_bytes) const {
        if (!has(key)) throw ApiError(400, endpoint_ + ": \"" + key + "\" is missing; expected a string");
        const json& v = request_[key];
        if (!v.is_string())
            throw ApiError(400, endpoint_ + ": \"" + key + "\" is " + v.type_name() + ", expected a string");
        std::string s = v.get<std::string>();
        if (s.empty()) throw ApiError(400, endpoint_ + ": \"" + key + "\" is empty; expected at least one character");
        if (static_cast<long>(s.size()) > max_bytes)
            throw ApiError(413, endpoint_ + ": \"" + key + "\" has " + std::to_string(s.size()) +
                                    " bytes, more than this server's limit of " + std::to_string(max_bytes));
        return s;
    }

    double number(const std::string& key, double fallback) const {
        if (!has(key)) return fallback;
        const json& v = request_[key];
        if (!v.is_number())
            throw ApiError(400, endpoint_ + ": \"" + key + "\" is " + v.type_name() + ", expected a number");
        return v.get<double>();
    }

    long integer(const std::string& key, long fallback, long lo, long hi, int too_large_status = 400) const {
        if (!has(key)) return fallback;
        const json& v = request_[key];
        if (!v.is_number_integer())
            throw ApiError(400, endpoint_ + ": \"" + key + "\" is " + v.type_name() + ", expected an integer");
        const long x = v.get<long>();
        if (x < lo || x > hi)
            throw ApiError(x > hi ? too_large_status : 400, endpoint_ + ": \"" + key + "\" is " + std::to_string(x) +
                                                                ", expected an integer in [" + std::to_string(lo) +
                                                                ", " + std::to_string(hi) + "]");
        return x;
    }

private:
    const json& request_;
    std::string endpoint_;
};

const std::vector<std::string> sampling_fields = {"temperature", "top_k", "top_p", "seed"};

/// The sampler's options as the request gives them; their ranges are the sampler's own
/// (SamplingOptions::validate), a bad one a 400 with its message.
SamplingOptions sampling_of(const Fields& f, const std::string& endpoint) {
    SamplingOptions o;
    o.temperature = static_cast<float>(f.number("temperature", 1.0));
    o.top_k = static_cast<int>(f.integer("top_k", 0, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    o.top_p = static_cast<float>(f.number("top_p", 1.0));
    try {
        o.validate();
    } catch (const Error& e) {
        throw ApiError(400, endpoint + ": " + e.what());
    }
    return o;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// The text's tokens under the model's tokenizer (a character outside a character vocabulary, or
/// invalid UTF-8, is a 400 with the tokenizer's own message).
Tokens encode_text(const PlaygroundModel& m, const std::string& text, const std::string& endpoint) {
    Tokens ids;
    try {
        ids = m.tokenizer->encode(text);
    } catch (const Error& e) {
        throw ApiError(400, endpoint + ": " + e.what());
    }
    if (ids.empty()) throw ApiError(400, endpoint + ": the text has no tokens; expected at least one character");
    return ids;
}

/// {id, text}: a token and its bytes as text; a token that holds part of a UTF-8 character (byte-level
/// BPE, chapter 01) also gets "bytes", its bytes in hex ("c3"), since its text shows U+FFFD.
json token_json(const Tokenizer& tokenizer, int32_t id) {
    const std::string bytes = tokenizer.token_bytes(id);
    json j = {{"id", id}, {"text", bytes}};
    if (utf8_replace_invalid(bytes) != bytes) {
        static const char* hex = "0123456789abcdef";
        std::string h;
        for (unsigned char c : bytes) h += {hex[c >> 4], hex[c & 15]};
        j["bytes"] = h;
    }
    return j;
}

/// A probability to 6 decimals: the page shows 3, and the JSON stays short.
double prob(double p) { return std::round(p * 1e6) / 1e6; }
/// An attention weight to 4 decimals, what a heatmap's hover shows.
double weight(double w) { return std::round(w * 1e4) / 1e4; }

/// The `k` largest entries of `p` (ties: the smaller id first).
std::vector<arma::uword> top_indices(const Vec& p, size_t k) {
    std::vector<arma::uword> idx(p.n_elem);
    std::iota(idx.begin(), idx.end(), arma::uword{0});
    k = std::min(k, idx.size());
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](arma::uword a, arma::uword b) { return p(a) > p(b) || (p(a) == p(b) && a < b); });
    idx.resize(k);
    return idx;
}

json entry(const Tokenizer& tokenizer, arma::uword id, const Vec& p, const Vec& p_model) {
    json e = token_json(tokenizer, static_cast<int32_t>(id));
    e["p"] = prob(p(id));
    e["p_model"] = prob(p_model(id));
    return e;
}

} // namespace

Playground::Playground(std::vector<PlaygroundModel> models, PlaygroundLimits limits)
    : models_(std::move(models)), limits_(limits) {
    limits_.validate();
    GPTBOOK_CHECK(!models_.empty(), "serve: no run to serve; give --run runs/NAME (repeatable) or --runs DIR");
    std::set<std::string> names;
    for (const PlaygroundModel& m : models_) {
        GPTBOOK_CHECK(names.insert(m.name).second,
                      "serve: two runs are called " << m.name << "; serve runs whose directories have different names");
        GPTBOOK_CHECK(m.model->config.n_classes == 0,
                      "serve: " << m.name << " is a classifier (chapter 11): it does not generate text");
    }
}

const PlaygroundModel& Playground::model_of(const json& request) const {
    if (!request.contains("run") || request["run"].is_null()) return models_.front();
    if (!request["run"].is_string())
        throw ApiError(400, std::string("\"run\" is ") + request["run"].type_name() + ", expected a run's name");
    const std::string name = request["run"].get<std::string>();
    for (const PlaygroundModel& m : models_)
        if (m.name == name) return m;
    std::string names;
    for (const PlaygroundModel& m : models_) names += (names.empty() ? "" : ", ") + m.name;
    throw ApiError(404, "no run called \"" + name + "\" is served; expected one of " + names + " (GET /api/runs)");
}

json Playground::runs() const {
    json list = json::array();
    for (const PlaygroundModel& m : models_) {
        const GPTConfig& c = m.model->config;
        list.push_back({{"name", m.name},
                        {"tokenizer", m.tokenizer->type()},
                        {"vocab_size", c.vocab_size},
                        {"block_size", c.block_size},
                        {"n_layer", c.n_layer},
                        {"n_head", c.n_head},
                        {"parameters", m.model->params.n_elem},
                        {"position", to_string(c.position)},
                        {"quantized", m.model->quant != nullptr},
                        {"data", m.data}});
    }
    return {{"runs", list},
            {"limits",
             {{"max_prompt_chars", limits_.max_prompt_chars},
              {"max_new_tokens", limits_.max_new_tokens},
              {"max_attention_tokens", limits_.max_attention_tokens},
              {"max_generations", limits_.max_generations},
              {"max_seconds", limits_.max_seconds}}}};
}

json Playground::tokenize(const json& request) const {
    const Fields f(request, "tokenize", {"run", "text"});
    const PlaygroundModel& m = model_of(request);
    const Tokens ids = encode_text(m, f.text("text", limits_.max_prompt_chars), "tokenize");
    json tokens = json::array();
    for (int32_t id : ids) tokens.push_back(token_json(*m.tokenizer, id));
    return {{"tokens", tokens}, {"count", ids.size()}};
}

json Playground::next(const json& request) const {
    const Fields f(request, "next", with({"run", "text", "top"}, sampling_fields));
    const PlaygroundModel& m = model_of(request);
    const GPTConfig& c = m.model->config;
    const SamplingOptions options = sampling_of(f, "next");
    const auto seed = static_cast<uint64_t>(f.integer("seed", 1337, 0, 1L << 53));
    const auto top = static_cast<size_t>(f.integer("top", 20, 1, c.vocab_size));
    const Tokens context = last_tokens(encode_text(m, f.text("text", limits_.max_prompt_chars), "next"),
                                       static_cast<size_t>(c.block_size));
    KVCache cache(*m.model);
    const Vec logits = cache.prefill(context);
    const Vec p = next_token_distribution(logits, options);
    const Vec p_model = next_token_distribution(logits, SamplingOptions{});
    json dist = json::array();
    double shown = 0, shown_model = 0;
    for (arma::uword id : top_indices(p_model, top)) {
        dist.push_back(entry(*m.tokenizer, id, p, p_model));
        shown += p(id);
        shown_model += p_model(id);
    }
    Rng rng(seed);
    const int32_t sampled = sample_token(logits, options, rng);
    json s = token_json(*m.tokenizer, sampled);
    s["p"] = prob(p(static_cast<arma::uword>(sampled)));
    return {{"context", context.size()},
            {"distribution", dist},
            {"rest", {{"p", prob(std::max(0.0, 1.0 - shown))}, {"p_model", prob(std::max(0.0, 1.0 - shown_model))}}},
            {"sampled", s}};
}

json Playground::attention(const json& request) const {
    const Fields f(request, "attention", {"run", "text", "layer"});
    const PlaygroundModel& m = model_of(request);
    const GPTConfig& c = m.model->config;
    const int layer = static_cast<int>(f.integer("layer", 0, 0, c.n_layer - 1));
    const size_t keep = static_cast<size_t>(std::min(c.block_size, limits_.max_attention_tokens));
    const Tokens ids = last_tokens(encode_text(m, f.text("text", limits_.max_prompt_chars), "attention"), keep);
    const int n = static_cast<int>(ids.size());
    ActivationTensors acts(c, 1, n);
    gpt_forward(*m.model, acts, ids, nullptr);
    // att is (T, T*B*NH): column h*T + q holds query q's weights over the keys (rows), B = 1.
    const Mat& att = acts.h[static_cast<size_t>(layer)].att;
    json heads = json::array();
    Mat mean(n, n, arma::fill::zeros); // (key, query)
    for (int h = 0; h < c.n_head; ++h) {
        json rows = json::array();
        for (int q = 0; q < n; ++q) {
            json row = json::array();
            for (int k = 0; k < n; ++k) {
                const float w = k <= q ? att(k, static_cast<arma::uword>(h) * n + q) : 0.0f;
                row.push_back(weight(w));
                mean(k, q) += w / static_cast<float>(c.n_head);
            }
            rows.push_back(row);
        }
        heads.push_back(rows);
    }
    json mean_rows = json::array();
    for (int q = 0; q < n; ++q) {
        json row = json::array();
        for (int k = 0; k < n; ++k) row.push_back(weight(mean(k, q)));
        mean_rows.push_back(row);
    }
    json tokens = json::array();
    for (int32_t id : ids) tokens.push_back(token_json(*m.tokenizer, id));
    return {{"tokens", tokens},   {"layer", layer}, {"n_layer", c.n_layer},
            {"n_head", c.n_head}, {"heads", heads}, {"mean", mean_rows}};
}

GenerationRequest Playground::check_generation(const json& request) const {
    const Fields f(request, "generate", with({"run", "text", "max_new_tokens"}, sampling_fields));
    GenerationRequest g;
    g.model = &model_of(request);
    g.options = sampling_of(f, "generate");
    g.seed = static_cast<uint64_t>(f.integer("seed", 1337, 0, 1L << 53));
    g.max_new_tokens = static_cast<int>(
        f.integer("max_new_tokens", std::min(100, limits_.max_new_tokens), 1, limits_.max_new_tokens, 413));
    g.prompt = encode_text(*g.model, f.text("text", limits_.max_prompt_chars), "generate");
    return g;
}

json Playground::generate(const GenerationRequest& g, const std::function<bool(const json& event)>& on_token) const {
    const PlaygroundModel& m = *g.model;
    const SamplingOptions& options = g.options;
    Rng rng(g.seed);
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    std::string stopped = "length";
    StreamingDecoder decoder(*m.tokenizer);
    const Tokens out =
        generate_with_logits(*m.model, g.prompt, g.max_new_tokens, options, rng, [&](int32_t token, const Vec& logits) {
            const Vec p = next_token_distribution(logits, options);
            const Vec p_model = next_token_distribution(logits, SamplingOptions{});
            json top = json::array();
            for (arma::uword id : top_indices(p_model, 10)) top.push_back(entry(*m.tokenizer, id, p, p_model));
            const auto t = static_cast<arma::uword>(token);
            const json event = {{"id", token},
                                {"text", decoder.push(token)},
                                {"p", prob(p(t))},
                                {"p_model", prob(p_model(t))},
                                {"top", top}};
            if (!on_token(event)) {
                stopped = "client";
                return false;
            }
            if (seconds() > limits_.max_seconds) {
                stopped = "time limit";
                return false;
            }
            return true;
        });
    const double s = seconds();
    return {{"tokens", out.size()},
            {"seconds", s},
            {"tokens_per_second", s > 0 ? static_cast<double>(out.size()) / s : 0.0},
            {"stopped", stopped},
            {"tail", decoder.flush()}};
}

} // namespace gptbook
