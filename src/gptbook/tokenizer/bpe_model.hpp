/**
 * @file
 * @brief The tables behind a BpeTokenizer (internal to the tokenizer module).
 *
 * Shape legend: V vocabulary size, M number of merges.
 */
#pragma once

#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gptbook {

/// (a, b) as one 64-bit hash key.
inline uint64_t bpe_pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

/// A merge found in a look-up table: its priority (lower merges first) and the id it creates.
struct BpeRanked {
    static constexpr int32_t none = std::numeric_limits<int32_t>::max(); ///< rank of "no merge"
    int32_t rank = none; ///< merge order: lower merges first; none when the pair never merges
    int32_t id = -1;     ///< the token the merge creates; -1 with rank none
};

/// Everything a BpeTokenizer knows. Immutable after bpe_finish_model(), shared between copies;
/// not copyable itself because `byte_ranks` holds views into `vocab`.
struct BpeTokenizer::Model {
    BpePattern pattern = BpePattern::gpt2;   ///< the pre-tokenization regex
    MergeRule rule = MergeRule::pairs;       ///< which adjacent pair merges next while encoding
    std::vector<std::string> vocab;          ///< (V) bytes of each id; a special token's text at its id
    int32_t n_regular = 0;                   ///< ids [0, n_regular) are byte and merge tokens, the rest special
    std::vector<Merge> merges;               ///< (M) in rank order
    std::map<std::string, int32_t> specials; ///< text -> id
    std::array<int32_t, 256> byte_ids{};     ///< the id of each single byte (identity for trained tokenizers)
    std::unordered_map<uint64_t, BpeRanked> pair_ranks;       ///< MergeRule::pairs: (a, b) -> (rank, new id)
    std::unordered_map<std::string_view, int32_t> byte_ranks; ///< MergeRule::bytes: bytes -> id (= rank)

    Model() = default;
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
};

/// The merge of two adjacent tokens under the model's MergeRule, for the fast merge loops of
/// encode(): the left token starts at byte `begin` of the piece, the right one ends at `end`.
struct BpeRanker {
    const BpeTokenizer::Model& m; ///< the tables
    std::string_view piece;       ///< the piece being merged
    /// The merge (rank, id) of `left` and `right`, or rank BpeRanked::none when they never merge.
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

/**
 * @brief Validates `model` (ids dense, special tokens after the regular ones, every byte a token,
 *        merges referring to earlier ids) and builds its look-up tables.
 * @param[in] model the tables read or learned so far; consumed
 * @param[in] what  names the source in error messages
 * @return the finished, immutable model
 *
 * For MergeRule::pairs, fills `vocab` (bytes, then one token per merge) from `merges`; for
 * MergeRule::bytes, `vocab` must be given and `byte_ids` is derived from it.
 */
std::shared_ptr<const BpeTokenizer::Model> bpe_finish_model(std::unique_ptr<BpeTokenizer::Model> model,
                                                            const std::string& what);

/// Finds special tokens left to right; remembers where each next occurs so that the text is
/// searched once per special token, not once per occurrence.
class SpecialFinder {
public:
    /// A finder for the special tokens `specials` (text -> id), nothing searched yet.
    explicit SpecialFinder(const std::map<std::string, int32_t>& specials) {
        for (const auto& [text, id] : specials) tokens_.push_back({text, id, 0, false});
    }
    /// One occurrence of a special token.
    struct Found {
        std::size_t at = std::string_view::npos; ///< byte offset in the text; npos = none left
        std::size_t length = 0;                  ///< its length in bytes
        int32_t id = -1;                         ///< its token id
        const std::string* text = nullptr;       ///< its text (owned by the finder)
    };
    /// The leftmost special token at or after `from` (the longest, where several start there).
    /// Calls on one text must not move `from` backwards.
    /// @param[in] text the text being encoded; the same for every call
    /// @param[in] from byte offset to search from
    /// @return the occurrence, or at = npos when there is none
    Found next(std::string_view text, std::size_t from) {
        Found best;
        for (auto& t : tokens_) {
            if (!t.searched || (t.at != std::string_view::npos && t.at < from)) {
                t.at = text.find(t.text, from);
                t.searched = true;
            }
            if (t.at < best.at || (t.at == best.at && t.at != std::string_view::npos && t.text.size() > best.length))
                best = {t.at, t.text.size(), t.id, &t.text};
        }
        return best;
    }

private:
    struct Token {
        std::string text;
        int32_t id;
        std::size_t at;
        bool searched;
    };
    std::vector<Token> tokens_;
};

} // namespace gptbook
