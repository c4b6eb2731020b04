/**
 * @file
 * @brief A world of facts generated in code (chapter 13): people with five attributes, each fact
 *        written as a one-sentence passage, and questions about them; a training world and a
 *        disjoint test world.
 *
 * Shape legend: P people, A = 5 attributes, k passages given to the reader.
 *
 * Every person has a two-word name made of syllables ("Kalo Benivar") and one value for each
 * attribute:
 *
 * | attribute  | values | a passage (one of 3 templates)   | a question (one of 4 phrasings)      |
 * |------------|--------|----------------------------------|--------------------------------------|
 * | city       | 40     | "Kalo Benivar was born in Lima."  | "Where was Kalo Benivar born?"        |
 * | job        | 25     | "Kalo Benivar works as a baker."  | "What is the job of Kalo Benivar?"    |
 * | pet        | 20     | "Kalo Benivar has a pet goat."    | "What pet does Kalo Benivar have?"    |
 * | colour     | 16     | "Kalo Benivar loves anything red."| "Which colour does Kalo Benivar love?"|
 * | instrument | 16     | "Kalo Benivar plays the harp."    | "What does Kalo Benivar play?"        |
 *
 * Everything is a function of the name: the values and the template of each passage come from a
 * hash of it (core/rng's text_hash), so a world is the same on every machine, and a name is in the
 * test world exactly when its hash is 0 mod 5. The two worlds share no person, so a model that
 * answers about the test world cannot have seen its facts in training: it must read them, or say
 * that it does not know. Some templates and phrasings share no word with each other ("comes from"
 * against "Where was ... born?"): what a word-matching retriever (BM25) misses and a learned one
 * can find. Names have at most 12 characters and passages at most 40 or so, so that a character
 * model's context holds several passages and a question.
 */
#pragma once

#include "gptbook/core/rng.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// A: the number of attributes of every person.
inline constexpr int world_attributes = 5;

/// Which world: people trained on, or people only ever asked about.
enum class WorldSplit { train, test };

/// @return "train" or "test".
std::string to_string(WorldSplit s);
/// Parses "train" or "test"; throws gptbook::Error on anything else.
WorldSplit world_split_from_string(const std::string& s);

/// One person: a name and the index of its value of each attribute.
struct Person {
    std::string name;                         ///< two capitalised words, unique in both worlds together
    std::array<int, world_attributes> values; ///< values[a] indexes attribute_values(a)
};

/// One fact written as a sentence: what a retriever indexes and a reader reads.
struct Passage {
    std::string id;   ///< "NAME/ATTRIBUTE", e.g. "Kalo Benivar/city"; unique in a world
    std::string text; ///< the sentence, e.g. "Kalo Benivar was born in Lima."
};

/// A question about one fact, and the answer a reader should give.
struct WorldQuestion {
    std::string text;       ///< e.g. "Where was Kalo Benivar born?"
    std::string answer;     ///< the attribute's value, e.g. "Lima"
    std::string passage_id; ///< the passage that holds the answer
    int attribute = 0;      ///< in [0, A)
};

/// The attribute names, in a fixed order: city, job, pet, colour, instrument.
const std::array<std::string, world_attributes>& attribute_names();

/// The values an attribute takes (single words, no two attributes share one).
const std::vector<std::string>& attribute_values(int attribute);

/// The first `people` people of a world, in a fixed order. Throws gptbook::Error when people < 1
/// or more than the name generator can make (over 10^6).
std::vector<Person> make_world(WorldSplit split, int people);

/**
 * @brief The passage of one fact, in the template the world's hash picks (`templ` < 0) or in
 *        template `templ` of the attribute's three (training draws them all, to vary the wording).
 */
Passage world_passage(const Person& person, int attribute, int templ = -1);

/// Every passage of a world, person by person, attribute by attribute: (P * A) passages.
std::vector<Passage> world_passages(const std::vector<Person>& people);

/// The number of phrasings of a question about an attribute (4).
int question_phrasings(int attribute);

