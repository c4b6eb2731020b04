// Solution to exercise 11.4: adapters folded into their weights, eq. (11.10), one weight and a
// whole model.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/model/parameters.hpp"

#include <algorithm>

namespace gptbook::exercises {

Mat merge_adapter(const Mat& weight, const Mat& a, const Mat& b, float scale) {
    GPTBOOK_CHECK(weight.n_rows == a.n_rows && weight.n_cols == b.n_cols && a.n_cols == b.n_rows,
                  "merge_adapter: weight " << shape_str(weight) << ", a " << shape_str(a) << ", b " << shape_str(b)
                                           << "; expected (C x OC), (C x r), (r x OC)");
    return weight + scale * a * b; // eq. (11.10): (W + s B A)^T = W^T + s A^T B^T
}

std::unique_ptr<GPT> merge_model(const GPT& model) {
    GPTConfig config = model.config;
    config.lora_rank = 0;
    auto merged = std::make_unique<GPT>(config);
    for (const ParamSpec& s : merged->layout) { // every tensor of the plain model, by name
        const ParamSpec& from = find_param(model.layout, s.name);
        std::copy_n(model.params.memptr() + from.offset, s.numel, merged->params.memptr() + s.offset);
    }
    const float scale = model.config.lora_scale();
    for (int l = 0; l < config.n_layer; ++l) {
        const LayerParams& p = model.w.h[l];
        LayerParams& q = merged->w.h[l];
        // Assigning to a view writes the merged model's buffer in place.
        auto fold = [scale](Mat& weight, const LoraTensors<Mat>& lora) {
            if (!lora.a.is_empty()) weight = merge_adapter(weight, lora.a, lora.b, scale);
        };
        fold(q.attn_w, p.attn_lora);
        fold(q.attn_proj_w, p.attn_proj_lora);
        fold(q.fc_w, p.fc_lora);
        fold(q.fc_proj_w, p.fc_proj_lora);
    }
    return merged;
}

} // namespace gptbook::exercises
