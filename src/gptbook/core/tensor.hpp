/**
 * @file
 * @brief The tensor types of gptbook: float32 Armadillo matrices, one column per token.
 *
 * Shape legend used in every file: B batch, T time (sequence length), C channels (n_embd),
 * NH heads, HS head size (C / NH), V vocabulary, L layers, N = B*T tokens in a batch.
 *
 * Armadillo is column-major, so an activation of shape (C, N) keeps the C features of one token
 * contiguous: token t of sequence b is column b*T + t. Those bytes are exactly PyTorch's row-major
 * (B, T, C) tensor, so tensors move between the two with a plain copy.
 */
#pragma once

#include <armadillo>
#include <cstdint>
#include <vector>

namespace gptbook {

using Mat = arma::fmat;              ///< float32 matrix, (rows, cols); activations are (features, tokens)
using Vec = arma::fvec;              ///< float32 column vector
using RowVec = arma::frowvec;        ///< float32 row vector: one value per token
using Tokens = std::vector<int32_t>; ///< token ids; a batch is B*T ids, token t of row b at b*T + t

/// A matrix that aliases `rows * cols` floats at `data` (no copy, fixed size): how every named
/// parameter is a view into the one flat parameter buffer.
inline Mat view(float* data, arma::uword rows, arma::uword cols) {
    return Mat(data, rows, cols, /*copy_aux_mem=*/false, /*strict=*/true);
}

/// "(rows x cols)", for error messages.
std::string shape_str(const Mat& m);

} // namespace gptbook
