// BpeTokenizer::train (incremental pair counts) and train_naive (recount everything, as minbpe).
#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/bpe_model.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <algorithm>
#include <map>
#include <queue>

namespace gptbook {

namespace {

using Merge = BpeTokenizer::Merge;

// The number of merges to learn, after checking the arguments both trainers share.
std::size_t merges_wanted(std::string_view text, int vocab_size, const std::vector<std::string>& specials) {
    GPTBOOK_CHECK(!text.empty(), "train: the text is empty; BPE learns its merges from a corpus");
    const auto base = 256 + static_cast<long long>(specials.size());
    GPTBOOK_CHECK(vocab_size >= base, "train: vocab_size " << vocab_size
                                                           << " is too small; it must hold the 256 byte "
                                                              "tokens and the "
                                                           << specials.size() << " special tokens (at least " << base
                                                           << ")");
    return static_cast<std::size_t>(vocab_size - base);
}

// Calls emit(piece) for each pre-token of the corpus, in order. Special tokens separate pieces and
// are not part of any (the model sees "<|endoftext|>" only as its own id).
template <class F>
void for_each_piece(std::string_view text, BpePattern pattern, const std::vector<std::string>& specials, F&& emit) {
    std::map<std::string, int32_t> special_ids;
    for (const auto& s : specials) special_ids.emplace(s, 0);
    SpecialFinder finder(special_ids);
    const PreTokenizer pretokenizer(pattern);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto found = finder.next(text, pos);
        const std::size_t end = std::min(found.at, text.size());
        pretokenizer.for_each(text.substr(pos, end - pos), emit);
        pos = end == text.size() ? end : end + found.length;
    }
}

// ---- the fast trainer -----------------------------------------------------------------------

// A unique pre-token and how often it occurs; words are numbered in order of first appearance.
struct Word {
    std::vector<int32_t> ids;
    int64_t count = 0;
};

// Where a pair first occurs in the corpus: minbpe's tie-break (its stats dict is in insertion order).
struct Occurrence {
    int32_t word = 0;
    int64_t offset = 0; ///< byte offset in the word; merges never move a token's first byte
    bool operator==(const Occurrence&) const = default;
};

struct PairStats {
    int64_t count = 0;
    std::vector<int32_t> words; ///< ascending; a word may have lost the pair since it was added
    std::size_t first_live = 0; ///< words before it are known to have lost the pair (for good)
};

struct Candidate {
    int64_t count;
    Occurrence first;
    uint64_t pair;
    // std::priority_queue pops the largest: the highest count, then the earliest first occurrence.
    bool operator<(const Candidate& o) const {
        if (count != o.count) return count < o.count;
        if (first.word != o.first.word) return first.word > o.first.word;
        return first.offset > o.first.offset;
    }
};

// Counts of adjacent pairs over all words, weighted by word count, kept up to date merge by
// merge. The queue is lazy: a pair's priority only ever drops (merges remove its occurrences and
// never add any), so an entry is an upper bound; a popped entry that is out of date is pushed
// back with its true priority, and one that is up to date is the best pair.
class MergeLearner {
public:
    explicit MergeLearner(std::vector<Word> words) : words_(std::move(words)), token_length_(256, 1) {
        for (std::size_t w = 0; w < words_.size(); ++w) {
            const auto& ids = words_[w].ids;
            for (std::size_t k = 0; k + 1 < ids.size(); ++k)
                add(bpe_pair_key(ids[k], ids[k + 1]), words_[w].count, static_cast<int32_t>(w));
        }
        for (auto& [pair, stats] : stats_) push(pair, stats);
    }

    // Picks the best pair, merges it everywhere into `new_id`; nullopt when no pair is left.
    std::optional<Merge> next(int32_t new_id) {
        while (!queue_.empty()) {
            const Candidate top = queue_.top();
            queue_.pop();
            const auto it = stats_.find(top.pair);
            if (it == stats_.end() || it->second.count <= 0) continue;
            const auto first = first_occurrence(top.pair, it->second);
            if (it->second.count != top.count || first != top.first) {
                queue_.push({it->second.count, first, top.pair});
                continue;
            }
            merge(top.pair, new_id);
            return Merge{static_cast<int32_t>(top.pair >> 32), static_cast<int32_t>(top.pair & 0xFFFFFFFFu)};
        }
        return std::nullopt;
    }

private:
    void add(uint64_t pair, int64_t count, int32_t word) {
        PairStats& s = stats_[pair];
        s.count += count;
        if (s.words.empty() || s.words.back() != word) s.words.push_back(word);
    }

    void push(uint64_t pair, PairStats& s) {
        if (s.count > 0) queue_.push({s.count, first_occurrence(pair, s), pair});
    }

    Occurrence first_occurrence(uint64_t pair, PairStats& s) {
        const auto a = static_cast<int32_t>(pair >> 32);
        const auto b = static_cast<int32_t>(pair & 0xFFFFFFFFu);
        for (; s.first_live < s.words.size(); ++s.first_live) {
            const int32_t w = s.words[s.first_live];
            const auto& ids = words_[static_cast<std::size_t>(w)].ids;
            int64_t offset = 0;
            for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
                if (ids[k] == a && ids[k + 1] == b) return {w, offset};
                offset += token_length_[static_cast<std::size_t>(ids[k])];
            }
        }
        GPTBOOK_FAIL("train: internal error: a pair with a positive count occurs in no word");
        return {}; // not reached; GPTBOOK_FAIL throws
    }

