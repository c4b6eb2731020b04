/**
 * @file
 * @brief BpeTokenizer: byte-level byte-pair encoding (GPT-2's tokenizer), trained or imported.
 *
 * Shape legend: V vocabulary size, N number of tokens, M number of merges.
 *
 * Byte-level BPE starts from the 256 byte values as tokens, so every text can be encoded. Training
 * repeatedly finds the most frequent adjacent pair of tokens in the corpus and makes it a new
 * token: merge i creates id 256 + i. Encoding splits the text into pre-tokens (pretokenize.hpp) and,
 * inside each, applies the learned merges lowest rank first. Chapter 01 builds it step by step.
 *
 * Two rules say which adjacent pair merges next while encoding:
 *   - MergeRule::pairs (trained tokenizers, minbpe, GPT-2's encoder.py): the pair of ids (a, b)
 *     that is itself a learned merge, lowest merge rank first;
 *   - MergeRule::bytes (imported GPT-2, tiktoken): the pair whose concatenated bytes are a token,
 *     lowest token rank (= id) first. This is what tiktoken does, so imported GPT-2 ids equal
 *     tiktoken's "gpt2" encoding exactly.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/tokenizer/pretokenize.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptbook {

/// How special tokens ("<|endoftext|>") found in the text are treated by encode().
enum class SpecialTokens {
    disallow, ///< default, as tiktoken: a special token's text in the input is an error (says which and where)
    allow,    ///< encoded as its special id
    ordinary, ///< encoded as ordinary text (the bytes '<', '|', ...)
};

/// Which adjacent pair merges next while encoding (see the file comment).
enum class MergeRule { pairs, bytes };

/// A byte-level BPE tokenizer. Immutable once built; copies share their tables, and encode() and
/// decode() may be called from several threads at once.
class BpeTokenizer {
public:
    using Merge = std::pair<int32_t, int32_t>; ///< (a, b): the two ids a merge joins

    /**
     * @brief Learns merges on `text` until the vocabulary has `vocab_size` entries.
     * @param[in] text           the training corpus (any bytes; special tokens in it separate pieces)
     * @param[in] vocab_size     V = 256 byte tokens + merges + special tokens
     * @param[in] pattern        the pre-tokenization regex
     * @param[in] special_tokens texts that get the last ids, in this order
     *
     * Pair counts are kept per unique pre-token ("word", with its count) and updated incrementally:
     * a merge touches only the words that contain its pair. The next merge is the pair with the
     * highest count; ties go to the pair that occurs first in the text, exactly as minbpe's
     * `max(stats, key=stats.get)` over insertion order, so the merges equal minbpe's (see
     * train_naive()). Stops early, with a smaller vocabulary, when no pair is left to merge.
     */
    static BpeTokenizer train(std::string_view text, int vocab_size, BpePattern pattern = BpePattern::gpt2,
                              const std::vector<std::string>& special_tokens = {"<|endoftext|>"});

    /// The reference for train(): recounts every pair of the whole corpus for every merge, like
    /// minbpe. Same arguments and same result, O(M * N) time; kept for reading and for tests.
    static BpeTokenizer train_naive(std::string_view text, int vocab_size, BpePattern pattern = BpePattern::gpt2,
                                    const std::vector<std::string>& special_tokens = {"<|endoftext|>"});

    /**
     * @brief A tokenizer from learned merges: ids 0..255 are the bytes, merge i = (a, b) creates
     *        id 256 + i, and the special tokens take the ids after the merges, in order.
     * @param[in] merges         (M) pairs of ids; each id must exist before its merge (< 256 + i)
     * @param[in] pattern        the pre-tokenization regex
     * @param[in] special_tokens texts that get the ids after the merges, in this order
     */
    static BpeTokenizer from_merges(const std::vector<Merge>& merges, BpePattern pattern = BpePattern::gpt2,
                                    const std::vector<std::string>& special_tokens = {"<|endoftext|>"});

    /**
     * @brief GPT-2's own files: `encoder.json` (token string -> id, in GPT-2's bytes_to_unicode
     *        alphabet) and `vocab.bpe` (one merge per line, ranked by line order).
     *
     * Merges by MergeRule::bytes and the GPT-2 pattern, so ids equal tiktoken's "gpt2" encoding;
     * "<|endoftext|>" is special token 50256. Throws gptbook::Error when the two files disagree.
     */
    static BpeTokenizer from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path);

    /**
     * @brief Text to token ids.
     * @param[in] text    any bytes; invalid UTF-8 bytes become single-byte tokens (never an error)
     * @param[in] special how special-token texts in `text` are treated
     * @return (N) ids in [0, V)
     *
     * Pieces seen twice in one call are merged once (a cache local to the call), and long pieces
     * merge on a heap in O(n log n) (bpe_merge_fast.hpp); encode_naive() is the same without either.
     */
    Tokens encode(std::string_view text, SpecialTokens special = SpecialTokens::disallow) const;

    /**
     * @brief The reference for encode(), and the version to read first: the same ids, by the
     *        plainest merge loop (MergeRule::pairs only).
     * @param[in] text    any bytes, split at special tokens and pre-tokenized exactly as by encode()
     * @param[in] special how special-token texts in `text` are treated
     * @return (N) ids in [0, V), equal to encode(text, special)
     *
     * Inside each piece: start from one token per byte, find the adjacent pair (a, b) whose merge
     * has the lowest rank m (the leftmost of equals), replace it by its token 256 + m, and repeat
     * until no adjacent pair is a merge. O(n^2) merge look-ups for an n-byte piece, no cache.
     * Throws gptbook::Error for a tokenizer that merges by MergeRule::bytes (GPT-2's own files):
     * use encode() there.
     */
    Tokens encode_naive(std::string_view text, SpecialTokens special = SpecialTokens::disallow) const;

    /// The raw bytes of the tokens (N). Throws gptbook::Error naming an id out of range.
    std::string decode_bytes(const Tokens& ids) const;

    /// The text of the tokens: bytes that are not valid UTF-8 become U+FFFD (one per maximal
    /// invalid subsequence, as Python's errors="replace"). Never throws on ids in range.
    std::string decode(const Tokens& ids) const;

    /// The bytes of one token (a special token's bytes are its text).
    const std::string& token_bytes(int32_t id) const;

    /// V: the number of ids, special tokens included.
    int vocab_size() const;

    /// (M) merges in rank order: merge i creates id 256 + i (for trained tokenizers).
    const std::vector<Merge>& merges() const;

    /// The id of special token `text`, if it is one.
    std::optional<int32_t> special_id(const std::string& text) const;

    /**
     * @brief The same tokenizer with more special tokens; every existing id keeps its meaning.
     * @param[in] specials texts to add; those already special are skipped (as are repeats), the
     *                     others get ids V, V+1, ... in the order given. Each must be non-empty
     *                     valid UTF-8.
     * @return a tokenizer with the same merges and V' = V + (new specials) ids
     *
     * There are no characters to add: all 256 bytes are tokens already. As for "<|endoftext|>",
     * encode() with SpecialTokens::allow turns a new token's text into its id, and
     * SpecialTokens::ordinary encodes it as the bytes '<', '|', ...
     */
    BpeTokenizer with_special_tokens(const std::vector<std::string>& specials) const;

    /// All special tokens, text -> id.
    const std::map<std::string, int32_t>& special_tokens() const;

    BpePattern pattern() const { return pretokenizer_.pattern(); } ///< the pre-tokenization regex
    MergeRule merge_rule() const; ///< pairs for trained tokenizers, bytes for GPT-2's files

    /// {"type": "bpe", "pattern": "gpt2"|"cl100k", "merge_rule": "pairs"|"bytes", "merges": [[a, b], ...],
    ///  "special_tokens": {"<|endoftext|>": id}}; MergeRule::bytes adds "vocab": every token's
    /// bytes in GPT-2's bytes_to_unicode alphabet (as HF tokenizer.json), in id order.
    nlohmann::json to_json() const;

    /// Reads what to_json() wrote, validating every field; errors name `what`.
    static BpeTokenizer from_json(const nlohmann::json& j, const std::string& what = "tokenizer JSON");

    /// Writes to_json() to `path` atomically (temporary file, then rename).
    void save(const std::string& path) const;

    /// Reads a file written by save(); errors name the path.
    static BpeTokenizer load(const std::string& path);

    /// Same pattern, rule, vocabulary, merges and special tokens.
    bool operator==(const BpeTokenizer& other) const;

    struct Model; ///< the immutable tables (bpe_model.hpp)

private:
    explicit BpeTokenizer(std::shared_ptr<const Model> model);

    std::shared_ptr<const Model> model_;
    PreTokenizer pretokenizer_;
};

/// GPT-2's reversible map from the 256 byte values to printable characters (its encoder.py
/// `bytes_to_unicode`): printable Latin-1 bytes map to themselves, the rest to U+0100 onwards,
/// so that ' ' shows as 'Ġ' and '\n' as 'Ċ'. Returns the code point of each byte.
const std::array<char32_t, 256>& gpt2_bytes_to_unicode();

/**
 * @brief Bytes to text with each maximal invalid UTF-8 subsequence replaced by U+FFFD.
 * @param[in] bytes any bytes
 * @param[in] keep_incomplete_tail when true, a valid but unfinished character at the very end is
 *            not replaced but left out, and its length stored in `*tail_length` (streaming)
 * @param[out] tail_length where keep_incomplete_tail stores the tail's length (0 if none);
 *            may be nullptr
 */
std::string utf8_replace_invalid(std::string_view bytes, bool keep_incomplete_tail = false,
                                 std::size_t* tail_length = nullptr);

} // namespace gptbook
