#include "gptbook/model/config.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

namespace gptbook {

std::string to_string(PositionEncoding p) {
    switch (p) {
    case PositionEncoding::learned: return "learned";
    case PositionEncoding::sinusoidal: return "sinusoidal";
    case PositionEncoding::rope: return "rope";
    }
    return "?";
}

PositionEncoding position_encoding_from_string(const std::string& s) {
    if (s == "learned") return PositionEncoding::learned;
    if (s == "sinusoidal") return PositionEncoding::sinusoidal;
    if (s == "rope") return PositionEncoding::rope;
    GPTBOOK_FAIL("position encoding '" << s << "' is unknown; expected 'learned', 'sinusoidal' or 'rope'");
}

std::string to_string(NormKind n) { return n == NormKind::layernorm ? "layernorm" : "rmsnorm"; }

NormKind norm_kind_from_string(const std::string& s) {
    if (s == "layernorm") return NormKind::layernorm;
    if (s == "rmsnorm") return NormKind::rmsnorm;
    GPTBOOK_FAIL("norm '" << s << "' is unknown; expected 'layernorm' or 'rmsnorm'");
}

std::string to_string(MlpKind m) { return m == MlpKind::gelu ? "gelu" : "swiglu"; }

MlpKind mlp_kind_from_string(const std::string& s) {
    if (s == "gelu") return MlpKind::gelu;
    if (s == "swiglu") return MlpKind::swiglu;
    GPTBOOK_FAIL("mlp '" << s << "' is unknown; expected 'gelu' or 'swiglu'");
}

std::string to_string(Pooling p) { return p == Pooling::last ? "last" : "mean"; }

Pooling pooling_from_string(const std::string& s) {
    if (s == "last") return Pooling::last;
    if (s == "mean") return Pooling::mean;
    GPTBOOK_FAIL("pooling '" << s << "' is unknown; expected 'last' or 'mean'");
}

namespace {

// The names of a comma-separated list of LoRA targets ("attn.c_attn,mlp.c_fc"), in order.
std::vector<std::string> lora_target_names(const std::string& targets) {
    std::vector<std::string> names;
    size_t start = 0;
    while (start <= targets.size()) {
        const size_t comma = std::min(targets.find(',', start), targets.size());
        names.push_back(targets.substr(start, comma - start));
        start = comma + 1;
    }
    return names;
}

} // namespace

bool GPTConfig::lora_on(const std::string& name) const {
    if (lora_rank == 0) return false;
    const std::vector<std::string> names = lora_target_names(lora_targets);
    return std::find(names.begin(), names.end(), name) != names.end();
}

int GPTConfig::mlp_hidden() const {
    if (mlp == MlpKind::gelu) return 4 * n_embd;
    // Llama (Touvron et al. 2023): two thirds of 4C, so that three matrices cost what GELU's two
    // do, rounded up to a multiple of `multiple_of`.
    const int h = 2 * (4 * n_embd) / 3;
    return multiple_of * ((h + multiple_of - 1) / multiple_of);
}

void GPTConfig::validate() const {
    auto positive = [](const char* name, double v) {
        GPTBOOK_CHECK(v > 0, "GPTConfig: " << name << " is " << v << ", expected a positive number");
    };
    positive("vocab_size", vocab_size);
    positive("block_size", block_size);
    positive("n_layer", n_layer);
    positive("n_head", n_head);
    positive("n_embd", n_embd);
    positive("multiple_of", multiple_of);
    positive("rope_theta", rope_theta);
    GPTBOOK_CHECK(n_embd % n_head == 0, "GPTConfig: n_embd=" << n_embd << " is not divisible by n_head=" << n_head
                                                             << "; choose n_embd as a multiple of n_head");
    GPTBOOK_CHECK(n_kv_head >= 0 && n_kv_head <= n_head && n_head % kv_heads() == 0,
                  "GPTConfig: n_kv_head=" << n_kv_head << " does not divide n_head=" << n_head
                                          << "; choose a divisor of n_head (n_head itself for multi-head attention, "
                                          << "1 for multi-query, 0 for n_head)");
    GPTBOOK_CHECK(position != PositionEncoding::rope || head_size() % 2 == 0,
                  "GPTConfig: rotary positions turn pairs of channels, but the head size n_embd/n_head = "
                      << head_size() << " is odd; choose an even head size");
    GPTBOOK_CHECK(dropout >= 0.0f && dropout < 1.0f,
                  "GPTConfig: dropout is " << dropout << ", expected a probability in [0, 1)");
    GPTBOOK_CHECK(n_classes >= 0, "GPTConfig: n_classes is " << n_classes
                                                             << ", expected 0 (a language model), 1 (a reward model's "
                                                                "score) or at least 2 classes");
    GPTBOOK_CHECK(!value_head || n_classes == 0,
                  "GPTConfig: a value head belongs to a language model (PPO's policy), but n_classes is "
                      << n_classes << "; use n_classes = 0 with value_head");
    GPTBOOK_CHECK(!embedder || n_classes >= 2,
                  "GPTConfig: an embedding model gives a vector of n_classes numbers per sequence, but n_classes is "
                      << n_classes << "; use n_classes >= 2 (e.g. 64) with embedder");
    GPTBOOK_CHECK(lora_rank >= 0, "GPTConfig: lora_rank is " << lora_rank << ", expected 0 (no adapters) or more");
    if (lora_rank == 0) return;
    positive("lora_alpha", lora_alpha);
    for (const std::string& name : lora_target_names(lora_targets)) {
        bool known = false;
        for (const char* l : lora_linears) known = known || name == l;
        GPTBOOK_CHECK(known, "GPTConfig: LoRA target '" << name << "' is not a linear layer of a block; expected a "
                                                        << "comma-separated list of attn.c_attn, attn.c_proj, "
                                                        << "mlp.c_fc, mlp.c_proj");
    }
    // The rank of B A is at most min(out, in), and every adapted layer has C on one side (its input
    // or its output, and QKV, H >= C): a larger r adds parameters and no expressiveness.
    GPTBOOK_CHECK(lora_rank <= n_embd,
                  "GPTConfig: lora_rank=" << lora_rank << " is larger than the layers it adapts "
                                          << "(n_embd=" << n_embd << " on one side), so B A "
                                          << "could not be low-rank; choose --lora-rank <= " << n_embd);
}

std::string architecture_notes(const GPTConfig& c) {
    std::string s;
    if (c.norm != NormKind::layernorm) s += ", " + to_string(c.norm);
    if (c.mlp != MlpKind::gelu) s += ", " + to_string(c.mlp) + " H" + std::to_string(c.mlp_hidden());
    if (c.kv_heads() != c.n_head) s += ", " + std::to_string(c.kv_heads()) + " kv heads";
    if (!c.bias) s += ", no bias";
    if (!c.tie_head) s += ", untied head";
    if (c.n_classes == 1) s += ", reward model (" + to_string(c.pool) + " pooling)";
    if (c.n_classes > 1 && !c.embedder)
        s += ", classifier K" + std::to_string(c.n_classes) + " (" + to_string(c.pool) + " pooling)";
    if (c.lora_rank > 0) s += ", LoRA r" + std::to_string(c.lora_rank) + " on " + c.lora_targets;
    if (c.value_head) s += ", value head";
    if (c.embedder) s += ", embedder D" + std::to_string(c.n_classes) + " (" + to_string(c.pool) + " pooling)";
    return s;
}

void to_json(nlohmann::json& j, const GPTConfig& c) {
    j = nlohmann::json{{"vocab_size", c.vocab_size},
                       {"block_size", c.block_size},
                       {"n_layer", c.n_layer},
                       {"n_head", c.n_head},
                       {"n_embd", c.n_embd},
                       {"dropout", c.dropout},
                       {"position", to_string(c.position)},
                       {"rope_theta", c.rope_theta},
                       {"norm", to_string(c.norm)},
                       {"mlp", to_string(c.mlp)},
                       {"multiple_of", c.multiple_of},
                       {"n_kv_head", c.n_kv_head},
                       {"bias", c.bias},
                       {"tie_head", c.tie_head}};
    if (c.n_classes > 0) {
        j["n_classes"] = c.n_classes;
        j["pool"] = to_string(c.pool);
    }
    if (c.lora_rank > 0) {
        j["lora_rank"] = c.lora_rank;
        j["lora_alpha"] = c.lora_alpha;
        j["lora_targets"] = c.lora_targets;
    }
    if (c.value_head) j["value_head"] = true;
    if (c.embedder) j["embedder"] = true;
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
    auto get_optional = [&](const char* key, auto& out) {
        if (j.contains(key)) get(key, out);
    };
    get("vocab_size", c.vocab_size);
    get("block_size", c.block_size);
    get("n_layer", c.n_layer);
    get("n_head", c.n_head);
    get("n_embd", c.n_embd);
    get("dropout", c.dropout);
    // Chapter 10's switches: a config written before them describes GPT-2.
    std::string position = "learned", norm = "layernorm", mlp = "gelu";
    c.rope_theta = 10000.0f;
    c.multiple_of = 256;
    c.n_kv_head = 0;
    c.bias = true;
    c.tie_head = true;
    get_optional("position", position);
    get_optional("rope_theta", c.rope_theta);
    get_optional("norm", norm);
    get_optional("mlp", mlp);
    get_optional("multiple_of", c.multiple_of);
    get_optional("n_kv_head", c.n_kv_head);
    get_optional("bias", c.bias);
    get_optional("tie_head", c.tie_head);
    // Chapter 11's fields: a config without them is a language model without adapters.
    std::string pool = "last";
    c.n_classes = 0;
    c.lora_rank = 0;
    c.lora_alpha = 16.0f;
    c.lora_targets = GPTConfig{}.lora_targets;
    get_optional("n_classes", c.n_classes);
    get_optional("pool", pool);
    get_optional("lora_rank", c.lora_rank);
    get_optional("lora_alpha", c.lora_alpha);
    get_optional("lora_targets", c.lora_targets);
    c.value_head = false; // chapter 12's: a config without it has no value head
    get_optional("value_head", c.value_head);
    c.embedder = false; // chapter 13's: a config without it is not an embedding model
    get_optional("embedder", c.embedder);
    c.pool = pooling_from_string(pool);
    c.position = position_encoding_from_string(position);
    c.norm = norm_kind_from_string(norm);
    c.mlp = mlp_kind_from_string(mlp);
    c.validate();
}

} // namespace gptbook
