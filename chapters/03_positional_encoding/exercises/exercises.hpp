/**
 * @file
 * @brief Chapter 03 exercises: the sinusoidal table, the gradient of a learned table, why
 *        sinusoids encode relative position, and the similarity of positions.
 *
 * Shape legend: C channels, T positions, B batch; token t of sequence b is column b*T + t.
 *
 * Each function is a stub in ex_3_N.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch03` until the tests pass. Solutions are in
 * solutions/03_positional_encoding/.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

namespace gptbook::exercises {

/**
 * @brief Exercise 3.1: the sinusoidal table of eq. (3.3), written by you.
 * @f[ P[2i, t] = \sin\!\left(t / 10000^{2i/C}\right), \quad P[2i+1, t] = \cos\!\left(t / 10000^{2i/C}\right) @f]
 * @param[in] C channels (even); @param[in] T positions
 * @return (C, T) the table; must match sinusoidal_table(C, T)
 */
Mat sinusoidal_positions(int C, int T);

/**
 * @brief Exercise 3.2: the gradient of a learned position table, eq. (3.2): column t of `dpos`
 *        collects the gradient of position t of every sequence. Accumulates (+=).
 * @param[in,out] dpos (C, T_max) accumulated gradient, T_max >= T
 * @param[in]     dout (C, B*T) gradient of the embeddings after positions were added
 * @param[in]     B    sequences; @param[in] T tokens per sequence
 */
void positions_backward(Mat& dpos, const Mat& dout, int B, int T);

/**
 * @brief Exercise 3.3: the matrix that moves every sinusoidal position k steps on:
 *        M * P[:, t] = P[:, t + k] for every t, with P = sinusoidal_table(C, T).
 *
 * Each channel pair (2i, 2i+1) is (sin wt, cos wt); use sin(a + b) and cos(a + b). That M exists
 * and does not depend on t is why Vaswani et al. expected the model to find relative positions
 * easy to attend to.
 * @param[in] C channels, even (odd throws gptbook::Error); @param[in] k the shift (any integer)
 * @return (C, C) block-diagonal, one 2 x 2 rotation per channel pair
 */
Mat sinusoidal_shift(int C, int k);

/**
 * @brief Exercise 3.4: the cosine similarity of every pair of positions of a table.
 * @param[in] pos (C, T) a position table (learned or sinusoidal)
 * @return (T, T) S(t, u) = cos(pos[:, t], pos[:, u]); 0 where either column is all zeros
 */
Mat position_similarity(const Mat& pos);

} // namespace gptbook::exercises
