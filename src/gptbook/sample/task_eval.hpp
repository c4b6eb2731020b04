/**
 * @file
 * @brief Exact-match accuracy of a model on a synthetic task's held-out examples (chapter 08).
 */
#pragma once

#include "gptbook/data/tasks.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <string>

namespace gptbook {

/// How many held-out examples the model answers exactly right.
struct TaskAccuracy {
    int correct = 0;         ///< examples answered exactly right
    int total = 0;           ///< examples tried
    std::string first_wrong; ///< "120201>001212 (expected 001122)", empty if all are right
    /// @return correct / total, or 0 when no example was tried
    double accuracy() const { return total == 0 ? 0.0 : static_cast<double>(correct) / total; }
};

/// Decodes the answer to up to `max_examples` test-split prompts greedily (KV cache) and
/// compares it with the task's answer character for character.
TaskAccuracy task_accuracy(const GPT& model, const Task& task, const CharTokenizer& tokenizer, int max_examples);

} // namespace gptbook
