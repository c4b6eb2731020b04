// Solution to exercise 14.4: distillation's gradient for one token, eq. (14.4).
#include "exercises.hpp"

namespace gptbook::exercises {

namespace {
Vec softmax(const Vec& z) {
    Vec p = arma::exp(z - z.max()); // shifted by the largest: no overflow
    return p / arma::accu(p);
}
} // namespace

Vec distill_gradient(const Vec& z, const Vec& zt, int y, float alpha, float tau) {
    const Vec q = softmax(z / tau), qt = softmax(zt / tau), p = softmax(z);
    Vec hard = p;
    hard[y] -= 1.0f; // eq. (6.2)
    // d/dz of tau^2 KL(q^t || softmax(z / tau)) = tau^2 (q - q^t) / tau
    return alpha * tau * (q - qt) + (1.0f - alpha) * hard;
}

} // namespace gptbook::exercises
