/**
 * @file
 * @brief Chapter 02 exercises: the lookup as a matrix product, the gradient scatter, and
 *        similarity in embedding space.
 *
 * Shape legend: C channels, V vocabulary, N tokens (one column per token), K neighbours.
 *
 * Each function is a stub in ex_2_N.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch02` until the tests pass. Solutions are in
 * solutions/02_embeddings/.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 2.1: one-hot columns, so that `wte * one_hot(tokens, V)` equals the lookup
 *        embedding_forward() does (eq. 2.1).
 * @param[in] tokens N ids, each in [0, V); an id outside throws gptbook::Error
 * @param[in] V      vocabulary size
 * @return (V, N) zeros, with a 1 at (tokens[n], n)
 */
Mat one_hot(const Tokens& tokens, int V);

/**
 * @brief Exercise 2.2: the gradient of the table, eq. (2.2): adds column n of `dout` into column
 *        tokens[n] of `dwte`. Accumulates (+=) like every backward function in gptbook.
 * @param[in,out] dwte   (C, V) accumulated gradient of the table
 * @param[in]     dout   (C, N) gradient of the looked-up embeddings
 * @param[in]     tokens N ids, each in [0, V)
 */
void embedding_scatter(Mat& dwte, const Mat& dout, const Tokens& tokens);

/**
 * @brief Exercise 2.3: cosine similarity, the cosine of the angle between two vectors.
 * @f[ \cos(a, b) = \frac{a^\top b}{\lVert a\rVert\,\lVert b\rVert} @f]
 * @param[in] a (C); @param[in] b (C), same length (else gptbook::Error)
 * @return a value in [-1, 1]; 0 when either vector is all zeros (it has no direction)
 */
float cosine_similarity(const Vec& a, const Vec& b);

/**
 * @brief Exercise 2.4: the K ids whose columns of `wte` are most similar (by cosine) to column
 *        `id`, most similar first, `id` itself left out; ties go to the smaller id.
 * @param[in] wte (C, V) an embedding table
 * @param[in] id  the query id in [0, V)
 * @param[in] K   how many neighbours, at most V - 1
 * @return (K) ids
 */
std::vector<int> nearest_neighbours(const Mat& wte, int id, int K);

} // namespace gptbook::exercises
