// Shapes: P parameters.
#include "gptbook/optim/adamw.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace gptbook {

MomentRange moment_range(const std::vector<ParamSpec>& layout, size_t first, size_t count) {
    MomentRange r; // r.first counts the trainable floats before the range
    for (const ParamSpec& s : layout) {
        if (!s.trainable) continue;
        const size_t lo = std::max(first, s.offset), hi = std::min(first + count, s.offset + s.numel);
        if (s.offset + s.numel <= first) {
            r.first += s.numel; // wholly before the range
        } else if (lo < hi) {
            if (r.count == 0) r.first += lo - s.offset; // the range starts inside this tensor
            r.count += hi - lo;
        }
    }
    return r;
}

void adamw_update(Vec& params, const Vec& grads, AdamWState& state, const std::vector<ParamSpec>& layout, float lr,
                  const AdamWConfig& config) {
    const arma::uword P = params.n_elem;
    GPTBOOK_CHECK(grads.n_elem == P, "adamw_update: params hold " << P << " floats but grads " << grads.n_elem);
    adamw_update_range(params, grads.memptr(), state, layout, 0, P, lr, config);
}

void adamw_update_range(Vec& params, const float* grads, AdamWState& state, const std::vector<ParamSpec>& layout,
                        size_t first, size_t count, float lr, const AdamWConfig& config) {
    const arma::uword P = params.n_elem;
    GPTBOOK_CHECK(parameter_count(layout) == P,
                  "adamw_update: the layout covers " << parameter_count(layout) << " parameters but params hold " << P);
    GPTBOOK_CHECK(first + count <= P, "adamw_update_range: the range [" << first << ", " << first + count
                                                                        << ") ends past the " << P << " parameters");
    // The moments hold the range's trainable floats only, in layout order: where each tensor's part
    // of the range starts among them, and which part of it lies in the range.
    struct Part {
        size_t lo = 0, hi = 0, moment = 0;
    };
    std::vector<Part> parts(layout.size());
    size_t o = 0; // moments so far
    for (size_t i = 0; i < layout.size(); ++i) {
        const ParamSpec& s = layout[i];
        const size_t lo = std::max(first, s.offset), hi = std::min(first + count, s.offset + s.numel);
        if (!s.trainable || lo >= hi) continue;
        parts[i] = {lo, hi, o};
        o += hi - lo;
    }
    GPTBOOK_CHECK(state.m.n_elem == o && state.v.n_elem == o, "adamw_update: the moments hold ("
                                                                  << state.m.n_elem << ", " << state.v.n_elem
                                                                  << ") values, expected (" << o
                                                                  << "): one per trainable parameter of the range");
    ++state.step;
    // Bias corrections in double, as PyTorch computes them (Python floats), then used as floats.
    const double bc1 = 1.0 - std::pow(static_cast<double>(config.beta1), static_cast<double>(state.step));
    const double bc2 = 1.0 - std::pow(static_cast<double>(config.beta2), static_cast<double>(state.step));
    const float step_size = static_cast<float>(lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    // One parallel region for all tensors, and no barrier between them (`nowait`: the tensors are
    // independent): a region per tensor cost more than the arithmetic at small shapes. Frozen
    // tensors are skipped: they have no moments and do not change.
#pragma omp parallel
    for (size_t t = 0; t < layout.size(); ++t) {
        const ParamSpec& s = layout[t];
        const Part part = parts[t];
        if (part.lo >= part.hi) continue;
        const float decay = s.decay ? 1.0f - lr * config.weight_decay : 1.0f;
        float* p = params.memptr() + part.lo;
        const float* g = grads + (part.lo - first);
        float* m = state.m.memptr() + part.moment;
        float* v = state.v.memptr() + part.moment;
        const size_t n = part.hi - part.lo;
#pragma omp for simd schedule(static) nowait
        for (size_t i = 0; i < n; ++i) {
            p[i] *= decay;                                             // eq. (6.15)
            m[i] = config.beta1 * m[i] + (1.0f - config.beta1) * g[i]; // eq. (6.16)
            v[i] = config.beta2 * v[i] + (1.0f - config.beta2) * g[i] * g[i];
            p[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + config.eps); // eq. (6.17)
        }
    }
}

} // namespace gptbook
