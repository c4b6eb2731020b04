#include "gptbook/train/evaluate.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace gptbook {

StreamLoss evaluate_stream(const GPT& model, const Tokens& stream, int batch_size) {
    GPTBOOK_CHECK(stream.size() >= 2,
                  "evaluate_stream: " << stream.size() << " tokens; at least 2 are needed to score one");
    GPTBOOK_CHECK(batch_size > 0, "evaluate_stream: batch_size is " << batch_size << ", expected >= 1");
    const size_t T = model.config.block_size;
    const size_t scored_total = stream.size() - 1;
    const size_t windows = (scored_total + T - 1) / T;
    ActivationTensors acts(model.config, batch_size, static_cast<int>(T));
    Tokens inputs(batch_size * T), targets(batch_size * T);
    double loss_sum = 0.0;
    for (size_t w0 = 0; w0 < windows; w0 += batch_size) {
        // The last window may be short; its missing positions (and unused rows) are not scored.
        std::fill(inputs.begin(), inputs.end(), 0);
        std::fill(targets.begin(), targets.end(), ignore_target);
        for (size_t b = 0; b < static_cast<size_t>(batch_size) && w0 + b < windows; ++b) {
            const size_t start = (w0 + b) * T;
            for (size_t t = 0; t < T && start + t + 1 < stream.size(); ++t) {
                inputs[b * T + t] = stream[start + t];
                targets[b * T + t] = stream[start + t + 1];
            }
        }
        gpt_forward(model, acts, inputs, &targets);
        for (size_t n = 0; n < targets.size(); ++n) loss_sum += acts.losses[n]; // ignored positions hold 0
    }
    StreamLoss r;
    r.tokens = scored_total;
    r.loss = loss_sum / static_cast<double>(scored_total);
    r.perplexity = std::exp(r.loss);
    return r;
}

double ClassifierScores::accuracy() const {
    const double total = arma::accu(confusion);
    return total == 0 ? 0.0 : static_cast<double>(arma::trace(confusion)) / total;
}

ClassifierScores evaluate_classifier(const GPT& model, const std::vector<Tokens>& rows,
                                     const std::vector<int32_t>& labels, int batch_size) {
    const GPTConfig& cfg = model.config;
    GPTBOOK_CHECK(cfg.n_classes > 0, "evaluate_classifier: the model is not a classifier (n_classes = 0)");
    GPTBOOK_CHECK(rows.size() == labels.size() && !rows.empty(),
                  "evaluate_classifier: " << rows.size() << " sequences and " << labels.size()
                                          << " labels; expected the same number, at least one");
    GPTBOOK_CHECK(batch_size > 0, "evaluate_classifier: batch_size is " << batch_size << ", expected >= 1");
    const int T = cfg.block_size, K = cfg.n_classes;
    ClassifierScores scores;
    scores.confusion.zeros(K, K);
    double loss_sum = 0.0;
    std::optional<ActivationTensors> full; // allocated once; only a smaller last batch needs its own
    for (size_t r0 = 0; r0 < rows.size(); r0 += batch_size) {
        const int B = static_cast<int>(std::min<size_t>(batch_size, rows.size() - r0));
        std::optional<ActivationTensors> last;
        if (B == batch_size && !full) full.emplace(cfg, B, T);
        ActivationTensors& acts = B == batch_size ? *full : last.emplace(cfg, B, T);
        Tokens inputs(static_cast<size_t>(B) * T, 0);
        std::vector<int32_t> lengths(B), batch_labels(labels.begin() + r0, labels.begin() + r0 + B);
        for (int b = 0; b < B; ++b) {
            const Tokens& row = rows[r0 + b];
            GPTBOOK_CHECK(!row.empty() && row.size() <= static_cast<size_t>(T), "evaluate_classifier: sequence "
                                                                                    << r0 + b << " has " << row.size()
                                                                                    << " tokens, expected 1.." << T);
            std::copy(row.begin(), row.end(), inputs.begin() + static_cast<std::ptrdiff_t>(b) * T);
            lengths[b] = static_cast<int32_t>(row.size());
        }
        classifier_forward(model, acts, inputs, lengths, &batch_labels);
        for (int b = 0; b < B; ++b) {
            scores.confusion(batch_labels[b], acts.cls_logits.col(b).index_max()) += 1;
            loss_sum += acts.cls_losses[b];
        }
    }
    scores.loss = loss_sum / static_cast<double>(rows.size());
    return scores;
}

} // namespace gptbook
