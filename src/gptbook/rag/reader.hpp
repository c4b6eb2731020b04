/**
 * @file
 * @brief The reader of retrieval-augmented generation (chapter 13): a chat model given passages
 *        and a question, and what it is measured by: exact match, abstentions and hallucinations,
 *        with no retrieval, each retriever, or the passage that holds the answer (the oracle).
 *
 * Shape legend: Q questions, k passages per question, T the reader's context.
 */
#pragma once

#include "gptbook/data/chat.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/rag/retriever.hpp"
#include "gptbook/rag/world.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gptbook {

/// The longest answer the reader writes, in tokens: a value of the world (at most 9 characters) or
/// "I don't know." (13) and the end token, with room to spare.
inline constexpr int reader_answer_tokens = 24;

/// What the reader is given for one question.
struct ReaderInput {
    std::string prompt;          ///< reader_prompt() of the passages kept and the question
    std::vector<SearchHit> hits; ///< the passages kept, best first
    int dropped = 0;             ///< passages left out because they did not fit the context
};

/**
 * @brief The reader's prompt: the question, then as many of the best passages as fit.
 * @param[in] reader, tokenizer the reader (a chat model: the template's tokens) and its tokenizer
 * @param[in] passages the store the hits index
 * @param[in] hits     retrieved passages, best first (empty: closed book)
 * @param[in] question the question
 * @param[in] answer_tokens tokens kept free for the answer and the end token
 *
 * Throws gptbook::Error when the question alone (with the template) leaves fewer than
 * answer_tokens of the context: the message gives both lengths.
 */
ReaderInput reader_input(const GPT& reader, const Tokenizer& tokenizer, const std::vector<Passage>& passages,
                         const std::vector<SearchHit>& hits, const std::string& question,
                         int answer_tokens = reader_answer_tokens);

/// A question from a file: what `gptbook rag world` writes and `gptbook rag eval` reads.
struct EvalQuestion {
    std::string question; ///< the text asked
    std::string answer;   ///< the expected answer, exactly
    std::string passage;  ///< the id of the passage that holds it
};

/// Reads questions.jsonl ({"question", "answer", "passage"} per line); errors name the line.
std::vector<EvalQuestion> load_questions_jsonl(const std::string& path);
/// Writes questions as JSON Lines, atomically.
void save_questions_jsonl(const std::string& path, const std::vector<EvalQuestion>& questions);
/// A world's questions in the file's form.
std::vector<EvalQuestion> to_eval_questions(const std::vector<WorldQuestion>& questions);

/// How well a retriever finds the passage that holds each answer.
struct RecallRow {
    std::string retriever;      ///< its name()
    int questions = 0;          ///< Q
    std::vector<int> ks;        ///< the cut-offs, e.g. {1, 5, 20}
    std::vector<double> recall; ///< per cut-off: the fraction of questions whose passage is in the top k
    double ms_per_query = 0.0;  ///< mean wall time of one search (embedding the question included)
};

/// Measures recall at k for each k of `ks` (one search of the largest k per question).
RecallRow evaluate_retrieval(const Retriever& retriever, const RagIndex& index,
                             const std::vector<EvalQuestion>& questions, const std::vector<int>& ks);

/// What the reader answered.
struct ReaderRow {
    std::string condition;           ///< "none", "oracle", or a retriever's name
    int questions = 0;               ///< Q
    int correct = 0;                 ///< exact match
    int abstained = 0;               ///< said unknown_answer
    int hallucinated = 0;            ///< a confident wrong answer
    int dropped = 0;                 ///< passages left out for lack of context, over all questions
    double ms_per_question = 0.0;    ///< retrieval and reading, mean wall time
    std::string first_hallucination; ///< "QUESTION -> ANSWER (expected X)", empty if none
    double rate(int n) const { return questions == 0 ? 0.0 : static_cast<double>(n) / questions; } ///< n / Q
};

/**
 * @brief Asks the reader every question (greedy) and judges each answer (judge_answer()).
 * @param[in] reader, tokenizer the reader
 * @param[in] index     the passages (and retrievers)
 * @param[in] questions what to ask
 * @param[in] condition "none" (closed book: the question alone), "oracle" (the passage that holds
 *                      the answer, alone), or a retriever of the index ("bm25", "dense", "hybrid")
 * @param[in] k         passages given from a retriever, >= 1
 */
ReaderRow evaluate_reader(const GPT& reader, const Tokenizer& tokenizer, const RagIndex& index,
                          const std::vector<EvalQuestion>& questions, const std::string& condition, int k);

} // namespace gptbook
