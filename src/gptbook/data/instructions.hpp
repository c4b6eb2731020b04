/**
 * @file
 * @brief Instruction data for supervised fine-tuning (chapter 11): small tasks asked in natural
 *        language, generated in code, and users' own data in the Alpaca format.
 *
 * Shape legend: F families, K phrasings of a family, N examples.
 *
 * A family is one small task with an exact answer, asked with K = 4 phrasings:
 *
 * | family  | input               | example prompt (phrasing 0)                          | response      |
 * |---------|---------------------|------------------------------------------------------|---------------|
 * | reverse | a word              | "Reverse the word hello."                            | "olleh"       |
 * | sort    | a word              | "Sort the letters of hello."                         | "ehllo"       |
 * | add     | two numbers 0..99   | "What is 12 + 34?"                                   | "46"          |
 * | upper   | two words           | "Write this in capital letters: red fox"             | "RED FOX"     |
 * | count   | a word and a letter | "How many times does the letter l appear in hello?"  | "2"           |
 * | first   | a word              | "What is the first letter of hello?"                 | "h"           |
 * | repeat  | a word              | "Repeat hello twice."                                | "hello hello" |
 *
 * Words come from a fixed list of 350 lowercase English words of 3 to 8 letters
 * (instruction_words()). Numbers are plain decimal, the sum too (not reversed as in tasks.hpp:
 * the point here is following instructions, not arithmetic).
 *
 * Two things are held out of training, so that evaluation can tell learning from memorising:
 *
 * - instances: an instance (family + its input, e.g. reverse "hello") is held out when a 64-bit
 *   hash of that text is 0 mod 5, about 1 in 5, as tasks.hpp splits its examples. The split is a
 *   property of the input, not of a seed, so no seed or resume can train on a test instance, and
 *   every phrasing of a held-out instance is held out with it;
 * - phrasings: the last phrasing of every family (index K-1) is never trained on.
 *
 * instruction_eval_set() gives the two evaluation sets over the same held-out instances: asked with
 * the training phrasings (does it generalise to new inputs?) and with the held-out phrasing (does
 * it understand a request it was never shown in that form?).
 */
#pragma once

#include "gptbook/core/rng.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// One instruction and the response to learn.
struct Instruction {
    std::string family;   ///< "reverse", ..., or "alpaca" for loaded data
    std::string prompt;   ///< the request, e.g. "Reverse the word hello."
    std::string response; ///< the exact answer, e.g. "olleh"
    int phrasing = 0;     ///< which phrasing of the family (0 for loaded data)
};

/// Which side of the held-out split an instance is on.
enum class InstructionSplit { train, test };

/// The two fixed evaluation sets (see the file comment).
enum class InstructionEval {
    held_out_instances, ///< held-out instances asked with the training phrasings (cycled)
    held_out_phrasing,  ///< the same instances asked with the held-out phrasing
};

/// The F family names, in a fixed order.
std::vector<std::string> instruction_families();

/// The built-in word list (350 lowercase English words, 3 to 8 letters, no repeats).
const std::vector<std::string>& instruction_words();

/// K: the number of phrasings of `family`; phrasing K-1 is the held-out one. Throws
/// gptbook::Error listing the families when `family` is not one.
int instruction_phrasing_count(const std::string& family);

/// The number of distinct instances of `family`: words for reverse/sort/first/repeat, words x 8
/// letters for count, 100 x 100 for add, words x words for upper.
uint64_t instruction_instance_count(const std::string& family);

/**
 * @brief One instruction, fully determined by its three arguments.
 * @param[in] family   one of instruction_families()
 * @param[in] instance in [0, instruction_instance_count(family))
 * @param[in] phrasing in [0, instruction_phrasing_count(family))
 *
 * Throws gptbook::Error naming the valid range for an argument out of range.
 */
Instruction make_instruction(const std::string& family, uint64_t instance, int phrasing);

/// The split of an instance: test when a hash of "family:input" is 0 mod 5.
InstructionSplit instruction_split_of(const std::string& family, uint64_t instance);

/**
 * @brief A random training instruction: a train instance asked with a training phrasing.
 * @param[in,out] rng draws the family (uniform), then instances of it until one is in the train
 *                    split (about 1.25 draws), then the phrasing (uniform over the K-1 trained ones)
 */
Instruction random_training_instruction(Rng& rng);

/**
 * @brief A fixed evaluation set: the same for every call, seed and machine.
 * @param[in] which       held-out instances with the training phrasings, or with the held-out one
 * @param[in] per_family  instances per family (fewer when a family has fewer held-out instances);
 *                        > 0
 * @return family by family, per_family held-out instances in a fixed shuffled order (shuffled so
 *         that add does not only ask about 0 + b); the same instances for both `which`
 */
std::vector<Instruction> instruction_eval_set(InstructionEval which, int per_family);

/// Every character that any generated prompt or response contains, sorted by code point: what a
/// character tokenizer must hold (Tokenizer::with_added_tokens() adds the missing ones).
std::string instruction_alphabet();

/**
 * @brief Whether a generated response is exactly right.
 * @param[in] instruction the instruction asked
 * @param[in] generated   the text the model wrote after the prompt. It is cut at the first
 *                        occurrence of `end` (the chat template's end token, when the sampler
 *                        decodes it as text) and, when the expected response is one line, at the
 *                        first '\n' (a model that forgot the end token may run on). What is left
 *                        must equal the response exactly: no trimming of spaces or case.
 * @param[in] end         the end token's text
 */
bool instruction_correct(const Instruction& instruction, std::string_view generated, std::string_view end = "<|end|>");

/**
 * @brief Reads users' own instructions in the Alpaca format.
 * @param[in] path a JSON array of objects {"instruction": str, "input": str (optional), "output": str}
 * @return (N) instructions with family "alpaca", phrasing 0, response = output, and prompt =
 *         instruction, followed by "\n\n" + input when input is non-empty (Alpaca's template puts
 *         the input in its own paragraph after the instruction)
 *
 * Throws gptbook::Error naming the file (and the item index) when it is not a JSON array, is
 * empty, or an item is not an object, lacks "instruction" or "output", has a field that is not
 * a string, or has an empty instruction.
 */
std::vector<Instruction> load_alpaca_json(const std::string& path);

} // namespace gptbook
