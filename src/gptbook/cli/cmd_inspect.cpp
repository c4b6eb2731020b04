// gptbook inspect: what is inside a run or a checkpoint.
#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/core/safetensors.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/parameters.hpp"
#include "gptbook/model/quantized.hpp"
#include "gptbook/train/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gptbook::cli {

namespace {

namespace fs = std::filesystem;

std::string with_commas(size_t n) {
    const std::string digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

// Tensors in the order of `names` (the model's layout), then any others the file holds.
void print_tensors(const SafeTensors& f, const std::vector<std::string>& names) {
    std::vector<std::string> order;
    for (const std::string& n : names)
        if (f.contains(n)) order.push_back(n);
    for (const auto& entry : f.tensors)
        if (std::find(order.begin(), order.end(), entry.first) == order.end()) order.push_back(entry.first);
    std::printf("  %-28s %-8s %-14s %12s\n", "tensor", "dtype", "shape", "count");
    size_t total = 0;
    for (const std::string& name : order) {
        const Tensor& t = f.at(name);
        std::printf("  %-28s %-8s %-14s %12s\n", name.c_str(), to_string(t.dtype).c_str(),
                    shape_to_string(t.shape).c_str(), with_commas(t.numel()).c_str());
        total += t.numel();
    }
    std::printf("  %-28s %-8s %-14s %12s\n", "total", "", "", with_commas(total).c_str());
}

void print_model_file(const std::string& path) {
    const SafeTensors f = SafeTensors::load(path);
    std::printf("%s\n", path.c_str());
    std::vector<std::string> names;
    if (f.metadata.count(meta_keys::config)) {
        const GPTConfig c = nlohmann::json::parse(f.meta(meta_keys::config)).get<GPTConfig>();
        std::printf("config: L%d H%d C%d T%d V%d, %s positions%s, dropout %.2f\n", c.n_layer, c.n_head, c.n_embd,
                    c.block_size, c.vocab_size, to_string(c.position).c_str(), architecture_notes(c).c_str(),
                    c.dropout);
        for (const ParamSpec& spec : parameter_layout(c))
            for (const char* suffix : {"", ".q", ".scales"}) names.push_back(spec.name + suffix); // chapter 14's too
    }
    if (f.metadata.count(quant_meta_key)) { // a quantized run (chapter 14)
        const nlohmann::json q = nlohmann::json::parse(f.meta(quant_meta_key));
        std::printf("quantized: int%d, groups of %d", q.value("bits", 0), q.value("group", 0));
        if (f.metadata.count("gptbook.quantized_from"))
            std::printf(", from %s", f.meta("gptbook.quantized_from").c_str());
        std::printf("\n");
    }
    for (const char* key : {"gptbook.step", "gptbook.val_loss", "gptbook.data", "gptbook.base", "gptbook.classes",
                            "gptbook.import.source"})
        if (f.metadata.count(key)) std::printf("%s: %s\n", key + 8, f.meta(key).c_str());
    print_tensors(f, names);
}

void print_train_state(const std::string& path) {
    const SafeTensors f = SafeTensors::load(path);
    const nlohmann::json train = nlohmann::json::parse(f.meta("gptbook.train_config"));
    std::printf("training state: step %s of %d, best val loss %.4f, %s of training\n", f.meta("step").c_str(),
                train.at("max_iters").get<int>(), std::stod(f.meta("best_val")),
                format_duration(std::stod(f.meta("train_seconds"))).c_str());
    std::printf("train config: %s\n", train.dump().c_str());
}

void print_metrics(const std::string& path, int last_rows) {
    std::istringstream in(read_file(path));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.empty()) return;
    std::printf("metrics (%s, last %d of %zu evaluations):\n  %s\n", path.c_str(), last_rows, lines.size() - 1,
                lines[0].c_str());
    for (size_t i = std::max<size_t>(1, lines.size() > static_cast<size_t>(last_rows) ? lines.size() - last_rows : 1);
         i < lines.size(); ++i)
        std::printf("  %s\n", lines[i].c_str());
}

void run_inspect(const std::string& target) {
    GPTBOOK_CHECK(fs::exists(target), target << " does not exist; expected a run directory or a .safetensors file");
    if (!fs::is_directory(target)) {
        print_model_file(target);
        return;
    }
    const fs::path dir(target);
    GPTBOOK_CHECK(fs::exists(dir / "model.safetensors") || fs::exists(dir / "train_state.safetensors"),
                  target << " holds neither model.safetensors nor train_state.safetensors; is it a run directory?");
    if (fs::exists(dir / "model.safetensors")) print_model_file((dir / "model.safetensors").string());
    if (fs::exists(dir / "train_state.safetensors")) print_train_state((dir / "train_state.safetensors").string());
    if (fs::exists(dir / "metrics.csv")) print_metrics((dir / "metrics.csv").string(), 5);
}

} // namespace

void add_inspect_command(CLI::App& app) {
    auto target = std::make_shared<std::string>();
    CLI::App* cmd =
        app.add_subcommand("inspect", "Show the config, parameter table and training state of a run or file");
    cmd->add_option("target", *target, "Run directory (runs/NAME) or .safetensors file")->required();
    cmd->callback([target] { run_inspect(*target); });
}

} // namespace gptbook::cli
