/**
 * @file
 * @brief Answering in the chat template (chapter 11): generation that stops at the end token, and
 *        the exact-match accuracy of an instruction-tuned model.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/data/instructions.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/sample/sampler.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/**
 * @brief The model's answer to one prompt: chat_prompt_ids(), then tokens until the end token
 * (not included in the answer) or `max_new_tokens`.
 * @param[in]     model, tokenizer a model fine-tuned in the template; the tokenizer has its tokens
 *                (check_chat_tokens() throws otherwise)
 * @param[in]     chat    the template the model was fine-tuned in
 * @param[in]     prompt  the user's words
 * @param[in]     max_new_tokens the most tokens the answer may have
 * @param[in]     options temperature 0 for the greedy answer (what the accuracy measures)
 * @param[in,out] rng     one draw per token unless greedy
 * @param[in]     on_text called with each piece of the answer as it is generated (may be empty)
 */
std::string chat_reply(const GPT& model, const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt,
                       int max_new_tokens, const SamplingOptions& options, Rng& rng,
                       const std::function<void(const std::string&)>& on_text = {});

/// How many instructions of one family a model answers exactly right.
struct FamilyAccuracy {
    std::string family; ///< Instruction::family: "reverse", ..., or "alpaca"
    int correct = 0;    ///< answered exactly right
    int total = 0;      ///< asked
};

/// How many instructions a model answers exactly right.
struct ChatAccuracy {
    int correct = 0;                       ///< answered exactly right (instruction_correct())
    int total = 0;                         ///< asked
    std::string first_wrong;               ///< "Reverse the word hello. -> olelh (expected olleh)", empty if none
    std::vector<FamilyAccuracy> by_family; ///< the same counts per family, in the order first asked
    /// @return correct / total, or 0 when none was asked
    double accuracy() const { return total == 0 ? 0.0 : static_cast<double>(correct) / total; }
};

/// Asks every instruction (greedy, at most the response's length + 8 tokens) and scores each
/// answer with instruction_correct().
ChatAccuracy chat_accuracy(const GPT& model, const Tokenizer& tokenizer, const ChatTemplate& chat,
                           const std::vector<Instruction>& instructions);

} // namespace gptbook
