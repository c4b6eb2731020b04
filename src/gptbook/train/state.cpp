#include "gptbook/train/state.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/safetensors.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

// %a prints a float exactly (hexadecimal mantissa), so the loaded value is bit-identical.
std::string exact(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", v);
    return buf;
}

double parse_double(const SafeTensors& f, const std::string& key) {
    const std::string& s = f.meta(key);
    try {
        size_t used = 0;
        const double v = std::stod(s, &used);
        if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
    GPTBOOK_FAIL(f.source << ": metadata '" << key << "' is '" << s << "', expected a number; the file is damaged");
}

uint64_t parse_u64(const SafeTensors& f, const std::string& key) {
    const std::string& s = f.meta(key);
    try {
        size_t used = 0;
        const uint64_t v = std::stoull(s, &used);
        if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
    GPTBOOK_FAIL(f.source << ": metadata '" << key << "' is '" << s << "', expected an integer; the file is damaged");
}

} // namespace

void save_train_state(const std::string& path, const TrainState& s) {
    SafeTensors f;
    const size_t P = s.model->params.n_elem, PT = trainable_count(s.model->layout);
    f.add_f32("params", {P}, s.model->params.memptr());
    f.add_f32("adam.m", {PT}, s.adam->m.memptr()); // the moments of the trainable tensors only
    f.add_f32("adam.v", {PT}, s.adam->v.memptr());
    nlohmann::json frozen = nlohmann::json::array();
    for (const ParamSpec& spec : s.model->layout)
        if (!spec.trainable) frozen.push_back(spec.name);
    f.metadata = {
        {"gptbook.frozen", frozen.dump()},
        {"gptbook.model_config", nlohmann::json(s.model->config).dump()},
        {"gptbook.train_config", nlohmann::json(*s.train).dump()},
        {"gptbook.tokenizer", s.tokenizer_json},
        {"gptbook.data", s.data},
        {"step", std::to_string(s.step)},
        {"evaluated_step", std::to_string(s.evaluated_step + 1)}, // +1 keeps it unsigned (-1 = none)
        {"adam_step", std::to_string(s.adam->step)},
        {"data_rng", std::to_string(s.data_rng.state)},
        {"eval_rng", std::to_string(s.eval_rng.state)},
        {"best_val", exact(s.best_val)},
        {"train_seconds", exact(s.train_seconds)},
    };
    f.save(path);
}

LoadedTrainState load_train_state(const std::string& path) {
    const SafeTensors f = SafeTensors::load(path);
    LoadedTrainState s;
    GPTConfig config;
    try {
        config = nlohmann::json::parse(f.meta("gptbook.model_config")).get<GPTConfig>();
        s.train = nlohmann::json::parse(f.meta("gptbook.train_config")).get<TrainConfig>();
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(path << ": a config in the metadata is not valid JSON (" << e.what() << "); the file is damaged");
    }
    s.model = std::make_unique<GPT>(config);
    if (f.metadata.contains("gptbook.frozen")) { // absent in states written before frozen tensors existed
        std::vector<std::string> frozen;
        try {
            frozen = nlohmann::json::parse(f.meta("gptbook.frozen")).get<std::vector<std::string>>();
        } catch (const nlohmann::json::exception& e) {
            GPTBOOK_FAIL(path << ": metadata 'gptbook.frozen' is not a JSON list of names (" << e.what()
                              << "); the file is damaged");
        }
        for (const std::string& name : frozen) find_param(s.model->layout, name); // each must exist
        if (!frozen.empty())
            s.model->set_trainable(
                [&](const std::string& name) { return std::find(frozen.begin(), frozen.end(), name) == frozen.end(); });
    }
    const size_t P = s.model->params.n_elem, PT = trainable_count(s.model->layout);
    s.adam = AdamWState(PT);
    f.copy_f32("params", {P}, s.model->params.memptr());
    f.copy_f32("adam.m", {PT}, s.adam.m.memptr());
    f.copy_f32("adam.v", {PT}, s.adam.v.memptr());
    s.adam.step = static_cast<int64_t>(parse_u64(f, "adam_step"));
    s.step = static_cast<int>(parse_u64(f, "step"));
    s.evaluated_step = static_cast<int>(parse_u64(f, "evaluated_step")) - 1;
    s.data_rng.state = parse_u64(f, "data_rng");
    s.eval_rng.state = parse_u64(f, "eval_rng");
    s.best_val = static_cast<float>(parse_double(f, "best_val"));
    s.train_seconds = parse_double(f, "train_seconds");
    s.tokenizer_json = f.meta("gptbook.tokenizer");
    s.data = f.meta("gptbook.data");
    return s;
}

} // namespace gptbook
