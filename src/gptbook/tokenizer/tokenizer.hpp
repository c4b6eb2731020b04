/**
 * @file
 * @brief Tokenizer: the tokenizer of a run, characters or BPE behind one interface; StreamingDecoder.
 *
 * Shape legend: V vocabulary size, N number of tokens.
 *
 * The trainer, the sampler, checkpoints and the command line do not care which tokenizer a run
 * uses, only that text becomes ids and ids become text. Tokenizer holds either a CharTokenizer or
 * a BpeTokenizer (a std::variant: two kinds, no virtual hierarchy) and saves as the JSON of the one
 * it holds, whose "type" field ("char" or "bpe") says which to load.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gptbook {

/// A character or a BPE tokenizer; see the file comment.
class Tokenizer {
public:
    /// Holds `t`; implicit, so a CharTokenizer can be passed where a Tokenizer is expected.
    Tokenizer(CharTokenizer t); // NOLINT(google-explicit-constructor): a CharTokenizer is a Tokenizer
    /// Holds `t`; implicit, as for CharTokenizer.
    Tokenizer(BpeTokenizer t); // NOLINT(google-explicit-constructor)

    /**
     * @brief Text to ids.
     * @param[in] text any text; BPE takes any bytes
     * @return (N) ids in [0, V)
     *
     * BPE uses SpecialTokens::allow: training corpora mark document boundaries with
     * "<|endoftext|>", and the model should see that as the one special id, as GPT-2 did; so the
     * text of any BPE special token, "<|end|>" included, becomes its id here (use
     * encode_ordinary() for text from users). A char tokenizer never gives a special id, and
     * throws on characters outside its vocabulary and on invalid UTF-8.
     */
    Tokens encode(std::string_view text) const;

    /**
     * @brief Text to ids, with special-token texts treated as ordinary text (tiktoken's
     *        encode_ordinary): for text that comes from a user, who must not be able to type a
     *        special token ("<|end|>") into a chat.
     * @param[in] text as for encode()
     * @return (N) ids in [0, V), none of them a special token's. A char tokenizer: the same as
     *         encode(), which never gives special ids. BPE: SpecialTokens::ordinary.
     */
    Tokens encode_ordinary(std::string_view text) const;

    /**
     * @brief The same tokenizer with more tokens, for fine-tuning: every existing id keeps its
     *        meaning, and the new ids are exactly V, V+1, ..., so the model's embedding grows by
     *        rows appended at the end.
     * @param[in] chars    characters the vocabulary must hold: for a char tokenizer those missing
     *                     get the next ids, in the order given (CharTokenizer::with_added()); BPE
     *                     ignores them, as every byte is a token already
     * @param[in] specials special tokens; each not already present gets the next id, in order
     */
    Tokenizer with_added_tokens(std::string_view chars, const std::vector<std::string>& specials) const;

    /// The id of special token `text`, or nullopt when the tokenizer has no such token.
    std::optional<int32_t> special_id(std::string_view text) const;

    /// Ids to text (a special token's id gives its text). BPE: invalid UTF-8 becomes U+FFFD.
    /// Throws gptbook::Error on an id out of range.
    std::string decode(const Tokens& ids) const;

    /// The bytes of one token (for a char tokenizer, one whole character).
    std::string token_bytes(int32_t id) const;

    /// V.
    int vocab_size() const;

    /// "char" or "bpe", as written in the JSON "type" field.
    std::string type() const;

    /// The JSON of the tokenizer held (CharTokenizer::to_json() or BpeTokenizer::to_json()).
    nlohmann::json to_json() const;

    /// Reads either kind, dispatching on "type"; errors name `what`.
    static Tokenizer from_json(const nlohmann::json& j, const std::string& what = "tokenizer JSON");

    /// Writes to_json() to `path` atomically.
    void save(const std::string& path) const;

    /// Reads a file written by save() (or by CharTokenizer::save() / BpeTokenizer::save()).
    static Tokenizer load(const std::string& path);

    /// The tokenizer held, or nullptr when it is the other kind.
    const CharTokenizer* as_char() const { return std::get_if<CharTokenizer>(&impl_); }
    const BpeTokenizer* as_bpe() const { return std::get_if<BpeTokenizer>(&impl_); } ///< likewise

private:
    std::variant<CharTokenizer, BpeTokenizer> impl_;
};

/**
 * @brief Streams decoded text token by token, for printing a sample as it is generated.
 *
 * A BPE token can end in the middle of a UTF-8 character (an emoji is 4 bytes, often 2 or 3
 * tokens). push() returns only whole characters and holds back the bytes of an unfinished one
 * until the token that completes it arrives; bytes that can never become a character are returned
 * as U+FFFD at once. The concatenation of every push() and the final flush() equals
 * Tokenizer::decode() of all the ids.
 */
class StreamingDecoder {
public:
    /// Keeps a reference: `tokenizer` must outlive the decoder.
    explicit StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

    /// The text that token `id` completes (possibly empty). Throws on an id out of range.
    std::string push(int32_t id);

    /// The bytes still held back, as U+FFFD (the text ended inside a character); then empties.
    std::string flush();

private:
    const Tokenizer& tokenizer_;
    std::string pending_; ///< the start of an unfinished character (at most 3 bytes)
};

} // namespace gptbook
