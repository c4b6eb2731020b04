/**
 * @file
 * @brief Preference pairs (chapter 12): a prompt and two completions, the one a judge preferred
 *        and the one it did not, in the JSON Lines format that preference data sets share.
 *
 * Shape legend: P pairs, T time (tokens per row).
 *
 * On disk, one object per line: {"prompt": "ROMEO:\n", "chosen": "...", "rejected": "..."} (the
 * field names of Anthropic's HH-RLHF and of the DPO literature; other fields are ignored). A reward
 * model learns to score `chosen` above `rejected`; DPO raises the policy's probability of `chosen`
 * relative to `rejected`. In a batch, pair i is two rows: 2i the chosen completion after the
 * prompt, 2i+1 the rejected one, each with the prompt's targets ignored (completion_example()), so
 * that the loss and the log-probabilities cover the completions only.
 */
#pragma once

#include "gptbook/data/chat.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <string>
#include <vector>

namespace gptbook {

/// One judgement: the same prompt, two completions, the preferred one first.
struct PreferencePair {
    std::string prompt;   ///< the context both completions follow (may be empty)
    std::string chosen;   ///< the completion the judge preferred, not empty
    std::string rejected; ///< the other one, not empty
};

/**
 * @brief Reads a JSON Lines file of {"prompt", "chosen", "rejected"} objects.
 * @return the pairs, in file order
 *
 * Throws gptbook::Error, naming the file and the line, when the file is missing or holds no
 * pair, a line is not a JSON object, a field is missing or not a string, or a completion is
 * empty (an empty completion has no token to score: the pair says nothing).
 */
std::vector<PreferencePair> load_preferences_jsonl(const std::string& path);

/// Writes pairs as JSON Lines (one object per line, UTF-8), atomically: what
/// load_preferences_jsonl() reads back.
void save_preferences_jsonl(const std::string& path, const std::vector<PreferencePair>& pairs);

/**
 * @brief A pair as two rows of the same layout: the prompt, then each completion.
 * @param[in] tokenizer encodes the texts (encode_ordinary(): text is never a special token). When it
 *                      holds the chat template's tokens (a model fine-tuned for chat, chapter 11),
 *                      the rows are turns: chat_prompt_ids(prompt), then each completion followed
 *                      by the end token, which is scored with it
 * @param[in] pair      the prompt (its ids are `bos` when it is empty) and the completions
 * @param[in] bos       the first input when the prompt is empty and there is no template (a row
 *                      needs one input before its first scored token)
 * @return {chosen, rejected}, each completion_example(prompt ids, completion ids)
 */
std::pair<ChatExample, ChatExample> preference_examples(const Tokenizer& tokenizer, const PreferencePair& pair,
                                                        int32_t bos = 0);

} // namespace gptbook
