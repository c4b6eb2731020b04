/**
 * @file
 * @brief CharTokenizer: one token per Unicode character, the vocabulary of chapter 01.
 *
 * Shape legend: V vocabulary size (number of distinct characters), N number of tokens.
 *
 * The vocabulary is the sorted set of distinct code points of a training text, and a character's
 * id is its rank in that order. That is exactly nanoGPT's `chars = sorted(set(text))`, so on tiny
 * Shakespeare the ids match nanoGPT's (65 ids, '\n' = 0, ' ' = 1, '!' = 2, ...).
 *
 * Fine-tuning (chapter 11) grows a trained vocabulary without changing what any id means, because
 * the model's embedding rows are indexed by id. with_added() appends, in three consecutive blocks:
 *
 *     ids [0, S)          the sorted base characters (S of them), id = rank, as above
 *     ids [S, S+A)        added characters, in the order they were added (not sorted)
 *     ids [S+A, S+A+P)    special tokens such as "<|end|>", in the order they were added
 *
 * so V = S + A + P, and the new ids are exactly the old V, old V+1, ... A special token is one id
 * for a whole string. encode() never produces one, even when the text spells it out: a user who
 * types "<|end|>" gets the characters '<', '|', ... (or an error when they are not in the
 * vocabulary), never the end token. Code that means a special token asks for its id with
 * special_id(); decode() turns it back into its text.
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gptbook {

/// Maps text to token ids and back, one id per Unicode code point. The invariant it protects:
/// the base vocabulary is non-empty, sorted by code point and free of duplicates, so id = rank;
/// added characters and special tokens follow it (see the file comment), and no character or
/// special token has two ids.
class CharTokenizer {
public:
    /**
     * @brief Builds the vocabulary from a text: its distinct code points, sorted.
     * @param[in] text the training text, UTF-8
     * @param[in] what names the text in error messages, e.g. "corpus data/x.txt"
     *
     * Throws gptbook::Error when the text is empty or not valid UTF-8.
     */
    static CharTokenizer from_text(std::string_view text, const std::string& what = "text");

    /**
     * @brief A tokenizer whose vocabulary is exactly `chars`, in that order.
     * @param[in] chars the vocabulary as one UTF-8 string; must be non-empty, sorted by code point,
     *                  without duplicates (the order from_text() produces)
     * @param[in] what  names the source in error messages, e.g. "tokenizer file runs/x/tokenizer.json"
     */
    static CharTokenizer from_chars(std::string_view chars, const std::string& what = "vocabulary");

    /**
     * @brief The same tokenizer with more characters and special tokens; every existing id keeps
     *        its meaning.
     * @param[in] chars    UTF-8 characters to add; those already in the vocabulary (or earlier in
     *                     `chars`) are skipped, the others get ids V, V+1, ... in the order given
     * @param[in] specials special tokens to add after them; those already present are skipped.
     *                     Each must be non-empty, valid UTF-8 and not a single character of the
     *                     vocabulary (that text would then have two ids)
     * @return a tokenizer with V' = V + (new characters) + (new specials) ids
     *
     * Throws gptbook::Error on invalid UTF-8, on a bad special token, and when new characters
     * would follow existing special tokens: the blocks above (and the JSON file) keep every
     * character before every special token, so characters must be added before the first special
     * token, or together with it in one call.
     */
    CharTokenizer with_added(std::string_view chars, const std::vector<std::string>& specials) const;

    /**
     * @brief Text to token ids.
     * @param[in] text UTF-8 text, every character of which is in the vocabulary
     * @return (N) ids in [0, V), one per code point; never a special token's id
     *
     * Throws gptbook::Error on invalid UTF-8, and on a character outside the vocabulary (naming
     * the character, its code point and its byte offset).
     */
    Tokens encode(std::string_view text) const;

    /**
     * @brief Token ids to text.
     * @param[in] ids (N) ids, each in [0, V); throws gptbook::Error naming the first that is not
     * @return the UTF-8 text
     */
    std::string decode(const Tokens& ids) const;

    /// The UTF-8 bytes of one id, for printing tokens as they are generated.
    std::string decode_one(int32_t id) const;

    /// V: the number of ids, characters and special tokens.
    int vocab_size() const { return static_cast<int>(chars_.size() + specials_.size()); }

    /// Whether `code_point` has an id (a base or an added character).
    bool contains(char32_t code_point) const;

    /// The id of `code_point`; throws gptbook::Error when it has none.
    int32_t id_of(char32_t code_point) const;

    /// (S + A) every character in id order, as code points: the sorted base, then the added ones.
    const std::u32string& chars() const { return chars_; }

    /// (A) the added characters, in id order (ids S..S+A-1).
    std::u32string added_chars() const { return chars_.substr(n_sorted_); }

    /// (P) the special tokens in id order (ids S+A..V-1).
    const std::vector<std::string>& special_tokens() const { return specials_; }

    /// The id of special token `text`, or nullopt when it is not one.
    std::optional<int32_t> special_id(std::string_view text) const;

    /// {"type": "char", "chars": "<the sorted base as one UTF-8 string>"}, plus "added": "<added
    /// characters in id order>" and "special": ["<|end|>", ...] when those are non-empty, so a
    /// tokenizer without them writes exactly the format of earlier versions.
    nlohmann::json to_json() const;

    /**
     * @brief Reads what to_json() wrote, validating the type field and the vocabulary.
     * @param[in] j    the JSON object
     * @param[in] what names the source in error messages
     */
    static CharTokenizer from_json(const nlohmann::json& j, const std::string& what = "tokenizer JSON");

    /// Writes to_json() to `path` atomically (temporary file, then rename).
    void save(const std::string& path) const;

    /// Reads a file written by save(); errors name the path.
    static CharTokenizer load(const std::string& path);

    /// Same vocabulary, in the same id order.
    bool operator==(const CharTokenizer& other) const {
        return chars_ == other.chars_ && n_sorted_ == other.n_sorted_ && specials_ == other.specials_;
    }

private:
    /// Checks the added characters and special tokens against the base (which from_text() sorts and
    /// from_chars() / from_json() check) and builds the look-up tables; errors name `what`.
    CharTokenizer(std::u32string sorted, std::u32string added, std::vector<std::string> specials,
                  const std::string& what);

    /// The id of a character, or -1: the ASCII table, else a binary search of by_code_point_.
    int32_t find_id(char32_t code_point) const;

    std::u32string chars_;              ///< (S + A) code points; the first S strictly increasing
    std::size_t n_sorted_ = 0;          ///< S: ids [0, S) are ranks in code-point order
    std::vector<std::string> specials_; ///< (P) special tokens; id = S + A + index
    int32_t ascii_ids_[128];            ///< id of each ASCII character or -1: the common case without a search
    /// (S + A) (code point, id) sorted by code point: the look-up for the rest. For a tokenizer
    /// without added characters id = index, as in `chars_`.
    std::vector<std::pair<char32_t, int32_t>> by_code_point_;
};

} // namespace gptbook