    void merge(uint64_t pair, int32_t new_id) {
        const auto a = static_cast<int32_t>(pair >> 32);
        const auto b = static_cast<int32_t>(pair & 0xFFFFFFFFu);
        token_length_.push_back(token_length_[static_cast<std::size_t>(a)] +
                                token_length_[static_cast<std::size_t>(b)]);
        PairStats merged = std::move(stats_[pair]);
        stats_.erase(pair);
        std::vector<uint64_t> created; // pairs with new_id: pushed once all words are done
        for (std::size_t k = merged.first_live; k < merged.words.size(); ++k) {
            const int32_t w = merged.words[k];
            Word& word = words_[static_cast<std::size_t>(w)];
            deltas_.clear();
            merge_in_word(word.ids, a, b, new_id);
            for (const auto& [p, delta] : deltas_) {
                if (p == pair) continue;
                if (delta > 0) {
                    add(p, word.count, w);
                    created.push_back(p);
                } else {
                    stats_[p].count -= word.count;
                }
            }
        }
        std::sort(created.begin(), created.end());
        created.erase(std::unique(created.begin(), created.end()), created.end());
        for (const uint64_t p : created) push(p, stats_[p]);
    }

    // Replaces each (a, b) in `ids`, left to right, by `z`, recording the pairs that change. At
    // each site the sequence is new[0, out) + old[i, n): x a b y becomes x z y.
    void merge_in_word(std::vector<int32_t>& ids, int32_t a, int32_t b, int32_t z) {
        std::size_t out = 0;
        std::size_t i = 0;
        const std::size_t n = ids.size();
        while (i < n) {
            if (i + 1 < n && ids[i] == a && ids[i + 1] == b) {
                if (out > 0) {
                    deltas_.emplace_back(bpe_pair_key(ids[out - 1], a), -1);
                    deltas_.emplace_back(bpe_pair_key(ids[out - 1], z), +1);
                }
                if (i + 2 < n) {
                    deltas_.emplace_back(bpe_pair_key(b, ids[i + 2]), -1);
                    deltas_.emplace_back(bpe_pair_key(z, ids[i + 2]), +1);
                }
                ids[out++] = z;
                i += 2;
            } else {
                ids[out++] = ids[i++];
            }
        }
        ids.resize(out);
    }

    std::vector<Word> words_;
    std::vector<int64_t> token_length_; ///< bytes of each id, for first-occurrence offsets
    std::unordered_map<uint64_t, PairStats> stats_;
    std::priority_queue<Candidate> queue_;
    std::vector<std::pair<uint64_t, int>> deltas_; ///< scratch for merge_in_word()
};

} // namespace

BpeTokenizer BpeTokenizer::train(std::string_view text, int vocab_size, BpePattern pattern,
                                 const std::vector<std::string>& special_tokens) {
    const std::size_t n_merges = merges_wanted(text, vocab_size, special_tokens);
    std::unordered_map<std::string_view, int32_t> index; // piece -> word number
    std::vector<Word> words;
    for_each_piece(text, pattern, special_tokens, [&](std::string_view piece) {
        const auto [it, inserted] = index.try_emplace(piece, static_cast<int32_t>(words.size()));
        if (inserted) {
            words.emplace_back();
            for (const char c : piece) words.back().ids.push_back(static_cast<unsigned char>(c)); // byte b is id b
        }
        words[static_cast<std::size_t>(it->second)].count += 1;
    });
    MergeLearner learner(std::move(words));
    std::vector<Merge> merges;
    merges.reserve(n_merges);
    while (merges.size() < n_merges) {
        const auto merge = learner.next(static_cast<int32_t>(256 + merges.size()));
        if (!merge) break; // every word is one token: nothing left to merge
        merges.push_back(*merge);
    }
    return from_merges(merges, pattern, special_tokens);
}

BpeTokenizer BpeTokenizer::train_naive(std::string_view text, int vocab_size, BpePattern pattern,
                                       const std::vector<std::string>& special_tokens) {
    const std::size_t n_merges = merges_wanted(text, vocab_size, special_tokens);
    std::vector<std::vector<int32_t>> chunks; // every pre-token of the corpus, repeats included
    for_each_piece(text, pattern, special_tokens, [&](std::string_view piece) {
        chunks.emplace_back();
        for (const char c : piece) chunks.back().push_back(static_cast<unsigned char>(c));
    });
    std::vector<Merge> merges;
    while (merges.size() < n_merges) {
        // Count every adjacent pair; remember the order pairs are first seen in (minbpe's dict order).
        std::unordered_map<uint64_t, std::pair<int64_t, int64_t>> stats; // pair -> (count, first seen)
        for (const auto& ids : chunks)
            for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
                auto& s = stats.try_emplace(bpe_pair_key(ids[k], ids[k + 1]), 0, static_cast<int64_t>(stats.size()))
                              .first->second;
                s.first += 1;
            }
        if (stats.empty()) break;
        auto best = stats.begin();
        for (auto it = stats.begin(); it != stats.end(); ++it) {
            const bool more = it->second.first > best->second.first;
            const bool tie_earlier = it->second.first == best->second.first && it->second.second < best->second.second;
            if (more || tie_earlier) best = it;
        }
        const Merge pair{static_cast<int32_t>(best->first >> 32), static_cast<int32_t>(best->first & 0xFFFFFFFFu)};
        const auto new_id = static_cast<int32_t>(256 + merges.size());
        for (auto& ids : chunks) { // replace each occurrence, left to right
            std::vector<int32_t> merged;
            for (std::size_t k = 0; k < ids.size(); ++k) {
                if (k + 1 < ids.size() && ids[k] == pair.first && ids[k + 1] == pair.second) {
                    merged.push_back(new_id);
                    ++k;
                } else {
                    merged.push_back(ids[k]);
                }
            }
            ids = std::move(merged);
        }
        merges.push_back(pair);
    }
    return from_merges(merges, pattern, special_tokens);
}

} // namespace gptbook
