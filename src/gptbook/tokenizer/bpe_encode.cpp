// BpeTokenizer::encode and encode_naive: special tokens, pre-tokenization, and the merge loop inside
// each piece. The fast path's heap loop and piece cache are in bpe_merge_fast.cpp.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/bpe_merge_fast.hpp"
#include "gptbook/tokenizer/bpe_model.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

namespace gptbook {

namespace {

// Cuts `text` at the special tokens that `special` asks for: calls encode_text(segment) for the
// text between them and appends each special token's id to `out`. The regex never sees across a
// special token: tiktoken splits the text the same way.
template <class EncodeText>
void split_at_specials(const BpeTokenizer::Model& m, std::string_view text, SpecialTokens special, Tokens& out,
                       EncodeText&& encode_text) {
    if (special == SpecialTokens::ordinary || m.specials.empty()) {
        encode_text(text);
        return;
    }
    SpecialFinder finder(m.specials);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto found = finder.next(text, pos);
        if (found.at == std::string_view::npos) break;
        GPTBOOK_CHECK(special == SpecialTokens::allow,
                      "encode: the text contains the special token \""
                          << *found.text << "\" at byte " << found.at
                          << "; pass SpecialTokens::allow to encode it as its id " << found.id
                          << ", or SpecialTokens::ordinary to encode it as plain text");
        encode_text(text.substr(pos, found.at - pos));
        out.push_back(found.id);
        pos = found.at + found.length;
    }
    encode_text(text.substr(pos));
}

// The merge loop of chapter 01 as first written: one token per byte, then merge the adjacent pair
// of lowest merge rank until no adjacent pair is a merge. Merging one occurrence at a time (the
// leftmost) gives what minbpe's "merge every occurrence" gives: the new token ranks after the
// merge that made it, so the other occurrences of the pair are still the lowest-ranked.
void merge_naive(const BpeTokenizer::Model& m, std::string_view piece, Tokens& out) {
    Tokens ids;
    for (const char c : piece) ids.push_back(static_cast<unsigned char>(c)); // ids 0..255 are the bytes
    while (true) {
        std::size_t best = 0;
        BpeRanked best_merge; // rank none: no merge found yet
        for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
            const auto it = m.pair_ranks.find(bpe_pair_key(ids[k], ids[k + 1]));
            // `<`, not `<=`: of two occurrences of one pair, the leftmost merges first.
            if (it != m.pair_ranks.end() && it->second.rank < best_merge.rank) {
                best = k;
                best_merge = it->second;
            }
        }
        if (best_merge.rank == BpeRanked::none) break;
        ids[best] = best_merge.id;
        ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    out.insert(out.end(), ids.begin(), ids.end());
}

} // namespace

Tokens BpeTokenizer::encode_naive(std::string_view text, SpecialTokens special) const {
    GPTBOOK_CHECK(model_->rule == MergeRule::pairs,
                  "encode_naive: this tokenizer merges by MergeRule::bytes (GPT-2's own files, as tiktoken), "
                  "and encode_naive knows only MergeRule::pairs (trained tokenizers); use encode(), which "
                  "handles both rules");
    Tokens out;
    split_at_specials(*model_, text, special, out, [&](std::string_view segment) {
        pretokenizer_.for_each(segment, [&](std::string_view piece) { merge_naive(*model_, piece, out); });
    });
    return out;
}

// The fast path: the same merges, with fewer look-ups and the long pieces on a heap.

namespace {

// One token of a piece being merged, and the merge it would make with the next token.
struct Part {
    uint32_t start; ///< byte offset in the piece
    int32_t id;
    BpeRanked next; ///< merging with the following part: rank (BpeRanked::none if it is no merge) and id
};

// merge_naive() for both merge rules and without its repeated look-ups (tiktoken's
// byte_pair_merge): each part remembers the merge it would make with the next one, so a merge
// re-ranks only its two neighbours. Still O(n^2) for an n-byte piece, which is fastest for the
// short pieces of ordinary text.
void merge_scan(std::string_view piece, const BpeRanker& rank_of, std::vector<Part>& parts, Tokens& out) {
    const std::size_t n_bytes = piece.size();
    parts.resize(n_bytes + 1); // parts[n] is a sentinel holding the end of the piece
    for (std::size_t k = 0; k < n_bytes; ++k)
        parts[k] = {static_cast<uint32_t>(k), rank_of.m.byte_ids[static_cast<unsigned char>(piece[k])], {}};
    parts[n_bytes] = {static_cast<uint32_t>(n_bytes), -1, {}};
    auto rerank = [&](std::size_t k, std::size_t n) {
        parts[k].next =
            k + 1 < n ? rank_of(parts[k].start, parts[k].id, parts[k + 1].id, parts[k + 2].start) : BpeRanked{};
    };
    std::size_t n = n_bytes;
    for (std::size_t k = 0; k + 1 < n; ++k) rerank(k, n);
    while (n > 1) {
        std::size_t best = 0;
        for (std::size_t k = 1; k + 1 < n; ++k)
            if (parts[k].next.rank < parts[best].next.rank) best = k;
        if (parts[best].next.rank == BpeRanked::none) break;
        parts[best].id = parts[best].next.id;
        parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
        --n;
        rerank(best, n);
        if (best > 0) rerank(best - 1, n);
    }
    for (std::size_t k = 0; k < n; ++k) out.push_back(parts[k].id);
}

// Pieces longer than this go to bpe_merge_heap(): below it the quadratic scan is faster.
constexpr std::size_t long_piece_bytes = 128;

// What one encode() call reuses from piece to piece.
struct EncodeState {
    BpePieceCache cache;
    std::vector<Part> parts; // merge_scan() scratch
};

// encode() between special tokens: pre-tokenize, then merge each piece not seen before.
void encode_ordinary(const BpeTokenizer::Model& m, const PreTokenizer& pretokenizer, std::string_view text,
                     EncodeState& state, Tokens& out) {
    pretokenizer.for_each(text, [&](std::string_view piece) {
        if (piece.size() == 1) {
            out.push_back(m.byte_ids[static_cast<unsigned char>(piece[0])]);
            return;
        }
        if (state.cache.replay(piece, out)) return;
        if (m.rule == MergeRule::bytes) {
            // tiktoken emits a piece that is itself a token directly, before any merging.
            if (const auto whole = m.byte_ranks.find(piece); whole != m.byte_ranks.end()) {
                out.push_back(whole->second);
                state.cache.remember(out);
                return;
            }
        }
        const BpeRanker rank_of{m, piece};
        if (piece.size() > long_piece_bytes) {
            bpe_merge_heap(piece, rank_of, out);
        } else {
            merge_scan(piece, rank_of, state.parts, out);
        }
        state.cache.remember(out);
    });
}

} // namespace

Tokens BpeTokenizer::encode(std::string_view text, SpecialTokens special) const {
    Tokens out;
    out.reserve(text.size() / 3 + 16); // about 4 bytes per token in English; a guess, not a bound
    EncodeState state;
    split_at_specials(*model_, text, special, out,
                      [&](std::string_view segment) { encode_ordinary(*model_, pretokenizer_, segment, state, out); });
    return out;
}

} // namespace gptbook
