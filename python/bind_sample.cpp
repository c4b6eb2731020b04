// Sampling from Python (chapter 07): the next-token distribution and generation with a KV cache.
// Shapes: T time (block_size), V vocabulary.
#include "activation_cache.hpp"
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/generate.hpp"
#include "gptbook/sample/sampler.hpp"

#include <algorithm>
#include <memory>
#include <string>

namespace gptbook::python {

namespace {

SamplingOptions options_of(float temperature, int top_k, float top_p) {
    SamplingOptions o;
    o.temperature = temperature;
    o.top_k = top_k;
    o.top_p = top_p;
    o.validate();
    return o;
}

/// One sequence of ids (T,) from Python; a (1, T) array is accepted too.
Tokens sequence_of(py::object ids, const char* what) {
    TokenBatch b = tokens_from_python(ids, what);
    GPTBOOK_CHECK(b.B == 1, what << " is (" << b.B << ", " << b.T << "), expected one sequence (T,)");
    return std::move(b.ids);
}

/// The distribution of the token after `ids`; the model sees the last block_size of them, as
/// generation does.
py::array_t<float> model_next_token_distribution(const GPT& model, py::object ids, float temperature, int top_k,
                                                 float top_p) {
    const SamplingOptions options = options_of(temperature, top_k, top_p);
    Tokens context = sequence_of(ids, "ids");
    const size_t T = std::min(context.size(), static_cast<size_t>(model.config.block_size));
    context.erase(context.begin(), context.end() - static_cast<std::ptrdiff_t>(T));
    Vec probs;
    {
        ActsLease lease(model, 1, static_cast<int>(T)); // given back after the GIL is taken back
        py::gil_scoped_release release;
        gpt_forward(model, lease.acts(), context, nullptr);
        probs = next_token_distribution(Vec(lease.acts().logits.col(T - 1)), options); // (V)
    }
    return to_numpy(probs);
}

py::array_t<int32_t> model_generate(const GPT& model, py::object prompt_ids, int max_new_tokens, float temperature,
                                    int top_k, float top_p, bool greedy, uint64_t seed) {
    GPTBOOK_CHECK(max_new_tokens >= 0, "generate: max_new_tokens is " << max_new_tokens << ", expected >= 0");
    const SamplingOptions options = options_of(greedy ? 0.0f : temperature, top_k, top_p);
    Tokens ids = sequence_of(prompt_ids, "prompt_ids");
    {
        py::gil_scoped_release release;
        Rng rng(seed); // as `gptbook sample --seed`: the same seed draws the same tokens
        const Tokens generated = generate(model, ids, max_new_tokens, options, rng);
        ids.insert(ids.end(), generated.begin(), generated.end());
    }
    return to_numpy(ids);
}

} // namespace

void bind_sample(py::module_& m) {
    py::class_<Rng>(m, "Rng", R"doc(The library's random stream (splitmix64): its whole state is one 64-bit word.

Rng(seed) is the stream named by seed (state = seed); functions that draw (random_training_instruction)
advance it, as the C++ code does, so the same seed gives the same draws.)doc")
        .def(py::init<uint64_t>(), py::arg("seed") = 0x853c49e6748fea9bULL)
        .def_readwrite("state", &Rng::state, "the whole state; save and restore it to repeat draws")
        .def("next_u64", &Rng::next_u64, "next_u64() -> int: uniform over all 64-bit values")
        .def("uniform", &Rng::uniform, "uniform() -> float: uniform in [0, 1), 24 bits of precision")
        .def("normal", &Rng::normal, "normal() -> float: standard normal (Box-Muller)")
        .def(
            "below",
            [](Rng& r, uint64_t n) {
                GPTBOOK_CHECK(n > 0, "Rng.below: n is 0, expected n >= 1 (a draw in [0, n))");
                return r.below(n);
            },
            py::arg("n"), "below(n) -> int: uniform in [0, n), n >= 1, without modulo bias")
        .def("__repr__", [](const Rng& r) { return "Rng(state=" + std::to_string(r.state) + ")"; });

    m.def(
        "next_token_distribution",
        [](py::object logits, float temperature, int top_k, float top_p) {
            const SamplingOptions options = options_of(temperature, top_k, top_p);
            return to_numpy(next_token_distribution(vec_from_python(logits, "logits"), options));
        },
        py::arg("logits"), py::arg("temperature") = 1.0f, py::arg("top_k") = 0, py::arg("top_p") = 1.0f,
        "next_token_distribution(logits, temperature=1.0, top_k=0, top_p=1.0) -> np.ndarray float32 (V,):\n"
        "what sample_token draws from (eq. 7.1): p_v ~ exp(z_v / temperature) over the kept tokens, 0 elsewhere.\n"
        "logits: (V,). temperature 0 = greedy (all mass on the argmax); top_k keeps the k most likely\n"
        "(0 = all); top_p keeps the most likely tokens until their probability reaches p (1 = all).");

    auto gpt = py::reinterpret_borrow<py::class_<GPT, std::unique_ptr<GPT>>>(m.attr("GPT"));
    gpt.def("next_token_distribution", &model_next_token_distribution, py::arg("ids"), py::arg("temperature") = 1.0f,
            py::arg("top_k") = 0, py::arg("top_p") = 1.0f,
            "next_token_distribution(ids, temperature=1.0, top_k=0, top_p=1.0) -> np.ndarray float32 (V,):\n"
            "the distribution of the token after ids (T,), as generate() would draw it. The model sees the\n"
            "last block_size ids. See gptbook.next_token_distribution for the options.");
    gpt.def("generate", &model_generate, py::arg("prompt_ids"), py::arg("max_new_tokens"),
            py::arg("temperature") = 1.0f, py::arg("top_k") = 0, py::arg("top_p") = 1.0f, py::arg("greedy") = false,
            py::arg("seed") = 1337,
            "generate(prompt_ids, max_new_tokens, temperature=1.0, top_k=0, top_p=1.0, greedy=False, seed=1337)\n"
            "-> np.ndarray int32 (T + max_new_tokens,): the prompt followed by the new tokens, generated with a\n"
            "KV cache. greedy=True (or temperature=0) always takes the most likely token; otherwise each token is\n"
            "drawn with one uniform draw of a random stream named by seed (as `gptbook sample --seed`).\n"
            "Past block_size tokens the model sees the last block_size.");
}

} // namespace gptbook::python
