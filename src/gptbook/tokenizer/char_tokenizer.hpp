/**
 * @file
 * @brief CharTokenizer: one token per Unicode character, the vocabulary of chapter 01.
 *
 * Shape legend: V vocabulary size (number of distinct characters), N number of tokens.
 *
 * The vocabulary is the sorted set of distinct code points of a training text, and a character's
 * id is its rank in that order. That is exactly nanoGPT's `chars = sorted(set(text))`, so on tiny
 * Shakespeare the ids match nanoGPT's (65 ids, '\n' = 0, ' ' = 1, '!' = 2, ...).
 */
#pragma once

#include "gptbook/core/tensor.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace gptbook {

/// Maps text to token ids and back, one id per Unicode code point. The invariant it protects:
/// the vocabulary is non-empty, sorted by code point and free of duplicates, so id = rank.
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
     * @brief Text to token ids.
     * @param[in] text UTF-8 text, every character of which is in the vocabulary
     * @return (N) ids in [0, V), one per code point
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

    /// V: the number of ids.
    int vocab_size() const { return static_cast<int>(chars_.size()); }

    /// Whether `code_point` has an id.
    bool contains(char32_t code_point) const;

    /// The id of `code_point`; throws gptbook::Error when it has none.
    int32_t id_of(char32_t code_point) const;

    /// The vocabulary in id order, as code points.
    const std::u32string& chars() const { return chars_; }

    /// {"type": "char", "chars": "<the vocabulary as one UTF-8 string>"}
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
    bool operator==(const CharTokenizer& other) const { return chars_ == other.chars_; }

private:
    explicit CharTokenizer(std::u32string chars);

    std::u32string chars_;   ///< (V) code points, strictly increasing; id = index
    int32_t ascii_ids_[128]; ///< id of each ASCII character or -1: the common case without a search
};

} // namespace gptbook
