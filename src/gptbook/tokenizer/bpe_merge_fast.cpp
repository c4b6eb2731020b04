// The heap merge loop of BpeTokenizer::encode for long pieces (the cache is all in the header).
#include "gptbook/tokenizer/bpe_merge_fast.hpp"

#include <queue>

namespace gptbook {

// The tokens form a linked list and candidate merges wait in a heap ordered by (rank, position),
// so the pick is the same lowest-rank, leftmost merge as the scan in bpe_encode.cpp. A merge bumps
// the version of both tokens, which marks their old heap entries stale.
void bpe_merge_heap(std::string_view piece, const BpeRanker& rank_of, Tokens& out) {
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

} // namespace gptbook
