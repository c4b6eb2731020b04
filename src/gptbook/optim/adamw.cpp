// Shapes: P parameters.
#include "gptbook/optim/adamw.hpp"

#include "gptbook/core/error.hpp"

#include <cmath>
#include <vector>

namespace gptbook {

void adamw_update(Vec& params, const Vec& grads, AdamWState& state, const std::vector<ParamSpec>& layout, float lr,
                  const AdamWConfig& config) {
    const arma::uword P = params.n_elem, PT = trainable_count(layout);
    GPTBOOK_CHECK(parameter_count(layout) == P && grads.n_elem == P,
                  "adamw_update: the layout covers " << parameter_count(layout) << " parameters but params hold " << P
                                                     << " and grads " << grads.n_elem);
    GPTBOOK_CHECK(state.m.n_elem == PT && state.v.n_elem == PT, "adamw_update: the moments hold ("
                                                                    << state.m.n_elem << ", " << state.v.n_elem
                                                                    << ") values, expected (" << PT
                                                                    << "): one per trainable parameter");
    ++state.step;
    // Bias corrections in double, as PyTorch computes them (Python floats), then used as floats.
    const double bc1 = 1.0 - std::pow(static_cast<double>(config.beta1), static_cast<double>(state.step));
    const double bc2 = 1.0 - std::pow(static_cast<double>(config.beta2), static_cast<double>(state.step));
    const float step_size = static_cast<float>(lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    // The moments hold the trainable tensors only, in layout order: where each one's start.
    std::vector<size_t> moment_offset(layout.size());
    for (size_t i = 0, o = 0; i < layout.size(); ++i) {
        moment_offset[i] = o;
        if (layout[i].trainable) o += layout[i].numel;
    }
    // One parallel region for all tensors, and no barrier between them (`nowait`: the tensors are
    // independent): a region per tensor cost more than the arithmetic at small shapes. Frozen
    // tensors are skipped: they have no moments and do not change.
#pragma omp parallel
    for (size_t t = 0; t < layout.size(); ++t) {
        const ParamSpec& s = layout[t];
        if (!s.trainable) continue;
        const float decay = s.decay ? 1.0f - lr * config.weight_decay : 1.0f;
        float* p = params.memptr() + s.offset;
        const float* g = grads.memptr() + s.offset;
        float* m = state.m.memptr() + moment_offset[t];
        float* v = state.v.memptr() + moment_offset[t];
#pragma omp for simd schedule(static) nowait
        for (size_t i = 0; i < s.numel; ++i) {
            p[i] *= decay;                                             // eq. (6.15)
            m[i] = config.beta1 * m[i] + (1.0f - config.beta1) * g[i]; // eq. (6.16)
            v[i] = config.beta2 * v[i] + (1.0f - config.beta2) * g[i] * g[i];
            p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + config.eps); // eq. (6.17)
        }
    }
}

} // namespace gptbook