/// A question about `attribute` of `person` in phrasing `phrasing` (in [0, question_phrasings())).
WorldQuestion world_question(const Person& person, int attribute, int phrasing);

/**
 * @brief A fixed set of questions: the first `n` facts of `people` (person by person, attribute by
 *        attribute), each in the phrasing a hash of the fact picks.
 */
std::vector<WorldQuestion> world_questions(const std::vector<Person>& people, int n);

/// What a reader says when its passages do not hold the answer.
inline constexpr const char* unknown_answer = "I don't know.";

/**
 * @brief What a reader is asked: the question, then the passages, one per line.
 * @param[in] passages texts, most relevant first (none: a closed-book question)
 * @param[in] question the question's text
 * @return "QUESTION\nPASSAGE\nPASSAGE...", or the question alone
 *
 * The question comes first so that the model reads every passage already knowing what is asked:
 * a name in a passage that the question also holds is a repeat, which attention finds easily.
 */
std::string reader_prompt(const std::vector<std::string>& passages, const std::string& question);

/// A training example of the reader: its prompt and the answer to learn.
struct ReaderExample {
    std::string prompt;   ///< reader_prompt() of the passages and the question
    std::string response; ///< what the reader learns to write: the value, or unknown_answer
    std::string answer;   ///< what judge_answer() looks for: the value asked for, or unknown_answer
    std::string kind;     ///< "closed" (no passages), "open" (the answer is among them), "absent" (it is not)
};

/**
 * @brief A person drawn at random: a name from `split`'s part of the name space (never a name of
 *        the other world) and random values. What the reader reads about in training: the people
 *        of its examples are new every time, so it cannot learn their facts by heart and must read
 *        them.
 */
Person random_person(WorldSplit split, Rng& rng);

/**
 * @brief A random example of the reader.
 * @param[in]     known  the people whose facts a model may know (the training world, learned from
 *                       the closed-book examples; the test world, to measure what it says of strangers)
 * @param[in]     split  the name space of the open-book examples' people (random_person())
 * @param[in]     k      the most passages an open-book example holds, >= 1
 * @param[in,out] rng    draws the kind (closed 10%, open 70%, absent 20%), the fact, the phrasing,
 *                       the number of passages n (uniform in 1..k) and the passages
 * @param[in]     kind   "closed", "open" or "absent" to choose the kind (evaluation); empty to draw it
 *
 * A closed example asks about a person of `known`, with no passage, and its response is the
 * fact's value: what a model that learned the fact (in pretraining) would say. The others ask
 * about a random_person(): an open example holds the fact's passage among n - 1 distractors, in
 * random order, and its response is the value, copied from it; an absent one holds n distractors
 * and the response is unknown_answer. Distractors are what a
 * retriever returns for the question: other facts of the same person (a number drawn uniformly
 * from 0 to as many as fit, at most 4) and the same attribute of other random people.
 */
ReaderExample random_reader_example(const std::vector<Person>& known, WorldSplit split, int k, Rng& rng,
                                    std::string_view kind = {});

/// How one answer is judged against the expected one.
enum class AnswerKind {
    correct,     ///< it states the expected value
    abstained,   ///< unknown_answer when the expected answer was another
    hallucinated ///< a confident answer that is wrong: anything else
};

/**
 * @brief Judges an answer (its first line) against the expected value: correct when it is the
 *        value, or a sentence that holds the value as a word ("Lipe Femazo was born in Seoul." for
 *        "Seoul", not "Seoulton"); abstained when it is unknown_answer; hallucinated otherwise. No
 *        case folding. A sentence about someone else with the same value counts as correct: the
 *        values of the world are single words, each of one attribute only, so it is the value
 *        that is checked.
 */
AnswerKind judge_answer(const std::string& answer, const std::string& expected);

/// The characters of every passage, question and answer the world can make (letters, space, '.',
/// '?', '\'', '\n'): what a character tokenizer must hold.
std::string world_alphabet();

} // namespace gptbook
