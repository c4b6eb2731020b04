/**
 * @file
 * @brief Whole-model gradient checks for any loss: central differences of the loss at chosen
 *        parameters against the analytic gradient (chapters 11 and 12's model tests).
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/model/gpt.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace gptbook::test {

/// Larger weights than gpt_init, and non-trivial gains and biases (as the PyTorch fixture does):
/// at N(0, 0.02) the blocks are nearly the identity and a wrong gain, bias or attention gradient
/// would hide below the finite-difference noise.
inline void spread_init(GPT& model, Rng& rng) {
    for (const ParamSpec& s : model.layout) {
        float* p = model.params.memptr() + s.offset;
        const bool gain = s.name.find("ln_") != std::string::npos && s.name.ends_with(".weight");
        for (size_t i = 0; i < s.numel; ++i)
            p[i] = s.decay ? 0.3f * rng.normal() : (gain ? 1.0f : 0.0f) + 0.1f * rng.normal();
    }
}

/// Every element of the tensors whose names satisfy `all`, and `per_tensor` random elements of
/// each other tensor of the layout: the flat indices a gradient check probes.
inline std::vector<size_t> probe_indices(const std::vector<ParamSpec>& layout,
                                         const std::function<bool(const std::string&)>& all, int per_tensor) {
    std::vector<size_t> indices;
    Rng pick(98);
    for (const ParamSpec& s : layout) {
        if (all(s.name)) {
            for (size_t i = 0; i < s.numel; ++i) indices.push_back(s.offset + i);
        } else {
            for (int k = 0; k < per_tensor; ++k) indices.push_back(s.offset + pick.below(s.numel));
        }
    }
    return indices;
}

inline std::string tensor_at(const std::vector<ParamSpec>& layout, size_t i) {
    for (const ParamSpec& s : layout)
        if (i >= s.offset && i < s.offset + s.numel) return s.name + "[" + std::to_string(i - s.offset) + "]";
    return "?";
}

/// Compares `analytic` with central differences of `loss` (which reruns the forward pass from
/// model.params) at `indices`. An element passes when |num - ana| <= atol + rtol * max(|num|, |ana|):
///  - eps = 1e-2: the losses here are ~1..2.5, computed in float32 with relative rounding ~1e-6
///    through the whole network, so each carries ~2e-6 of noise and the difference quotient ~1e-4;
///  - atol = 1e-3 covers that noise with margin;
///  - rtol = 2e-2 for the O(eps^2 f''') truncation error of the central difference, which grows
///    with the gradient. Measured max |num - ana|: 2e-5..4e-4 without adapters; 1e-3..1e-2 with
///    them (s = 2 on spread_init's weights makes the network more curved), all of it truncation
///    error: at eps/2 every maximum drops 4x, as O(eps^2) does, and stays inside rtol * |grad|.
/// The same comparison against 1.1 * analytic must fail at least half of the elements, which shows
/// the tolerance can see a 10% gradient error (the rest are gradients near zero, e.g. the key
/// biases', exactly 0: softmax ignores a shift shared by all keys). Returns the number of failures.
inline size_t check_gradient_at(GPT& model, const Vec& analytic, const std::vector<size_t>& indices,
                                const std::function<double()>& loss, const char* what) {
    const double eps = 1e-2, atol = 1e-3, rtol = 2e-2;
    size_t failures = 0, wrong_caught = 0;
    double max_abs = 0.0, sum_abs_grad = 0.0;
    for (const size_t i : indices) {
        const float saved = model.params[i];
        const float plus = saved + static_cast<float>(eps), minus = saved - static_cast<float>(eps);
        model.params[i] = plus;
        const double lp = loss();
        model.params[i] = minus;
        const double lm = loss();
        model.params[i] = saved;
        const double num = (lp - lm) / (static_cast<double>(plus) - minus);
        const double ana = analytic[i];
        const double err = std::abs(num - ana);
        const bool ok = err <= atol + rtol * std::max(std::abs(num), std::abs(ana));
        const double wrong = 1.1 * ana;
        wrong_caught += std::abs(num - wrong) > atol + rtol * std::max(std::abs(num), std::abs(wrong));
        if (!ok)
            UNSCOPED_INFO(what << ": " << tensor_at(model.layout, i) << " numerical " << num << " analytic " << ana);
        failures += !ok;
        max_abs = std::max(max_abs, err);
        sum_abs_grad += std::abs(ana);
    }
    std::printf("gradcheck %-28s %4zu elements: max |num - ana| %.3g, mean |grad| %.3g, 10%% error caught in %zu\n",
                what, indices.size(), max_abs, sum_abs_grad / static_cast<double>(indices.size()), wrong_caught);
    CHECK(wrong_caught >= indices.size() / 2);
    return failures;
}

/// check_gradient_at() at `per_tensor` random elements of every tensor of the model.
inline size_t check_sampled_gradient(GPT& model, const Vec& analytic, const std::function<double()>& loss,
                                     const char* what, int per_tensor = 3) {
    const std::vector<size_t> probes = probe_indices(
        model.layout, [](const std::string&) { return false; }, per_tensor);
    return check_gradient_at(model, analytic, probes, loss, what);
}

} // namespace gptbook::test
