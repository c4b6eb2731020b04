/**
 * @file
 * @brief The fast path of BpeTokenizer::encode (internal to the tokenizer module): the heap merge
 *        loop for long pieces and the per-call cache of pieces already merged.
 *
 * Shape legend: N number of tokens, n number of bytes of one piece.
 *
 * Neither changes a single id: encode_naive() (bpe_encode.cpp) is the loop to read first, and the
 * tests check that encode() gives exactly its ids.
 */
#pragma once

#include "gptbook/tokenizer/bpe_model.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace gptbook {

/**
 * @brief Merges one piece in O(n log n) and appends its ids to `out`: the same lowest-rank,
 *        leftmost merges as the O(n^2) scan, for pieces too long to scan (a megabyte of letters
 *        without a space is one piece).
 * @param[in]  piece   the bytes (n) of one pre-token
 * @param[in]  rank_of the merge rule over the tokenizer's tables, for this piece
 * @param[out] out     the ids of the piece are appended (N)
 */
void bpe_merge_heap(std::string_view piece, const BpeRanker& rank_of, Tokens& out);

/// Pieces already encoded in one encode() call, keyed by their bytes, pointing at their first ids
/// in the output. The cache lives for one call: a repeated word (" the") is merged once, the memory
/// is bounded by the input, and encode() stays const and thread-safe without a lock.
class BpePieceCache {
public:
    /**
     * @brief Appends the ids of `piece` to `out` when it was merged earlier in this call.
     * @param[in]     piece a view into the text being encoded (it must outlive the cache)
     * @param[in,out] out   the ids so far (N); the piece's ids are appended when it is known
     * @return true when the ids were appended; false when the piece is new: the caller appends
     *         its ids to `out` and then calls remember(out)
     */
    bool replay(std::string_view piece, Tokens& out) {
        const auto [it, inserted] = seen_.try_emplace(piece, out.size(), 0);
        if (inserted) {
            pending_ = &it->second; // element addresses survive a rehash
            return false;
        }
        const auto [offset, count] = it->second;
        const std::size_t end = out.size();
        out.resize(end + count); // copy after resizing: the source may move with the buffer
        std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(offset), count,
                    out.begin() + static_cast<std::ptrdiff_t>(end));
        return true;
    }

    /// Records the ids appended to `out` since the last replay() that returned false.
    void remember(const Tokens& out) { pending_->second = out.size() - pending_->first; }

private:
    std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>> seen_; // piece -> (offset, count)
    std::pair<std::size_t, std::size_t>* pending_ = nullptr; // the entry of the piece being merged
};

} // namespace gptbook
