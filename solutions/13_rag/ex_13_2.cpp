// Solution to exercise 13.2: InfoNCE's gradient, eqs. (13.4)-(13.6).
#include "exercises.hpp"

#include <cmath>

namespace gptbook::exercises {

Mat infonce_gradient(const Mat& z, double tau) {
    const arma::uword P = z.n_cols / 2;
    arma::mat e = arma::conv_to<arma::mat>::from(z); // in double: s / tau can be ~20
    arma::rowvec len(2 * P);
    for (arma::uword c = 0; c < 2 * P; ++c) {
        len(c) = arma::norm(e.col(c));
        e.col(c) /= len(c);
    }
    arma::mat q(e.n_rows, P), p(e.n_rows, P);
    for (arma::uword i = 0; i < P; ++i) {
        q.col(i) = e.col(2 * i);
        p.col(i) = e.col(2 * i + 1);
    }
    const arma::mat s = q.t() * p / tau; // (P, P)
    arma::mat G(P, P);                   // dL/ds: (softmax - identity) / P, row by row
    for (arma::uword i = 0; i < P; ++i) {
        const arma::rowvec x = arma::exp(s.row(i) - s.row(i).max());
        G.row(i) = x / arma::accu(x) / static_cast<double>(P);
        G(i, i) -= 1.0 / static_cast<double>(P);
    }
    const arma::mat dq = p * G.t() / tau; // (13.5): question i collects every passage it was compared with
    const arma::mat dp = q * G / tau;     //         passage j collects every question compared with it
    Mat dz(z.n_rows, z.n_cols);
    for (arma::uword c = 0; c < 2 * P; ++c) {
        const arma::vec de = c % 2 == 0 ? dq.col(c / 2) : dp.col(c / 2);
        const arma::vec ec = e.col(c);
        dz.col(c) = arma::conv_to<Vec>::from((de - ec * arma::dot(ec, de)) / len(c)); // (13.6)
    }
    return dz;
}

} // namespace gptbook::exercises
