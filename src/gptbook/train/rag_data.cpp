// Shapes: B batch, P = B/2 pairs, T block size, D embedding size, k passages.
#include "gptbook/train/rag_data.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/data/labelled.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/rag/reader.hpp"
#include "gptbook/rag/world.hpp"
#include "gptbook/sample/chat.hpp"

#include <algorithm>
#include <memory>
#include <sstream>

namespace gptbook {

namespace {

// "world" or "world:K": K passages at most per reader example.
int reader_passages(const std::string& spec) {
    if (spec == "world") return reader_default_passages;
    int k = 0;
    std::istringstream in(spec.substr(spec.find(':') + 1));
    GPTBOOK_CHECK(spec.rfind("world:", 0) == 0 && (in >> k) && in.eof() && k >= 1 && k <= 32,
                  "--chat " << spec << ": expected world or world:K with K in 1..32, the most passages the reader is "
                            << "given");
    return k;
}

// The longest prompt a reader example can have: k passages and a question, each the longest in
// tokens that the world makes (the longest name, every template and phrasing, every value). What
// the context must hold.
int longest_reader_tokens(const Tokenizer& tok, const ChatTemplate& chat, int k) {
    const std::string name = "Baba Bababan"; // the longest the generator makes: 2 + 1 + 3 syllables and a final
    std::string passage, question;
    size_t passage_tokens = 0, question_tokens = 0;
    auto keep_longest = [&](const std::string& text, std::string& longest, size_t& tokens) {
        if (const size_t n = tok.encode_ordinary(text).size(); n > tokens) {
            tokens = n;
            longest = text;
        }
    };
    for (int a = 0; a < world_attributes; ++a) {
        Person p{name, {0, 0, 0, 0, 0}};
        for (size_t v = 0; v < attribute_values(a).size(); ++v) {
            p.values[static_cast<size_t>(a)] = static_cast<int>(v);
            for (int t = 0; t < 3; ++t) keep_longest(world_passage(p, a, t).text, passage, passage_tokens);
        }
        for (int q = 0; q < question_phrasings(a); ++q)
            keep_longest(world_question(p, a, q).text, question, question_tokens);
    }
    const std::vector<std::string> passages(static_cast<size_t>(k), passage);
    return static_cast<int>(
        chat_example_ids(tok, chat, reader_prompt(passages, question), unknown_answer).inputs.size());
}

} // namespace

bool is_reader_chat(const std::string& chat) { return chat == "world" || chat.starts_with("world:"); }

FinetuneData reader_data(const std::string& spec, GPTConfig& model, const Tokenizer& base, bool fit_context) {
    const int k = reader_passages(spec);
    const ChatTemplate chat;
    FinetuneData d;
    d.tokenizer = base.with_added_tokens(world_alphabet(), chat_special_tokens(chat));
    const Tokenizer& tok = *d.tokenizer;
    model.vocab_size = tok.vocab_size();
    const int need = longest_reader_tokens(tok, chat, k);
    if (fit_context && model.block_size < need) model.block_size = (need + 31) / 32 * 32;
    const int T = model.block_size;
    GPTBOOK_CHECK(need <= T, "--chat " << spec << ": a reader example of " << k << " passages and a question needs up "
                                       << "to " << need << " tokens, but the model's context is T=" << T
                                       << "; give --block-size " << need << " or more (the positions are extended "
                                       << "from the base's), or fewer passages (`rag reader --passages K`)");
    const int32_t pad = *tok.special_id(chat.end);
    auto train_world = std::make_shared<std::vector<Person>>(make_world(WorldSplit::train, training_world_people));
    auto test_world = std::make_shared<std::vector<Person>>(make_world(WorldSplit::test, 200));
    d.spec = "chat:" + spec;
    d.source.sample = [=](int split, int B, Rng& rng) {
        auto draw = [&] {
            const ReaderExample ex = split == 0 ? random_reader_example(*train_world, WorldSplit::train, k, rng)
                                                : random_reader_example(*test_world, WorldSplit::test, k, rng);
            return chat_example_ids(tok, chat, ex.prompt, ex.response);
        };
        // Training rows are packed: examples one after the other, as turns of one chat, until the
        // next would not fit. A row of one example is half padding; packed, a step reads about
        // twice the answers for the same work. A later example sees the earlier ones' passages,
        // about other people: more distractors, nothing that answers it. Validation rows hold one
        // example each, as the reader is asked.
        std::vector<ChatExample> rows(static_cast<size_t>(B));
        std::vector<size_t> order;
        for (int b = 0; b < B; ++b) {
            ChatExample& row = rows[static_cast<size_t>(b)];
            row = draw();
            while (split == 0) {
                const ChatExample next = draw();
                if (row.inputs.size() + 1 + next.inputs.size() > static_cast<size_t>(T)) break;
                row.inputs.push_back(row.targets.back()); // the end token, now an input
                row.targets.push_back(Batch::ignore);     // what follows it is the next prompt's first token
                row.inputs.insert(row.inputs.end(), next.inputs.begin(), next.inputs.end());
                row.targets.insert(row.targets.end(), next.targets.begin(), next.targets.end());
            }
            order.push_back(static_cast<size_t>(b));
        }
        return chat_batch(rows, order, T, pad);
    };
    std::ostringstream summary;
    summary << "a world of facts: " << training_world_people << " people x " << world_attributes << " facts; 1 to " << k
            << " passages and a question per example (10% closed book, 70% with the "
            << "answer, 20% without: \"" << unknown_answer << "\"); validation asks the test world's people; chat "
            << "template, loss on the answer only";
    d.summary = summary.str();
    d.report = [test_world, k, tok, chat](const GPT& m, const std::string& split) {
        const int n = split == "test" ? 100 : 30; // per kind
        std::ostringstream out;
        out << split << " reader on the test world:";
        SamplingOptions greedy;
        greedy.temperature = 0.0f;
        Rng unused(0);
        for (const char* kind : {"open", "absent", "closed"}) {
            Rng rng(2024); // the same questions at every evaluation
            int right = 0, abstained = 0, hallucinated = 0;
            for (int i = 0; i < n; ++i) {
                const ReaderExample ex = random_reader_example(*test_world, WorldSplit::test, k, rng, kind);
                const std::string answer = chat_reply(m, tok, chat, ex.prompt, reader_answer_tokens, greedy, unused);
                const AnswerKind j = judge_answer(answer, ex.answer);
                right += j == AnswerKind::correct;
                abstained += j == AnswerKind::abstained || (j == AnswerKind::correct && ex.answer == unknown_answer);
                hallucinated += j == AnswerKind::hallucinated;
            }
            out.setf(std::ios::fixed);
            out.precision(0);
            if (std::string(kind) == "open") out << " answer given: " << 100.0 * right / n << "% right;";
            if (std::string(kind) == "absent")
                out << " answer absent: " << 100.0 * abstained / n << "% \"I don't know\";";
            if (std::string(kind) == "closed")
                out << " no passage: " << 100.0 * right / n << "% right, " << 100.0 * hallucinated / n
                    << "% hallucinated";
        }
        out << " (" << n << " of each)\n";
        return out.str();
    };
    return d;
}

FinetuneData embedder_data(const std::string& spec, GPTConfig& model, const Tokenizer& base, int dim, double tau) {
    GPTBOOK_CHECK(spec == "world", "--pairs " << spec << ": expected world (question-passage pairs of chapter 13's "
                                              << "world of facts)");
    GPTBOOK_CHECK(dim >= 2, "--dim " << dim << ": an embedding needs at least 2 numbers (64 is the book's)");
    GPTBOOK_CHECK(tau > 0.0, "--tau " << tau << ": the temperature must be > 0 (0.05 is usual)");
    FinetuneData d;
    d.tokenizer = base.with_added_tokens(world_alphabet(), {});
    const Tokenizer& tok = *d.tokenizer;
    model.vocab_size = tok.vocab_size();
    model.n_classes = dim;
    model.pool = Pooling::mean;
    model.embedder = true;
    const int T = model.block_size;
    auto train_world = std::make_shared<std::vector<Person>>(make_world(WorldSplit::train, training_world_people));
    auto test_world = std::make_shared<std::vector<Person>>(make_world(WorldSplit::test, 100));
    d.spec = "pairs:" + spec;
    d.source.sample = [=](int split, int B, Rng& rng) {
        GPTBOOK_CHECK(B % 4 == 0, "embedding batches hold two facts of each person, two rows per fact: --batch-size "
                                      << B << " must be a multiple of 4");
        const std::vector<Person>& world = split == 0 ? *train_world : *test_world;
        LabelledTokens rows;
        rows.n_classes = dim;
        std::vector<size_t> order;
        for (int i = 0; i < B / 4; ++i) {
            const Person& p = world[rng.below(world.size())];
            const int a = static_cast<int>(rng.below(world_attributes));
            const int b = (a + 1 + static_cast<int>(rng.below(world_attributes - 1))) % world_attributes;
            for (const int attr : {a, b}) {
                const WorldQuestion q = world_question(p, attr, static_cast<int>(rng.below(4)));
                for (const std::string& text : {q.text, world_passage(p, attr, static_cast<int>(rng.below(3))).text}) {
                    Tokens ids = tok.encode(text);
                    if (ids.size() > static_cast<size_t>(T)) ids.resize(static_cast<size_t>(T));
                    order.push_back(rows.rows.size());
                    rows.rows.push_back(std::move(ids));
                    rows.labels.push_back(0);
                }
            }
        }
        Batch batch = labelled_batch(rows, order, T, 0);
        batch.labels.clear(); // no classes: the pairs are the supervision
        batch.infonce_tau = tau;
        return batch;
    };
    std::ostringstream summary;
    summary << "question-passage pairs of a world of facts (" << training_world_people << " people x "
            << world_attributes << " facts, templates and phrasings drawn), two facts per person per batch; InfoNCE "
            << "at tau " << tau << " with in-batch negatives; D " << dim << ", mean pooling";
    d.summary = summary.str();
    d.report = [test_world, tok](const GPT& m, const std::string& split) {
        std::vector<std::string> passages, questions;
        std::vector<WorldQuestion> asked = world_questions(*test_world, static_cast<int>(test_world->size()) * 5);
        for (const Passage& p : world_passages(*test_world)) passages.push_back(p.text);
        for (const WorldQuestion& q : asked) questions.push_back(q.text);
        const Mat P = embed_texts(m, tok, passages);
        const Mat Q = embed_texts(m, tok, questions);
        const Mat S = Q.t() * P; // (questions, passages): question i's passage is column i
        int at1 = 0, at5 = 0;
        for (arma::uword i = 0; i < S.n_rows; ++i) {
            const float own = S(i, i);
            const auto better = static_cast<int>(arma::accu(S.row(i) > own));
            at1 += better == 0;
            at5 += better < 5;
        }
        std::ostringstream out;
        out.setf(std::ios::fixed);
        out.precision(1);
        out << split << " retrieval on the test world (" << passages.size() << " passages): recall@1 "
            << 100.0 * at1 / S.n_rows << "%, recall@5 " << 100.0 * at5 / S.n_rows << "%\n";
        return out.str();
    };
    return d;
}

} // namespace gptbook
