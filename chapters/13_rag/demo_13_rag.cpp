// demo_13_rag: retrieval-augmented generation on a world small enough to follow. Three people and
// their fifteen facts as passages; BM25 ranks them for one question, every term of its score
// printed; InfoNCE on two question-passage pairs, its loss and gradient by hand; exact search of a
// few embeddings; the prompt a reader is given; and how its answers are judged. Chapter 13
// (chapters/13_rag/README.md) explains every line.
//
// Shapes: N passages, D embedding size, P pairs, k passages given to the reader.
//
//   demo_13_rag --smoke   # every part, in milliseconds; the test suite compares its output
//   demo_13_rag           # the same (the demo has no slow part)
#include "gptbook/data/chat.hpp"
#include "gptbook/rag/bm25.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/rag/reader.hpp"
#include "gptbook/rag/world.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

using namespace gptbook;

namespace {

// A printed 0 never shows as -0.0000.
double clean(double x) { return std::abs(x) < 5e-5 ? 0.0 : x; }

// ---- Part 1: a world of facts ----

std::vector<Passage> part1_world(const std::vector<Person>& people) {
    std::printf("== Part 1: a world of facts: 3 people x 5 attributes = 15 passages ==\n");
    const std::vector<Passage> passages = world_passages(people);
    for (size_t i = 0; i < passages.size(); ++i) std::printf("  [%2zu] %s\n", i, passages[i].text.c_str());
    std::printf("\n");
    return passages;
}

// ---- Part 2: BM25 by hand ----

void part2_bm25(const std::vector<Passage>& passages, const std::string& question) {
    std::printf("== Part 2: BM25 (13.1)-(13.3): \"%s\" ==\n", question.c_str());
    std::vector<std::string> texts;
    for (const Passage& p : passages) texts.push_back(p.text);
    const Bm25Index index(texts);
    const Bm25Params b;
    std::printf("  N = %zu passages, avgdl = %.4f words, k1 = %.1f, b = %.2f\n", index.size(), index.average_length(),
                b.k1, b.b);
    const std::vector<std::string> words = bm25_words(question);
    const std::set<std::string> distinct(words.begin(), words.end());
    std::printf("  the question's words:");
    for (const std::string& w : words) std::printf(" %s", w.c_str());
    std::printf("\n");
    for (const std::string& w : distinct)
        std::printf("    %-8s df = %2zu   idf = ln(1 + (%zu - %zu + 0.5) / (%zu + 0.5)) = %.4f\n", w.c_str(),
                    index.document_frequency(w), index.size(), index.document_frequency(w), index.document_frequency(w),
                    index.idf(w));
    const std::vector<SearchHit> hits = index.search(question, 5);
    std::printf("  the 5 best passages, each word's term idf * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl)):\n");
    for (const SearchHit& h : hits) {
        const std::vector<std::string> doc = bm25_words(texts[h.doc]);
        std::printf("  [%2zu] score %.4f, |d| = %zu:", h.doc, static_cast<double>(h.score), doc.size());
        for (const std::string& w : distinct) {
            const double term = index.score(w, h.doc);
            if (term > 0) std::printf(" %s %.4f", w.c_str(), term);
        }
        std::printf("\n");
    }
    std::printf("  the passage that answers is [%zu]; the words that found it are the name's: \"born\" is in\n"
                "  the question, not in \"comes from\" or \"grew up in\"\n\n",
                static_cast<size_t>(0));
}

// ---- Part 3: InfoNCE by hand ----

void part3_infonce() {
    std::printf("== Part 3: InfoNCE on P = 2 pairs, D = 2, tau = 0.5 (13.4)-(13.6) ==\n");
    // Columns: question 0, its passage, question 1, its passage. Question 0 points near its
    // passage; question 1 sits between the two passages.
    const Mat z = {{2.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f, 3.0f}};
    const double tau = 0.5;
    const char* names[4] = {"q0", "p0", "q1", "p1"};
    std::printf("  head outputs z and directions e = z / |z|:\n");
    for (arma::uword c = 0; c < 4; ++c) {
        const double n = arma::norm(z.col(c));
        std::printf("    %s  z = (%.1f, %.1f)  |z| = %.4f  e = (%.4f, %.4f)\n", names[c], z(0, c), z(1, c), n,
                    z(0, c) / n, z(1, c) / n);
    }
    const Mat e = arma::normalise(z);
    std::printf("  similarities s_ij = e_qi . e_pj / tau, softmax over each row:\n");
    for (arma::uword i = 0; i < 2; ++i) {
        const double s0 = arma::dot(e.col(2 * i), e.col(1)) / tau, s1 = arma::dot(e.col(2 * i), e.col(3)) / tau;
        const double p0 = std::exp(s0) / (std::exp(s0) + std::exp(s1));
        std::printf("    q%llu:  s = (%.4f, %.4f)  softmax = (%.4f, %.4f)  -log p(own) = %.4f\n",
                    static_cast<unsigned long long>(i), s0, s1, p0, 1 - p0, -std::log(i == 0 ? p0 : 1 - p0));
    }
    Mat dz;
    const InfoNceResult r = infonce_loss(z, tau, &dz);
    std::printf("  L = mean of the two = %.4f; questions whose own passage is nearest: %.0f%%\n", r.loss,
                100.0 * r.accuracy);
    std::printf("  dL/dz (13.5)-(13.6), each orthogonal to its z:\n");
    for (arma::uword c = 0; c < 4; ++c)
        std::printf("    %s  (%+.4f, %+.4f)   z . dL/dz = %.4f\n", names[c], clean(dz(0, c)), clean(dz(1, c)),
                    clean(arma::dot(z.col(c), dz.col(c))));
    Mat zp = z, zm = z;
    zp(1, 2) += 1e-3f;
    zm(1, 2) -= 1e-3f;
    const double numeric = (infonce_loss(zp, tau).loss - infonce_loss(zm, tau).loss) / (zp(1, 2) - zm(1, 2));
    std::printf("  central difference in z[q1][1]: %.4f (analytic %.4f)\n\n", numeric, dz(1, 2));
}

// ---- Part 4: exact search by inner product ----

void part4_search() {
    std::printf("== Part 4: dense retrieval is a nearest-neighbour search by inner product ==\n");
    // Five unit passage embeddings (D = 2) at angles 0, 40, 80, 120 and 160 degrees; a question at 70.
    Mat p(2, 5);
    for (arma::uword j = 0; j < 5; ++j) {
        const double a = (40.0 * j) * M_PI / 180.0;
        p(0, j) = static_cast<float>(std::cos(a));
        p(1, j) = static_cast<float>(std::sin(a));
    }
    const Vec q = {static_cast<float>(std::cos(70.0 * M_PI / 180.0)),
                   static_cast<float>(std::sin(70.0 * M_PI / 180.0))};
    const arma::fvec scores = p.t() * q;
    const arma::uvec order = arma::sort_index(scores, "descend");
    std::printf("  question at 70 degrees; passages at 0, 40, 80, 120, 160 degrees\n");
    std::printf("  inner products (cosines):");
    for (arma::uword j = 0; j < 5; ++j) std::printf(" %.4f", clean(scores[j]));
    std::printf(
        "\n  top 3 by exact search: passages %llu, %llu, %llu (what IndexFlatIP returns; IVF looks only in the\n"
        "  lists whose centroids are nearest the question, and can miss one)\n\n",
        static_cast<unsigned long long>(order[0]), static_cast<unsigned long long>(order[1]),
        static_cast<unsigned long long>(order[2]));
}

// ---- Part 5: the reader's prompt, and how its answers are judged ----

void part5_reader(const std::vector<Passage>& passages, const std::vector<Person>& people,
                  const std::string& question) {
    std::printf("== Part 5: what the reader is given, and how its answer is judged ==\n");
    std::vector<std::string> texts;
    for (const Passage& p : passages) texts.push_back(p.text);
    const Bm25Index index(texts);
    std::vector<std::string> top;
    for (const SearchHit& h : index.search(question, 3)) top.push_back(texts[h.doc]);
    const ChatTemplate chat;
    std::printf("  k = 3 passages from BM25, then the question, in chapter 11's template:\n");
    std::printf("  %s", chat.user.c_str());
    const std::string prompt = reader_prompt(top, question);
    for (const char c : prompt) c == '\n' ? std::printf("\\n\n  ") : std::printf("%c", c);
    std::printf("%s\n", chat.assistant.c_str());
    const std::string value = attribute_values(0)[static_cast<size_t>(people[0].values[0])];
    std::printf("  the reader answers with the value; the judge looks for \"%s\" as a word in the first line:\n",
                value.c_str());
    const char* kinds[3] = {"correct", "abstained", "hallucinated"};
    const std::vector<std::string> answers = {value, passages[0].text, unknown_answer, "Lima"};
    for (const std::string& a : answers)
        std::printf("  answer \"%s\" -> %s\n", a.c_str(), kinds[static_cast<int>(judge_answer(a, value))]);
    std::printf("  (\"Lima\" is a city, fluent and confident, and wrong: a hallucination)\n");
}

} // namespace

int main(int argc, char** argv) {
    (void)argc;
    (void)argv; // --smoke and a full run print the same
    const std::vector<Person> people = make_world(WorldSplit::test, 3);
    const std::vector<Passage> passages = part1_world(people);
    const std::string question = world_question(people[0], 0, 0).text; // "Where was ... born?"
    part2_bm25(passages, question);
    part3_infonce();
    part4_search();
    part5_reader(passages, people, question);
    return 0;
}
