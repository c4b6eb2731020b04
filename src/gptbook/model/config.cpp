#include "gptbook/model/config.hpp"

#include "gptbook/core/error.hpp"

#include <nlohmann/json.hpp>

namespace gptbook {

std::string to_string(PositionEncoding p) { return p == PositionEncoding::learned ? "learned" : "sinusoidal"; }

PositionEncoding position_encoding_from_string(const std::string& s) {
    if (s == "learned") return PositionEncoding::learned;
    if (s == "sinusoidal") return PositionEncoding::sinusoidal;
    GPTBOOK_FAIL("position encoding '" << s << "' is unknown; expected 'learned' or 'sinusoidal'");
}

void GPTConfig::validate() const {
    auto positive = [](const char* name, int v) {
        GPTBOOK_CHECK(v > 0, "GPTConfig: " << name << " is " << v << ", expected a positive number");
    };
    positive("vocab_size", vocab_size);
    positive("block_size", block_size);
    positive("n_layer", n_layer);
    positive("n_head", n_head);
    positive("n_embd", n_embd);
    GPTBOOK_CHECK(n_embd % n_head == 0, "GPTConfig: n_embd=" << n_embd << " is not divisible by n_head=" << n_head
                                                             << "; choose n_embd as a multiple of n_head");
    GPTBOOK_CHECK(dropout >= 0.0f && dropout < 1.0f,
                  "GPTConfig: dropout is " << dropout << ", expected a probability in [0, 1)");
}

void to_json(nlohmann::json& j, const GPTConfig& c) {
    j = nlohmann::json{{"vocab_size", c.vocab_size},
                       {"block_size", c.block_size},
                       {"n_layer", c.n_layer},
                       {"n_head", c.n_head},
                       {"n_embd", c.n_embd},
                       {"dropout", c.dropout},
                       {"position", to_string(c.position)}};
}

void from_json(const nlohmann::json& j, GPTConfig& c) {
    GPTBOOK_CHECK(j.is_object(), "model config: expected a JSON object, found " << j.type_name());
    auto get = [&](const char* key, auto& out) {
        GPTBOOK_CHECK(j.contains(key), "model config: field '" << key << "' is missing");
        try {
            j.at(key).get_to(out);
        } catch (const nlohmann::json::exception& e) {
            GPTBOOK_FAIL("model config: field '" << key << "' has the wrong type (" << j.at(key).type_name() << ")");
        }
    };
    get("vocab_size", c.vocab_size);
    get("block_size", c.block_size);
    get("n_layer", c.n_layer);
    get("n_head", c.n_head);
    get("n_embd", c.n_embd);
    get("dropout", c.dropout);
    std::string position = "learned";
    if (j.contains("position")) get("position", position);
    c.position = position_encoding_from_string(position);
    c.validate();
}

} // namespace gptbook
