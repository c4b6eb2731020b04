// gptbook quantize: a trained run turned into a smaller run whose matrices are int8 or int4 (chapter 14).
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/model/quantized.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

namespace gptbook::cli {

namespace {

namespace fs = std::filesystem;

struct QuantizeArgs {
    std::string run, out;
    int bits = 8, group = 32;
};

/// The metadata key naming the float run a quantized one came from.
constexpr const char* quantized_from_key = "gptbook.quantized_from";

void run_quantize(QuantizeArgs& a) {
    if (a.out.empty()) a.out = sibling_run(a.run, "-int" + std::to_string(a.bits) + "-g" + std::to_string(a.group));
    GPTBOOK_CHECK(!fs::exists(a.out) || (fs::is_directory(a.out) && fs::is_empty(a.out)),
                  "--out " << a.out << " already exists"
                           << (fs::exists(fs::path(a.out) / "model.safetensors") ? " and holds a run" : "")
                           << "; choose a new folder (or remove it first)");
    const Run run = load_run(a.run, /*merge_adapters=*/true); // an adapter is folded in before rounding
    GPT& model = *run.loaded.model;
    check_generates_text(run, "be quantized (only language models are)");
    const Vec before = model.params; // the float weights, to report what rounding changed
    quantize_model(model, a.bits, a.group);

    // The error of every quantized matrix, relative to its size: sqrt(sum (w - w')^2 / sum w^2).
    double err2 = 0.0, norm2 = 0.0;
    size_t weights = 0;
    for (const auto& [name, m] : quantized_matrices(*model.quant, model.config)) {
        const ParamSpec& s = find_param(model.layout, name);
        const Vec w = before.subvec(s.offset, s.offset + s.numel - 1);
        const Vec diff = w - model.params.subvec(s.offset, s.offset + s.numel - 1);
        err2 += arma::dot(diff, diff);
        norm2 += arma::dot(w, w);
        weights += s.numel;
    }

    std::map<std::string, std::string> extra = run.loaded.metadata; // what the run was trained on, its base
    for (const char* key : {meta_keys::config, meta_keys::tokenizer, quant_meta_key, "format"}) extra.erase(key);
    extra[quantized_from_key] = a.run;
    fs::create_directories(a.out);
    const std::string model_path = (fs::path(a.out) / "model.safetensors").string();
    save_model(model_path, model, run.loaded.tokenizer_json, extra);
    nlohmann::json config{{"model", model.config},
                          {"data", run.data},
                          {"quant", {{"bits", a.bits}, {"group", a.group}}},
                          {"quantized_from", a.run}};
    write_file_atomic((fs::path(a.out) / "config.json").string(), config.dump(2) + "\n");
    write_file_atomic((fs::path(a.out) / "tokenizer.json").string(), run.loaded.tokenizer_json + "\n");

    const auto size = [](const std::string& p) { return static_cast<double>(fs::file_size(p)) / 1e6; };
    std::printf("gptbook quantize: %s -> %s\n"
                "  %s: %zu weights in %zu matrices, %.3f bits per weight with the scales\n"
                "  relative error of the quantized matrices %.4f (RMS of w - w' over RMS of w)\n"
                "  model.safetensors %.3f MB -> %.3f MB\n",
                a.run.c_str(), a.out.c_str(), quant_summary(model).c_str(), weights,
                quantized_matrices(*model.quant, model.config).size(), a.bits + 32.0 / a.group, std::sqrt(err2 / norm2),
                size(run.model_path), size(model_path));
    std::printf("sample from it: %s sample --run %s; score it: %s eval --run %s --split val\n", program_name().c_str(),
                a.out.c_str(), program_name().c_str(), a.out.c_str());
}

} // namespace

void add_quantize_command(CLI::App& app) {
    auto args = std::make_shared<QuantizeArgs>();
    QuantizeArgs& a = *args;
    CLI::App* cmd = app.add_subcommand(
        "quantize", "Store a run's matrices as int8 or int4 in groups with one scale each (chapter 14); sample "
                    "and eval read the result");
    cmd->add_option("--run", a.run, "The float run to quantize (runs/NAME)")->required();
    cmd->add_option("--bits", a.bits, "8 (int8, as llama2.c's Q8_0) or 4 (int4, two weights a byte)")
        ->check(CLI::IsMember({8, 4}))
        ->capture_default_str();
    cmd->add_option("--group", a.group,
                    "Weights sharing one scale, along a row: a multiple of 32 that divides the model's widths")
        ->capture_default_str();
    cmd->add_option("--out", a.out, "Run directory to create (default RUN-intBITS-gGROUP); must not exist yet");
    cmd->callback([args] { run_quantize(*args); });
}

} // namespace gptbook::cli
