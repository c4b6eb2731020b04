// BpeTokenizer::encode: special tokens, pre-tokenization, and the merge loop inside each piece.
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/bpe_model.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <algorithm>
#include <queue>

namespace gptbook {

namespace {

// One token of a piece being merged, and the merge it would make with the next token.
struct Part {
    uint32_t start; ///< byte offset in the piece
    int32_t id;
    BpeRanked next; ///< merging with the following part: rank (BpeRanked::none if it is no merge) and id
};

// Looks up the merge of two adjacent tokens: the left starts at byte `begin`, the right ends at `end`.
struct Ranker {
    const BpeTokenizer::Model& m;
    std::string_view piece;
    BpeRanked operator()(std::size_t begin, int32_t left, int32_t right, std::size_t end) const {
        if (m.rule == MergeRule::pairs) {
            const auto it = m.pair_ranks.find(bpe_pair_key(left, right));
            return it == m.pair_ranks.end() ? BpeRanked{} : it->second;
        }
        // tiktoken: the pair merges when the bytes it covers are a token; the token's id is its rank.
        const auto it = m.byte_ranks.find(piece.substr(begin, end - begin));
        return it == m.byte_ranks.end() ? BpeRanked{} : BpeRanked{it->second, it->second};
    }
};

// The readable loop (tiktoken's byte_pair_merge): find the lowest-ranked adjacent merge (the
// leftmost of equals), apply it, re-rank its two neighbours, repeat. O(n^2) for an n-byte piece,
// which is fastest for the short pieces of ordinary text.
void merge_scan(std::string_view piece, const Ranker& rank_of, std::vector<Part>& parts, Tokens& out) {
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

// The same merges in O(n log n) for long pieces (a megabyte of letters without a space is one
// piece): the tokens form a linked list and candidate merges wait in a heap ordered by (rank,
// position), so the pick is the same lowest-rank, leftmost merge as merge_scan(). A merge bumps the
// version of both tokens, which marks their old heap entries stale.
void merge_heap(std::string_view piece, const Ranker& rank_of, Tokens& out) {
    constexpr uint32_t nil = UINT32_MAX;
    const auto n = static_cast<uint32_t>(piece.size());
    std::vector<int32_t> id(n);
    std::vector<uint32_t> start(n), next(n), prev(n), version(n, 0);
    for (uint32_t k = 0; k < n; ++k) {
        id[k] = rank_of.m.byte_ids[static_cast<unsigned char>(piece[k])];
        start[k] = k;
        next[k] = k + 1 < n ? k + 1 : nil;
        prev[k] = k > 0 ? k - 1 : nil;
    }
    struct Candidate {
        int32_t rank;
        uint32_t left, right, left_version, right_version;
        int32_t merged;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto push = [&](uint32_t left) {
        const uint32_t right = next[left];
        if (right == nil) return;
        const std::size_t end = next[right] == nil ? n : start[next[right]];
        const BpeRanked r = rank_of(start[left], id[left], id[right], end);
        if (r.rank != BpeRanked::none) heap.push({r.rank, left, right, version[left], version[right], r.id});
    };
    for (uint32_t k = 0; k + 1 < n; ++k) push(k);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        if (version[c.left] != c.left_version || version[c.right] != c.right_version) continue;
        id[c.left] = c.merged;
        ++version[c.left];
        ++version[c.right];
        next[c.left] = next[c.right];
        if (next[c.right] != nil) prev[next[c.right]] = c.left;
        push(c.left);
        if (prev[c.left] != nil) push(prev[c.left]);
    }
    for (uint32_t k = 0; k != nil; k = next[k]) out.push_back(id[k]);
}

// Pieces longer than this go to merge_heap(): below it the quadratic scan is faster.
constexpr std::size_t long_piece_bytes = 128;

} // namespace

// Pieces already encoded in this call, keyed by their bytes, pointing at their first ids in the
// output. The cache lives for one encode() call: a repeated word (" the") is merged once, the
// memory is bounded by the input, and encode() stays const and thread-safe without a lock.
struct BpeTokenizer::PieceCache {
    std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>> seen; // piece -> (offset, count)
    std::vector<Part> parts; // merge_scan() scratch, reused across pieces
};

void BpeTokenizer::encode_ordinary(std::string_view text, Tokens& out, PieceCache& cache) const {
    const Model& m = *model_;
    pretokenizer_.for_each(text, [&](std::string_view piece) {
        if (piece.size() == 1) {
            out.push_back(m.byte_ids[static_cast<unsigned char>(piece[0])]);
            return;
        }
        const auto [it, inserted] = cache.seen.try_emplace(piece, out.size(), 0);
        if (!inserted) {
            const auto [offset, count] = it->second;
            const std::size_t end = out.size();
            out.resize(end + count); // copy after resizing: the source may move with the buffer
            std::copy_n(out.begin() + static_cast<std::ptrdiff_t>(offset), count,
                        out.begin() + static_cast<std::ptrdiff_t>(end));
            return;
        }
        const std::size_t before = out.size();
        if (m.rule == MergeRule::bytes) {
            // tiktoken emits a piece that is itself a token directly, before any merging.
            if (const auto whole = m.byte_ranks.find(piece); whole != m.byte_ranks.end()) {
                out.push_back(whole->second);
                it->second.second = 1;
                return;
            }
        }
        const Ranker rank_of{m, piece};
        if (piece.size() > long_piece_bytes) {
            merge_heap(piece, rank_of, out);
        } else {
            merge_scan(piece, rank_of, cache.parts, out);
        }
        it->second.second = out.size() - before;
    });
}

Tokens BpeTokenizer::encode(std::string_view text, SpecialTokens special) const {
    Tokens out;
    out.reserve(text.size() / 3 + 16); // about 4 bytes per token in English; a guess, not a bound
    PieceCache cache;
    if (special == SpecialTokens::ordinary || model_->specials.empty()) {
        encode_ordinary(text, out, cache);
        return out;
    }
    SpecialFinder finder(model_->specials);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto found = finder.next(text, pos);
        if (found.at == std::string_view::npos) break;
        GPTBOOK_CHECK(special == SpecialTokens::allow,
                      "encode: the text contains the special token \""
                          << *found.text << "\" at byte " << found.at
                          << "; pass SpecialTokens::allow to encode it as its id " << found.id
                          << ", or SpecialTokens::ordinary to encode it as plain text");
        // The regex never sees across a special token: tiktoken splits the text the same way.
        encode_ordinary(text.substr(pos, found.at - pos), out, cache);
        out.push_back(found.id);
        pos = found.at + found.length;
    }
    encode_ordinary(text.substr(pos), out, cache);
    return out;
}

} // namespace gptbook
