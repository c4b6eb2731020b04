// Shapes: Q questions, k passages, T the reader's context.
#include "gptbook/rag/reader.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/jsonl.hpp"
#include "gptbook/sample/chat.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

// The index of the passage a question names: the answer's, as the questions file says.
size_t gold_passage(const RagIndex& index, const EvalQuestion& q) {
    const long gold = index.find(q.passage);
    GPTBOOK_CHECK(gold >= 0, "question \"" << q.question << "\" names the passage " << q.passage << ", which "
                                           << index.dir << " does not hold; were the questions written for "
                                           << "another set of passages?");
    return static_cast<size_t>(gold);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

ReaderInput reader_input(const GPT& reader, const Tokenizer& tokenizer, const std::vector<Passage>& passages,
                         const std::vector<SearchHit>& hits, const std::string& question, int answer_tokens) {
    const ChatTemplate chat;
    const int T = reader.config.block_size;
    auto length = [&](const std::string& prompt) {
        return static_cast<int>(chat_prompt_ids(tokenizer, chat, prompt).size()) + answer_tokens;
    };
    const int alone = length(question);
    GPTBOOK_CHECK(alone <= T, "the question is too long for the reader: with the chat template and "
                                  << answer_tokens << " tokens for the answer it needs " << alone
                                  << " tokens, but the reader's context is " << T << "; ask a shorter question");
    ReaderInput in;
    std::vector<std::string> kept;
    for (const SearchHit& h : hits) {
        GPTBOOK_CHECK(h.doc < passages.size(), "reader_input: passage " << h.doc << " of " << passages.size());
        kept.push_back(passages[h.doc].text);
        if (length(reader_prompt(kept, question)) > T) { // the best ones first: keep them, drop the rest
            kept.pop_back();
            in.dropped = static_cast<int>(hits.size() - in.hits.size());
            break;
        }
        in.hits.push_back(h);
    }
    in.prompt = reader_prompt(kept, question);
    return in;
}

std::vector<EvalQuestion> load_questions_jsonl(const std::string& path) {
    constexpr std::string_view expected =
        R"(one JSON object {"question": ..., "answer": ..., "passage": ...} per line)";
    std::vector<EvalQuestion> out;
    for_each_jsonl_object(path, expected, [&](const nlohmann::json& obj, const std::string& where) {
        out.push_back({jsonl_string_field(obj, "question", where, expected),
                       jsonl_string_field(obj, "answer", where, expected),
                       jsonl_string_field(obj, "passage", where, expected)});
    });
    return out;
}

void save_questions_jsonl(const std::string& path, const std::vector<EvalQuestion>& questions) {
    std::string s;
    for (const EvalQuestion& q : questions)
        s += nlohmann::json{{"question", q.question}, {"answer", q.answer}, {"passage", q.passage}}.dump() + "\n";
    write_file_atomic(path, s);
}

std::vector<EvalQuestion> to_eval_questions(const std::vector<WorldQuestion>& questions) {
    std::vector<EvalQuestion> out;
    for (const WorldQuestion& q : questions) out.push_back({q.text, q.answer, q.passage_id});
    return out;
}

RecallRow evaluate_retrieval(const Retriever& retriever, const RagIndex& index,
                             const std::vector<EvalQuestion>& questions, const std::vector<int>& ks) {
    GPTBOOK_CHECK(!ks.empty(), "evaluate_retrieval: no cut-offs k");
    RecallRow row;
    row.retriever = retriever.name();
    row.ks = ks;
    row.recall.assign(ks.size(), 0.0);
    const int deepest = *std::max_element(ks.begin(), ks.end());
    double seconds = 0.0;
    for (const EvalQuestion& q : questions) {
        const size_t gold = gold_passage(index, q);
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<SearchHit> hits = retriever.search(q.question, deepest);
        seconds += seconds_since(t0);
        for (size_t i = 0; i < ks.size(); ++i) {
            const size_t n = std::min(hits.size(), static_cast<size_t>(ks[i]));
            const bool found = std::any_of(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n),
                                           [&](const SearchHit& h) { return h.doc == gold; });
            row.recall[i] += found ? 1.0 : 0.0;
        }
        ++row.questions;
    }
    for (double& r : row.recall) r /= std::max(1, row.questions);
    row.ms_per_query = 1000.0 * seconds / std::max(1, row.questions);
    return row;
}

ReaderRow evaluate_reader(const GPT& reader, const Tokenizer& tokenizer, const RagIndex& index,
                          const std::vector<EvalQuestion>& questions, const std::string& condition, int k) {
    GPTBOOK_CHECK(k >= 1, "evaluate_reader: k = " << k << ", expected >= 1 passages");
    const Retriever* retriever = condition == "none" || condition == "oracle" ? nullptr : &index.retriever(condition);
    const ChatTemplate chat;
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng rng(0); // greedy draws nothing
    ReaderRow row;
    row.condition = condition;
    double seconds = 0.0;
    for (const EvalQuestion& q : questions) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<SearchHit> hits;
        if (condition == "oracle") {
            hits.push_back({gold_passage(index, q), 1.0f});
        } else if (retriever != nullptr) {
            hits = retriever->search(q.question, k);
        }
        const ReaderInput in = reader_input(reader, tokenizer, index.passages, hits, q.question);
        const std::string answer = chat_reply(reader, tokenizer, chat, in.prompt, reader_answer_tokens, greedy, rng);
        seconds += seconds_since(t0);
        row.dropped += in.dropped;
        ++row.questions;
        switch (judge_answer(answer, q.answer)) {
        case AnswerKind::correct: ++row.correct; break;
        case AnswerKind::abstained: ++row.abstained; break;
        case AnswerKind::hallucinated:
            ++row.hallucinated;
            if (row.first_hallucination.empty())
                row.first_hallucination = q.question + " -> " + answer + " (expected " + q.answer + ")";
            break;
        }
    }
    row.ms_per_question = 1000.0 * seconds / std::max(1, row.questions);
    return row;
}

} // namespace gptbook
