#include "gptbook/train/presets.hpp"

#include "gptbook/core/error.hpp"

#include <nlohmann/json.hpp>

namespace gptbook {

void TrainConfig::validate() const {
    auto positive = [](const char* name, double v) {
        GPTBOOK_CHECK(v > 0, "train config: " << name << " is " << v << ", expected a positive number");
    };
    positive("batch_size", batch_size);
    positive("grad_accum", grad_accum);
    positive("eval_interval", eval_interval);
    positive("eval_iters", eval_iters);
    positive("log_interval", log_interval);
    positive("lr", lr);
    GPTBOOK_CHECK(max_iters >= 0, "train config: max_iters is " << max_iters << ", expected >= 0");
    GPTBOOK_CHECK(warmup_iters >= 0, "train config: warmup_iters is " << warmup_iters << ", expected >= 0");
    GPTBOOK_CHECK(min_lr >= 0 && min_lr <= lr,
                  "train config: min_lr is " << min_lr << ", expected 0 <= min_lr <= lr=" << lr);
    GPTBOOK_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                  "train config: beta1=" << beta1 << ", beta2=" << beta2 << "; expected both in [0, 1)");
    GPTBOOK_CHECK(weight_decay >= 0, "train config: weight_decay is " << weight_decay << ", expected >= 0");
    GPTBOOK_CHECK(grad_clip >= 0, "train config: grad_clip is " << grad_clip << ", expected >= 0 (0 disables)");
    GPTBOOK_CHECK(threads >= 0, "train config: threads is " << threads << ", expected >= 0 (0 = all cores)");
}

#define GPTBOOK_TRAIN_FIELDS(X)                                                                                        \
    X(batch_size)                                                                                                      \
    X(grad_accum)                                                                                                      \
    X(max_iters)                                                                                                       \
    X(lr)                                                                                                              \
    X(min_lr)                                                                                                          \
    X(warmup_iters)                                                                                                    \
    X(beta1)                                                                                                           \
    X(beta2)                                                                                                           \
    X(weight_decay)                                                                                                    \
    X(grad_clip)                                                                                                       \
    X(eval_interval)                                                                                                   \
    X(eval_iters)                                                                                                      \
    X(log_interval)                                                                                                    \
    X(seed)                                                                                                            \
    X(threads)

void to_json(nlohmann::json& j, const TrainConfig& c) {
    j = nlohmann::json::object();
#define GPTBOOK_TO_JSON(f) j[#f] = c.f;
    GPTBOOK_TRAIN_FIELDS(GPTBOOK_TO_JSON)
#undef GPTBOOK_TO_JSON
}

void from_json(const nlohmann::json& j, TrainConfig& c) {
    GPTBOOK_CHECK(j.is_object(), "train config: expected a JSON object, found " << j.type_name());
#define GPTBOOK_FROM_JSON(f)                                                                                           \
    GPTBOOK_CHECK(j.contains(#f) && j.at(#f).is_number(), "train config: field '" #f "' is missing or not a number");  \
    j.at(#f).get_to(c.f);
    GPTBOOK_TRAIN_FIELDS(GPTBOOK_FROM_JSON)
#undef GPTBOOK_FROM_JSON
    c.validate();
}

namespace {

Preset make(std::string name, std::string description, int L, int NH, int C, int T, float dropout, TrainConfig train,
            std::string data) {
    Preset p{std::move(name), std::move(description), GPTConfig{}, train, std::move(data)};
    p.model.n_layer = L;
    p.model.n_head = NH;
    p.model.n_embd = C;
    p.model.block_size = T;
    p.model.dropout = dropout;
    return p;
}

// shakespeare-char-cpu's shape with every switch of chapter 10 turned to Llama's side. SwiGLU's
// hidden size 384 (8C/3 = 341 rounded up to a multiple of 64) and two key/value heads keep the
// parameter count within 1% of the GPT-2 model's (804,224 against 809,856).
Preset llama(Preset p) {
    p.model.position = PositionEncoding::rope;
    p.model.norm = NormKind::rmsnorm;
    p.model.mlp = MlpKind::swiglu;
    p.model.multiple_of = 64;
    p.model.n_kv_head = 2;
    p.model.bias = false;
    p.model.tie_head = false;
    return p;
}

std::vector<Preset> make_presets() {
    TrainConfig cpu; // the defaults are nanoGPT's CPU recipe for tiny Shakespeare
    TrainConfig baby;
    baby.batch_size = 64;
    baby.max_iters = 5000;
    baby.eval_iters = 200;
    TrainConfig task;
    task.batch_size = 64;
    task.max_iters = 1500;
    task.lr = 3e-3f;
    task.min_lr = 3e-4f;
    task.warmup_iters = 50;
    task.weight_decay = 0.0f;
    task.eval_interval = 250;
    task.eval_iters = 10;
    task.log_interval = 50;
    TrainConfig sort = task; // sort reaches 100% on held-out examples by step ~200
    sort.max_iters = 500;
    sort.eval_interval = 100;
    return {
        make("shakespeare-char-cpu", "L4 H4 C128 T64 B12, 2000 steps: tiny Shakespeare on a laptop CPU in minutes", 4,
             4, 128, 64, 0.0f, cpu, "shakespeare"),
        llama(make("llama-char-cpu",
                   "L4 H4 C128 T64 B12, 2000 steps, as a Llama: RoPE, RMSNorm, SwiGLU, 2 kv heads, no biases, "
                   "untied head (chapter 10)",
                   4, 4, 128, 64, 0.0f, cpu, "shakespeare")),
        make("shakespeare-char", "L6 H6 C384 T256 B64, 5000 steps, dropout 0.2: the classic baby GPT (GPU)", 6, 6, 384,
             256, 0.2f, baby, "shakespeare"),
        make("sort", "L2 H4 C64: learns to sort digits in seconds", 2, 4, 64, 12, 0.0f, sort, "task:sort"),
        make("add", "L2 H4 C64: learns 2-digit addition", 2, 4, 64, 12, 0.0f, task, "task:add"),
        make("reverse", "L2 H4 C64: learns to reverse a digit string", 2, 4, 64, 12, 0.0f, task, "task:reverse"),
        make("copy", "L2 H4 C64: learns to copy a digit string", 2, 4, 64, 12, 0.0f, task, "task:copy"),
    };
}

} // namespace

const std::vector<Preset>& presets() {
    static const std::vector<Preset> all = make_presets();
    return all;
}

const Preset& find_preset(const std::string& name) {
    std::string known;
    for (const Preset& p : presets()) {
        if (p.name == name) return p;
        known += (known.empty() ? "" : ", ") + p.name;
    }
    GPTBOOK_FAIL("preset '" << name << "' is unknown; known presets: " << known);
}

} // namespace gptbook
