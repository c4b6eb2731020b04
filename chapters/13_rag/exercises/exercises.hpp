/**
 * @file
 * @brief Chapter 13 exercises: BM25's score of one passage, InfoNCE's gradient, recall at k and the
 *        mean reciprocal rank of a retriever, and reciprocal-rank fusion of two rankings.
 *
 * Shapes: N passages, P pairs, D embedding size, Q questions, k a cut-off.
 * Each function has a stub in ex_13_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch13` until every test passes. 13.1 is a few
 * lines; 13.2 asks the most (a gradient through a normalisation). The library functions named in
 * each comment (gptbook/rag/bm25.hpp, contrastive.hpp, retriever.hpp, reader.hpp) compute the same
 * thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 13.1: BM25's score of one passage for a query, eqs. (13.1)-(13.3) (compare
 * Bm25Index::score). Over the query's distinct words t:
 * @f[ \mathrm{idf}(t) = \ln\Big(1 + \frac{N - \mathrm{df}(t) + 0.5}{\mathrm{df}(t) + 0.5}\Big), \qquad
 *     \mathrm{score} = \sum_t \mathrm{idf}(t)\,\frac{\mathrm{tf}(t)\,(k_1 + 1)}{\mathrm{tf}(t) + k_1\,(1 - b + b\,|d|/\mathrm{avgdl})} @f]
 * @param[in] query     the query's words (repeats count once), already lowercased and split
 * @param[in] passage   the passage's words, already lowercased and split (|d| = its size)
 * @param[in] corpus    every passage of the collection as words (N = its size; df and avgdl come
 *                      from it; `passage` is one of them)
 * @param[in] k1, b     BM25's constants (the tests use 1.2 and 0.75, and others)
 * @return the score, 0 when no query word is in the passage
 */
double bm25_score(const std::vector<std::string>& query, const std::vector<std::string>& passage,
                  const std::vector<std::vector<std::string>>& corpus, double k1, double b);

/**
 * @brief Exercise 13.2: InfoNCE's gradient with respect to the head's outputs, eqs. (13.4)-(13.6)
 * (compare infonce_loss). Column 2i of z is question i, column 2i+1 its passage; e = z / |z|,
 * @f$s_{ij} = e_{q_i} \cdot e_{p_j} / \tau@f$, @f$L = \frac1P \sum_i (\log\sum_j e^{s_{ij}} - s_{ii})@f$.
 * @param[in] z   (D, 2P) head outputs, no zero column
 * @param[in] tau the temperature, > 0
 * @return (D, 2P) dL/dz
 */
Mat infonce_gradient(const Mat& z, double tau);

/// A retriever's quality on Q questions.
struct RankingScores {
    double recall_at_k = 0.0; ///< the fraction of questions whose relevant passage is in the first k
    double mrr = 0.0;         ///< the mean over questions of 1 / (rank of the relevant passage), 0 when absent
};

/**
 * @brief Exercise 13.3: recall at k and the mean reciprocal rank (compare evaluate_retrieval).
 * @param[in] rankings (Q) each question's retrieved passage indices, best first (any length)
 * @param[in] relevant (Q) the index of the passage that answers each question
 * @param[in] k        the cut-off, >= 1
 * A ranking shorter than k counts what it has; the relevant passage below rank k (or missing)
 * adds nothing to recall at k but still adds 1 / rank to the MRR when it is in the ranking at all.
 */
RankingScores ranking_scores(const std::vector<std::vector<size_t>>& rankings, const std::vector<size_t>& relevant,
                             int k);

/**
 * @brief Exercise 13.4: reciprocal-rank fusion of two rankings (compare HybridRetriever): a passage
 * scores @f$\sum_r 1 / (c + \mathrm{rank}_r)@f$ over the rankings that hold it, ranks from 1.
 * @param[in] a, b two rankings of passage indices, best first
 * @param[in] c    the constant (60 in the paper and the library)
 * @return every passage of a or b, by fused score, best first; ties by the smaller index
 */
std::vector<size_t> reciprocal_rank_fusion(const std::vector<size_t>& a, const std::vector<size_t>& b, double c);

} // namespace gptbook::exercises
