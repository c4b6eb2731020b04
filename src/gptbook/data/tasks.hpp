/**
 * @file
 * @brief Synthetic tasks generated in code (sort, reverse, copy, add): data that needs no download.
 *
 * Shape legend: B batch (examples), T = example_length - 1 (tokens per row).
 *
 * Each example is one fixed-length line of text: a prompt ending in a separator, the answer, and
 * a newline, e.g. sort "120201>001122\n" or add "12+34=640\n". Because examples are text, a
 * CharTokenizer built from the task's alphabet serves them and a trained model answers through
 * the ordinary sampling path (`gptbook sample --prompt "120201>"`). Tasks follow minGPT's demos:
 *
 * - sort:    6 digits from {0,1,2}, then '>', then the same digits sorted ("120201>001122").
 *            3^6 = 729 distinct examples; minGPT's "gpt-nano" learns this size to ~100%.
 * - reverse: the same prompts, answer reversed ("120201>102021").
 * - copy:    the same prompts, answer copied ("120201>120201").
 * - add:     two 2-digit zero-padded numbers, answer = the 3-digit zero-padded sum written
 *            backwards ("12+34=" answers "640", i.e. 046 reversed). Reversed because the model
 *            writes left to right: least significant digit first means each digit depends only
 *            on two input digits and the carry out of the digit it just wrote, which is how
 *            people add on paper; most significant first needs the whole sum before its first
 *            digit. 100 * 100 = 10000 distinct examples.
 *
 * Held-out split: an example belongs to the test split when a hash of its text is 0 mod 5 (about
 * 20% of examples), otherwise to train. The split is a property of the text, not of a random
 * draw, so no seed, batch size or resume can ever put a test example into training, and test
 * accuracy measures whether the model learned the rule rather than memorised the examples.
 */
#pragma once

#include "gptbook/core/rng.hpp"
#include "gptbook/data/batch.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// A synthetic task: everything needed to generate, tokenize and score its examples.
struct Task {
    std::string name;          ///< "sort", "reverse", "copy" or "add"
    std::string description;   ///< one line with an example, for help texts
    std::string alphabet;      ///< every character examples use, sorted by code point ("\n012>")
    int prompt_length = 0;     ///< characters up to and including the separator ("120201>": 7)
    int answer_length = 0;     ///< answer characters, without the newline ("001122": 6)
    int example_length = 0;    ///< prompt + answer + '\n' ("120201>001122\n": 14)
    uint64_t num_examples = 0; ///< distinct examples (train and test together)
};

/// Which side of the held-out split an example is on.
enum class TaskSplit { train, test };

/// The names make_task() knows, in a fixed order.
std::vector<std::string> task_names();

/// The task called `name`; throws gptbook::Error listing the known names otherwise.
Task make_task(const std::string& name);

/// A CharTokenizer over the task's alphabet: the vocabulary a model for this task uses.
CharTokenizer task_tokenizer(const Task& task);

/// Example number `index` (in [0, num_examples)) as a full line, prompt + answer + '\n'.
std::string task_example_at(const Task& task, uint64_t index);

/**
 * @brief The correct answer to a prompt, without the newline.
 * @param[in] task   the task the prompt belongs to
 * @param[in] prompt exactly prompt_length characters in the task's format ("120201>", "12+34=");
 *                   throws gptbook::Error saying what the format is otherwise
 */
std::string task_answer(const Task& task, std::string_view prompt);

/**
 * @brief Whether a generated answer is exactly right.
 * @param[in] task   the task the prompt belongs to
 * @param[in] prompt as for task_answer()
 * @param[in] answer the text generated after the prompt; it is cut at its first '\n' (generation
 *                   may run on past the end of the line), the rest must equal task_answer()
 */
bool task_is_correct(const Task& task, std::string_view prompt, std::string_view answer);

/// The split an example (the whole line, or just its prompt) belongs to: test when a 64-bit hash
/// of the prompt is 0 mod 5. Hashing the prompt alone is the same as hashing the line, because
/// the prompt determines the rest of the line.
TaskSplit task_split_of(const Task& task, std::string_view example);

/**
 * @brief A uniformly random example from one split.
 * @param[in]     task  the task to draw from
 * @param[in,out] rng   draws example indices until one lands in `split` (about 1.25 draws for
 *                      train, 5 for test)
 * @param[in]     split train or test, as task_split_of() decides
 * @return a line of example_length characters, e.g. "120201>001122\n"
 */
std::string task_example(const Task& task, Rng& rng, TaskSplit split = TaskSplit::train);

/// Every example of one split, in index order: the whole test set, for exact-match evaluation.
std::vector<std::string> task_examples(const Task& task, TaskSplit split);

/**
 * @brief B random examples of one split as a training batch.
 * @param[in]     task      the task to draw from
 * @param[in]     tokenizer encodes the examples; task_tokenizer(task) or one loaded from a run
 * @param[in]     B         number of examples (rows of the batch)
 * @param[in,out] rng       as for task_example(), one example per row in row order
 * @param[in]     split     train or test, as task_split_of() decides
 * @return T = example_length - 1; row b holds example[:-1] as inputs and example[1:] as targets,
 *         with targets on prompt positions (t < prompt_length - 1) set to Batch::ignore so that
 *         only the answer and its newline are scored
 */
Batch task_batch(const Task& task, const CharTokenizer& tokenizer, int B, Rng& rng, TaskSplit split = TaskSplit::train);

/// The same as task_batch() for given example lines (each example_length characters).
Batch task_batch_of(const Task& task, const CharTokenizer& tokenizer, const std::vector<std::string>& examples);

} // namespace gptbook
