// gptbook sample: generate text from a trained run, streamed token by token.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/train/trainer.hpp"
#ifdef GPTBOOK_HAS_CUDA
#include "gptbook/cuda/kv_cache.hpp"
#endif

#include <cstdio>
#include <memory>

namespace gptbook::cli {

namespace {

struct SampleArgs {
    std::string run, prompt = "\n", prompt_file;
    int max_new_tokens = 500;
    uint64_t seed = 1337;
    int threads = 1;
    bool no_cache = false;
    std::string device = "cpu";
    SamplingOptions sampling;
};

void run_sample(SampleArgs& a) {
    a.sampling.validate();
    check_device(a.device);
    GPTBOOK_CHECK(!(a.no_cache && a.device == "cuda"),
                  "--no-cache recomputes on the CPU only; drop it or --device cuda");
    set_num_threads(a.threads);
    const Run run = load_run(a.run, /*merge_adapters=*/true);
    check_generates_text(run, "sample");
    const std::string prompt = a.prompt_file.empty() ? a.prompt : read_file(a.prompt_file);
    GPTBOOK_CHECK(!prompt.empty(), "the prompt is empty; give at least one character (the default is a newline)");
    Tokens ids = run.tokenizer.encode(prompt);
    const size_t T = run.model().config.block_size;
    if (ids.size() > T) {
        std::fprintf(stderr, "notice: the prompt has %zu tokens but the model sees at most %zu; using its last %zu\n",
                     ids.size(), T, T);
        ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(T));
    }
    std::fputs(prompt.c_str(), stdout);
    std::fflush(stdout);
    Rng rng(a.seed);
    StreamingDecoder decoder(run.tokenizer); // a BPE token may end inside a UTF-8 character
    auto stream = [&](int32_t token) {
        const std::string text = decoder.push(token);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout); // show each token as soon as it exists
        return true;
    };
    GPTBOOK_CHECK(
        a.device != "cuda" || !run.model().quant,
        a.run << " is quantized (chapter 14): its integer kernels are the CPU's; sample it without --device cuda");
    if (a.device == "cuda") { // check_device() lets "cuda" through only in a CUDA build
#ifdef GPTBOOK_HAS_CUDA
        CudaGPT gpu(run.model(), cuda::MatmulPrecision::fp32, /*trainable=*/false); // the KV cache lives on the GPU
        cuda_generate(gpu, ids, a.max_new_tokens, a.sampling, rng, stream);
#endif
    } else if (a.no_cache) {
        generate_naive(run.model(), ids, a.max_new_tokens, a.sampling, rng, stream);
    } else {
        generate(run.model(), ids, a.max_new_tokens, a.sampling, rng, stream);
    }
    std::fputs((decoder.flush() + "\n").c_str(), stdout);
}

} // namespace

void add_sample_command(CLI::App& app) {
    auto args = std::make_shared<SampleArgs>();
    SampleArgs& a = *args;
    CLI::App* cmd = app.add_subcommand("sample", "Generate text from a trained model, token by token");
    cmd->add_option("--run", a.run, "Run directory (runs/NAME) or model .safetensors file")->required();
    auto* prompt = cmd->add_option("--prompt", a.prompt, "Text to continue (default: a newline)");
    cmd->add_option("--prompt-file", a.prompt_file, "Read the prompt from a file")->excludes(prompt);
    cmd->add_option("--max-new-tokens", a.max_new_tokens, "Tokens to generate")->capture_default_str();
    cmd->add_option("--temperature", a.sampling.temperature, "Divide logits by this; 0 = greedy")
        ->capture_default_str();
    cmd->add_option("--top-k", a.sampling.top_k, "Sample among the k most likely tokens (0: all)")
        ->capture_default_str();
    cmd->add_option("--top-p", a.sampling.top_p, "Sample among the most likely tokens whose mass reaches p")
        ->capture_default_str();
    cmd->add_option("--seed", a.seed, "Random seed of the sampler")->capture_default_str();
    cmd->add_option("--threads", a.threads, "CPU threads (0: all cores)")->capture_default_str();
    cmd->add_flag("--no-cache", a.no_cache, "Recompute the whole context for every token (slow; same tokens)");
    cmd->add_option("--device", a.device, "cpu, or cuda: generate on an NVIDIA GPU (chapter 09)")
        ->capture_default_str();
    cmd->callback([args] { run_sample(*args); });
}

} // namespace gptbook::cli
