// Shapes: V vocabulary, N tokens.
#include "gptbook/nn/distill.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/nn/crossentropy.hpp"

#include <cmath>

namespace gptbook {

namespace {

void check_distill(const char* fn, const Mat& logits, const Mat& teacher_logits, const Tokens& targets, float alpha,
                   float tau) {
    GPTBOOK_CHECK_SHAPE(fn, "teacher_logits", teacher_logits, logits.n_rows, logits.n_cols);
    GPTBOOK_CHECK(targets.size() == logits.n_cols,
                  fn << ": " << targets.size() << " targets for " << logits.n_cols << " tokens; expected one each");
    GPTBOOK_CHECK(alpha >= 0.0f && alpha <= 1.0f, fn << ": alpha is " << alpha << ", expected a weight in [0, 1]");
    GPTBOOK_CHECK(tau > 0.0f, fn << ": the temperature is " << tau << ", expected > 0");
}

// log softmax(z / tau) of one column, into out (V): z/tau - log sum exp(z/tau), stable for any z.
void log_softmax(float* out, const float* z, arma::uword V, float tau) {
    float zmax = z[0];
    for (arma::uword v = 1; v < V; ++v) zmax = std::max(zmax, z[v]);
    double sum = 0.0;
    for (arma::uword v = 0; v < V; ++v) sum += std::exp(static_cast<double>((z[v] - zmax) / tau));
    const float lse = static_cast<float>(std::log(sum));
    for (arma::uword v = 0; v < V; ++v) out[v] = (z[v] - zmax) / tau - lse;
}

} // namespace

float distill_forward(RowVec& losses, const Mat& logits, const Mat& teacher_logits, const Tokens& targets, float alpha,
                      float tau) {
    check_distill("distill_forward", logits, teacher_logits, targets, alpha, tau);
    const arma::uword V = logits.n_rows, N = logits.n_cols;
    losses.set_size(N);
    Vec log_q(V), log_qt(V), log_p(V);
    double sum = 0.0;
    size_t scored = 0;
    for (arma::uword n = 0; n < N; ++n) {
        if (targets[n] == ignore_target) {
            losses[n] = 0.0f;
            continue;
        }
        GPTBOOK_CHECK(targets[n] >= 0 && static_cast<arma::uword>(targets[n]) < V,
                      "distill_forward: target " << targets[n] << " at token " << n << " is outside [0, " << V << ")");
        log_softmax(log_q.memptr(), logits.colptr(n), V, tau);
        log_softmax(log_qt.memptr(), teacher_logits.colptr(n), V, tau);
        log_softmax(log_p.memptr(), logits.colptr(n), V, 1.0f);
        double kl = 0.0; // KL(q^t || q) = sum_v q^t_v (log q^t_v - log q_v)
        for (arma::uword v = 0; v < V; ++v) kl += std::exp(log_qt[v]) * (log_qt[v] - log_q[v]);
        losses[n] = static_cast<float>(alpha * tau * tau * kl - (1.0f - alpha) * log_p[targets[n]]); // eq. (14.3)
        sum += losses[n];
        ++scored;
    }
    return scored == 0 ? 0.0f : static_cast<float>(sum / static_cast<double>(scored));
}

void distill_backward(Mat& dlogits, const RowVec& dlosses, const Mat& logits, const Mat& teacher_logits,
                      const Tokens& targets, float alpha, float tau) {
    check_distill("distill_backward", logits, teacher_logits, targets, alpha, tau);
    GPTBOOK_CHECK_SHAPE("distill_backward", "dlogits", dlogits, logits.n_rows, logits.n_cols);
    GPTBOOK_CHECK(dlosses.n_elem == logits.n_cols,
                  "distill_backward: dlosses has " << dlosses.n_elem << " elements, expected N = " << logits.n_cols);
    const arma::uword V = logits.n_rows, N = logits.n_cols;
    Vec log_q(V), log_qt(V), log_p(V);
    for (arma::uword n = 0; n < N; ++n) {
        if (targets[n] == ignore_target || dlosses[n] == 0.0f) continue;
        log_softmax(log_q.memptr(), logits.colptr(n), V, tau);
        log_softmax(log_qt.memptr(), teacher_logits.colptr(n), V, tau);
        log_softmax(log_p.memptr(), logits.colptr(n), V, 1.0f);
        float* d = dlogits.colptr(n);
        for (arma::uword v = 0; v < V; ++v) {
            const float hard = std::exp(log_p[v]) - (static_cast<int32_t>(v) == targets[n] ? 1.0f : 0.0f);
            d[v] += dlosses[n] *
                    (alpha * tau * (std::exp(log_q[v]) - std::exp(log_qt[v])) + (1.0f - alpha) * hard); // (14.4)
        }
    }
}

} // namespace gptbook
