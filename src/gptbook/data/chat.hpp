/**
 * @file
 * @brief The chat template of instruction tuning (chapter 11): prompt and response as one token
 *        sequence, with the loss on the response only.
 *
 * Shape legend: B batch (examples), T time (tokens per row), P prompt tokens (template tokens
 * included), R response tokens, N = P + R + 1 tokens of a whole example.
 *
 * A conversation turn is written with three special tokens, one id each:
 *
 *     <|user|> prompt <|assistant|> response <|end|>
 *
 * At inference the model is given everything up to and including <|assistant|> and writes the
 * response and <|end|>, where generation stops. In training the prompt is context only: its
 * targets are Batch::ignore, so the loss (and the gradient) covers the response and the end token,
 * the tokens the model must learn to write (InstructGPT's SFT; Alpaca does the same).
 *
 * The prompt and the response are encoded with Tokenizer::encode_ordinary(): text that spells
 * "<|end|>" is characters, never the end token, so a user cannot end or fake a turn.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// The texts of the template's special tokens.
struct ChatTemplate {
    std::string user = "<|user|>";           ///< starts the user's prompt
    std::string assistant = "<|assistant|>"; ///< starts the model's response
    std::string end = "<|end|>";             ///< ends the response; generation stops here
};

/// {user, assistant, end}: the special tokens a tokenizer needs for this template, in the order
/// Tokenizer::with_added_tokens() should add them.
std::vector<std::string> chat_special_tokens(const ChatTemplate& chat);

/// Whether the tokenizer has every token of the template: a model fine-tuned for chat.
bool holds_chat_template(const Tokenizer& tokenizer, const ChatTemplate& chat);

/**
 * @brief Checks that the tokenizer has every token of the template.
 * @param[in] tokenizer the run's tokenizer
 * @param[in] chat      the template
 * @param[in] what      the run, for the message (e.g. "runs/x")
 *
 * Throws gptbook::Error for the first missing token: `runs/x: the tokenizer has no "<|user|>"
 * token, so it cannot hold a chat; fine-tune the run for chat with `gptbook finetune --base runs/x
 * --chat ...`, which adds the template's tokens`.
 */
void check_chat_tokens(const Tokenizer& tokenizer, const ChatTemplate& chat, const std::string& what);

/**
 * @brief The ids the model is given to answer `prompt`.
 * @param[in] tokenizer has the template's special tokens (else gptbook::Error, see check_chat_tokens())
 * @param[in] chat      the template
 * @param[in] prompt    the user's text; encoded with encode_ordinary()
 * @return (P) <|user|> + encode(prompt) + <|assistant|>
 */
Tokens chat_prompt_ids(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt);

/// One training example: the next-token pairs of a whole turn, prompt targets ignored.
struct ChatExample {
    Tokens inputs;  ///< (N-1) seq[:-1]
    Tokens targets; ///< (N-1) seq[1:], with Batch::ignore where the target is a prompt token
};

/**
 * @brief A completion after its prompt as one example, the prompt's targets ignored: the row
 *        layout of chat_example_ids() without the template, also used for the preference pairs of
 *        chapter 12 (a prompt and two continuations).
 * @param[in] prompt     (P) ids, P >= 1: context only
 * @param[in] completion (R) ids, R >= 1: the tokens scored
 * @return with seq = prompt + completion (N = P + R): inputs = seq[:-1], targets = seq[1:], and
 *         targets[t] = Batch::ignore for t < P - 1, so that exactly the R completion tokens are scored
 */
ChatExample completion_example(const Tokens& prompt, const Tokens& completion);

/**
 * @brief A prompt and its response as one training example.
 * @param[in] tokenizer has the template's special tokens
 * @param[in] chat      the template
 * @param[in] prompt    the user's text
 * @param[in] response  the answer the model should write (may be empty: then it learns to end at once)
 * @return with seq = chat_prompt_ids(prompt) + encode(response) + <|end|>, of N = P + R + 1 ids:
 *         inputs = seq[:-1], targets = seq[1:], and targets[t] = Batch::ignore for t < P - 1
 *
 * Target t is the token after input t, so target t is a prompt token exactly when t + 1 < P.
 * Worked example: CharTokenizer::from_text("hiko") (h=0, i=1, k=2, o=3) with the template's
 * tokens added (<|user|>=4, <|assistant|>=5, <|end|>=6), prompt "hi", response "ok":
 *
 *     seq     = [4, 0, 1, 5, 3, 2, 6]        P = 4, N = 7
 *     inputs  = [4, 0, 1, 5, 3, 2]
 *     targets = [-1, -1, -1, 3, 2, 6]        after <|user|>, 'h', 'i': prompt tokens, ignored;
 *                                            after <|assistant|>: 'o', then 'k', then <|end|>
 *
 * so the loss sees R + 1 = 3 targets: the response and the end token.
 */
ChatExample chat_example_ids(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt,
                             std::string_view response);

/**
 * @brief Examples as a batch, one per row, right-padded to T.
 * @param[in] examples all examples
 * @param[in] rows     (B) the index into `examples` of each row
 * @param[in] T        tokens per row (the block size); every chosen example must have at most T inputs
 * @param[in] pad_id   the input id of padding positions (any id of the vocabulary; the end token is
 *                     a natural choice)
 * @return inputs and targets (B*T); positions past an example's end hold pad_id as input and
 *         Batch::ignore as target; lengths (B) the inputs of each example. Language modelling
 *         needs no mask for the padding: it comes after the real tokens and attention is causal,
 *         so no real position ever sees a pad, and its ignored targets add nothing to the loss;
 *         each row is as if it had been cut to its length.
 *
 * Throws gptbook::Error when rows is empty, T or pad_id is out of range, an index is out of
 * range, or an example has more than T inputs (naming it and T: raise --block-size or shorten it).
 */
Batch chat_batch(const std::vector<ChatExample>& examples, const std::vector<std::size_t>& rows, int T, int32_t pad_id);

} // namespace gptbook
