#include "gptbook/sample/task_eval.hpp"

#include "gptbook/sample/generate.hpp"

#include <algorithm>

namespace gptbook {

TaskAccuracy task_accuracy(const GPT& model, const Task& task, const CharTokenizer& tokenizer, int max_examples) {
    const std::vector<std::string> examples = task_examples(task, TaskSplit::test);
    const size_t n = std::min(examples.size(), static_cast<size_t>(std::max(0, max_examples)));
    TaskAccuracy result;
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng unused; // greedy decoding draws nothing
    for (size_t i = 0; i < n; ++i) {
        const std::string prompt = examples[i].substr(0, task.prompt_length);
        const Tokens answer_ids = generate(model, tokenizer.encode(prompt), task.answer_length, greedy, unused);
        const std::string answer = tokenizer.decode(answer_ids);
        ++result.total;
        if (task_is_correct(task, prompt, answer)) {
            ++result.correct;
        } else if (result.first_wrong.empty()) {
            result.first_wrong = prompt + answer + " (expected " + task_answer(task, prompt) + ")";
        }
    }
    return result;
}

} // namespace gptbook
