// gptbook rag: retrieval-augmented generation (chapter 13): a world of facts, an index of passages
// (BM25 and dense), a reader that answers from them, and how often it is right or hallucinates.
#include "gptbook/cli/commands.hpp"
#include "gptbook/cli/finetune_run.hpp"
#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/sha256.hpp"
#include "gptbook/rag/reader.hpp"
#include "gptbook/sample/chat.hpp"
#include "gptbook/train/progress.hpp"
#include "gptbook/train/rag_data.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace gptbook::cli {

namespace {

namespace fs = std::filesystem;

// An embedding model loaded from its run, and what an index records of it.
struct LoadedEmbedder {
    Run run;
    EmbedderRef ref;
};

std::unique_ptr<LoadedEmbedder> load_embedder(const std::string& dir) {
    auto e = std::make_unique<LoadedEmbedder>(LoadedEmbedder{load_run(dir), {}});
    GPTBOOK_CHECK(e->run.model().config.embedder,
                  dir << " is not an embedding model (" << e->run.model().config.n_classes
                      << " classes, no embedder flag); train one with `" << program_name()
                      << " rag embedder --base runs/NAME --out " << dir << "`");
    e->ref = {dir, sha256_file_hex(e->run.model_path), &e->run.model(), &e->run.tokenizer};
    return e;
}

// The index and, when it holds embeddings, its embedding model (the one it names, or --embedder).
struct OpenIndex {
    RagIndex index;
    std::unique_ptr<LoadedEmbedder> embedder;
};

OpenIndex open_index(const std::string& dir, const std::string& embedder, bool need_dense) {
    OpenIndex o{load_index(dir), nullptr};
    if (!o.index.dense_info) {
        GPTBOOK_CHECK(embedder.empty(), dir << " holds no embeddings (it was built without --embedder), so --embedder "
                                            << embedder << " has nothing to search; rebuild it with --embedder");
        return o;
    }
    if (!need_dense && embedder.empty()) return o; // BM25 needs no model
    const std::string path = embedder.empty() ? o.index.dense_info->embedder : embedder;
    GPTBOOK_CHECK(!embedder.empty() || fs::exists(path),
                  dir << " was built with the embedding model " << path << ", which is not there (a path is read "
                      << "from the working directory); give the model with --embedder");
    o.embedder = load_embedder(path);
    o.index.attach_embedder(o.embedder->ref);
    return o;
}

void print_hits(const RagIndex& index, const std::vector<SearchHit>& hits) {
    for (size_t i = 0; i < hits.size(); ++i) {
        const Passage& p = index.passages[hits[i].doc];
        std::printf("  [%zu] %8.4f  %s  (%s)\n", i + 1, static_cast<double>(hits[i].score), p.text.c_str(),
                    p.id.c_str());
    }
}

// --- rag world -------------------------------------------------------------------------------

struct WorldArgs {
    std::string split = "test", out;
    int people = 200, questions = 500;
};

void run_world(const WorldArgs& a) {
    GPTBOOK_CHECK(!a.out.empty(), "rag world needs a directory to write: --out DIR");
    const std::vector<Person> people = make_world(world_split_from_string(a.split), a.people);
    const std::vector<Passage> passages = world_passages(people);
    const int n = std::min<int>(a.questions, static_cast<int>(passages.size()));
    const std::vector<EvalQuestion> questions = to_eval_questions(world_questions(people, n));
    fs::create_directories(a.out);
    save_passages_jsonl((fs::path(a.out) / "passages.jsonl").string(), passages);
    save_questions_jsonl((fs::path(a.out) / "questions.jsonl").string(), questions);
    std::printf("wrote %zu passages (%d people of the %s world, %d facts each) to %s/passages.jsonl and %zu questions "
                "about the first %d facts to %s/questions.jsonl\n",
                passages.size(), a.people, a.split.c_str(), world_attributes, a.out.c_str(), questions.size(), n,
                a.out.c_str());
    std::printf("e.g.  %s\n       %s -> %s\n", passages.front().text.c_str(), questions.front().question.c_str(),
                questions.front().answer.c_str());
}

// --- rag index -------------------------------------------------------------------------------

struct IndexArgs {
    std::string docs, out, embedder;
    DenseIndexOptions dense;
    int chunk_chars = 256, threads = 0;
};

void run_index(const IndexArgs& a) {
    set_num_threads(a.threads);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<Passage> passages = load_passages(a.docs, a.chunk_chars);
    std::unique_ptr<LoadedEmbedder> embedder;
    if (!a.embedder.empty()) embedder = load_embedder(a.embedder);
    std::printf("rag index: %zu passages from %s -> %s (bm25%s)\n", passages.size(), a.docs.c_str(), a.out.c_str(),
                embedder ? (", dense " + a.dense.kind + " with " + a.embedder).c_str() : "");
    std::fflush(stdout);
    build_index(a.out, passages, embedder ? &embedder->ref : nullptr, a.dense, [](const std::string& line) {
        std::printf("  %s\n", line.c_str());
        std::fflush(stdout);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("done in %s\n", format_duration(seconds).c_str());
}

// --- rag ask ---------------------------------------------------------------------------------

struct AskArgs {
    std::string run, index, embedder, retriever = "bm25", question;
    int k = 1, threads = 1;
};

void run_ask(const AskArgs& a) {
    set_num_threads(a.threads);
    const Run reader = load_run(a.run, /*merge_adapters=*/true);
    check_generates_text(reader, "answer questions");
    check_chat_tokens(reader.tokenizer, ChatTemplate{}, a.run);
    const bool none = a.retriever == "none";
    const OpenIndex o = open_index(a.index, a.embedder, a.retriever == "dense" || a.retriever == "hybrid");
    std::vector<SearchHit> hits;
    if (!none) hits = o.index.retriever(a.retriever).search(a.question, a.k);
    const ReaderInput in = reader_input(reader.model(), reader.tokenizer, o.index.passages, hits, a.question);
    std::printf("%s found %zu passage(s) in %s:\n", none ? "no retriever" : a.retriever.c_str(), hits.size(),
                a.index.c_str());
    print_hits(o.index, in.hits);
    if (in.dropped > 0) std::printf("  (%d more did not fit the reader's context)\n", in.dropped);
    std::printf("answer: ");
    std::fflush(stdout);
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng rng(0);
    chat_reply(reader.model(), reader.tokenizer, ChatTemplate{}, in.prompt, reader_answer_tokens, greedy, rng,
               [](const std::string& p) {
                   std::fwrite(p.data(), 1, p.size(), stdout);
                   std::fflush(stdout);
               });
    std::printf("\n");
}

// --- rag eval --------------------------------------------------------------------------------

struct EvalArgs {
    std::string run, index, embedder, questions;
    int n = 500, k = 1, threads = 1, nprobe = 0;
};

void run_eval(const EvalArgs& a) {
    set_num_threads(a.threads);
    OpenIndex o = open_index(a.index, a.embedder, true);
    GPTBOOK_CHECK(a.nprobe >= 0, "--nprobe " << a.nprobe << ": expected the number of lists to search, >= 1");
    if (a.nprobe > 0) {
        GPTBOOK_CHECK(o.index.dense && o.index.dense->options().kind == "ivf",
                      "--nprobe: " << a.index << " has no IVF index ("
                                   << (o.index.dense ? "its dense index is flat" : "no dense index")
                                   << "); --nprobe is for an index built with --kind ivf");
        o.index.dense->set_nprobe(a.nprobe);
    }
    std::vector<EvalQuestion> questions = load_questions_jsonl(a.questions);
    GPTBOOK_CHECK(a.n >= 1, "--questions-max " << a.n << ", expected >= 1");
    if (questions.size() > static_cast<size_t>(a.n)) questions.resize(static_cast<size_t>(a.n));
    std::vector<const Retriever*> retrievers = {o.index.bm25.get()};
    if (o.index.dense) retrievers.insert(retrievers.end(), {o.index.dense.get(), o.index.hybrid.get()});
    std::printf("rag eval: %zu questions of %s against %zu passages in %s, %d thread(s)\n", questions.size(),
                a.questions.c_str(), o.index.passages.size(), a.index.c_str(), num_threads());
    std::printf("\n| retriever | recall@1 | recall@5 | recall@20 | ms/query |\n|---|---|---|---|---|\n");
    std::fflush(stdout);
    for (const Retriever* r : retrievers) {
        const RecallRow row = evaluate_retrieval(*r, o.index, questions, {1, 5, 20});
        std::string name = row.retriever;
        if (r == o.index.dense.get() && o.index.dense->options().kind == "ivf")
            name += " (" + std::to_string(o.index.dense->options().nprobe) + " of " +
                    std::to_string(o.index.dense->options().nlist) + " lists)";
        std::printf("| %s | %.1f%% | %.1f%% | %.1f%% | %.2f |\n", name.c_str(), 100.0 * row.recall[0],
                    100.0 * row.recall[1], 100.0 * row.recall[2], row.ms_per_query);
        std::fflush(stdout);
    }
    if (a.run.empty()) return;
    const Run reader = load_run(a.run, /*merge_adapters=*/true);
    check_generates_text(reader, "answer questions");
    check_chat_tokens(reader.tokenizer, ChatTemplate{}, a.run);
    std::printf("\nreader %s, %d passage(s) from a retriever:\n\n| passages | exact match | \"%s\" | hallucinated | "
                "ms/question |\n|---|---|---|---|---|\n",
                a.run.c_str(), a.k, unknown_answer);
    std::fflush(stdout);
    std::vector<std::string> conditions = {"none"};
    for (const Retriever* r : retrievers) conditions.push_back(r->name() == "dense ivf" ? "dense" : r->name());
    conditions.push_back("oracle");
    std::string misses;
    for (const std::string& c : conditions) {
        const ReaderRow row = evaluate_reader(reader.model(), reader.tokenizer, o.index, questions, c, a.k);
        const char* label = c == "none"     ? "none (closed book)"
                            : c == "oracle" ? "oracle (the answer's passage)"
                                            : c.c_str();
        std::printf("| %s | %.1f%% | %.1f%% | %.1f%% | %.1f |\n", label, 100.0 * row.rate(row.correct),
                    100.0 * row.rate(row.abstained), 100.0 * row.rate(row.hallucinated), row.ms_per_question);
        std::fflush(stdout);
        if (!row.first_hallucination.empty()) misses += "  " + c + ": " + row.first_hallucination + "\n";
        if (row.dropped > 0) misses += "  " + c + ": " + std::to_string(row.dropped) + " passages did not fit\n";
    }
    if (!misses.empty()) std::printf("\nfirst hallucination of each:\n%s", misses.c_str());
}

// --- rag reader / rag embedder ---------------------------------------------------------------

void add_reader(CLI::App* rag) {
    auto args = std::make_shared<FinetuneArgs>();
    auto passages = std::make_shared<int>(reader_default_passages);
    CLI::App* cmd = rag->add_subcommand(
        "reader", "Fine-tune a run into a reader: it answers a question from the passages after it, and says \"I "
                  "don't know.\" when they do not hold the answer (the training world, in the chat template)");
    cmd->add_option("--passages", *passages,
                    "The most passages an example holds, K (default 3); the context grows to hold them unless "
                    "--block-size says otherwise");
    add_finetune_run_options(cmd, *args);
    cmd->callback([args, passages] {
        args->chat = "world:" + std::to_string(*passages);
        args->fit_context = !args->overrides.given("--block-size");
        run_finetune(*args);
    });
}

void add_embedder(CLI::App* rag) {
    auto args = std::make_shared<FinetuneArgs>();
    FinetuneArgs& a = *args;
    CLI::App* cmd = rag->add_subcommand(
        "embedder", "Fine-tune a run into an embedding model for dense retrieval: mean-pooled hidden states, a head "
                    "to D numbers, InfoNCE on question-passage pairs of the training world");
    cmd->add_option("--dim", a.embed_dim, "D, the embedding's size (default 64)");
    cmd->add_option("--tau", a.infonce_tau, "InfoNCE's temperature (default 0.05)");
    add_finetune_run_options(cmd, a);
    cmd->callback([args] {
        args->retrieval = "world";
        args->pool = "mean";
        run_finetune(*args);
    });
}

} // namespace

void add_rag_command(CLI::App& app) {
    CLI::App* rag = app.add_subcommand(
        "rag",
        "Retrieval-augmented generation (chapter 13): a world of facts, an index, a reader, hallucination measured");
    rag->require_subcommand(1);

    auto w = std::make_shared<WorldArgs>();
    CLI::App* world = rag->add_subcommand("world", "Write a world of facts: passages.jsonl and questions.jsonl");
    world->add_option("--split", w->split,
                      "train (the people the reader learns from) or test (default: people it "
                      "never saw)");
    world->add_option("--people", w->people, "People in the world, 5 facts each (default 200)");
    world->add_option("--questions", w->questions, "Questions about the first facts (default 500)");
    world->add_option("--out", w->out, "Directory to write")->required();
    world->callback([w] { run_world(*w); });

    auto x = std::make_shared<IndexArgs>();
    CLI::App* index = rag->add_subcommand("index", "Index passages: BM25 always, dense (FAISS) with --embedder");
    index
        ->add_option("--docs", x->docs,
                     "A .jsonl file ({\"text\", \"id\"} per line), a text file (paragraphs), or "
                     "a directory of them")
        ->required();
    index->add_option("--out", x->out, "The index directory to create")->required();
    index->add_option("--embedder", x->embedder, "An embedding model's run (`rag embedder`): adds dense retrieval");
    index->add_option("--kind", x->dense.kind, "The dense index: flat (exact, default) or ivf (inverted lists)");
    index->add_option("--nlist", x->dense.nlist, "ivf: lists, k-means clusters (default 4 sqrt(N))");
    index->add_option("--nprobe", x->dense.nprobe, "ivf: lists searched per query (default 8)");
    index->add_option("--chunk-chars", x->chunk_chars,
                      "Cut longer paragraphs into pieces of this many characters "
                      "(default 256)");
    index->add_option("--threads", x->threads, "CPU threads (0: all cores)");
    index->callback([x] { run_index(*x); });

    auto q = std::make_shared<AskArgs>();
    CLI::App* ask = rag->add_subcommand("ask", "Answer a question: the passages retrieved, with their scores, then the "
                                               "reader's answer");
    ask->add_option("--run", q->run, "The reader's run (`rag reader`)")->required();
    ask->add_option("--index", q->index, "The index directory (`rag index`)")->required();
    ask->add_option("--retriever", q->retriever, "bm25 (default), dense, hybrid, or none (closed book)");
    ask->add_option("-k", q->k,
                    "Passages given to the reader (default 1: chapter 13's reader is more often "
                    "right with the best passage alone than with three)");
    ask->add_option("--embedder", q->embedder, "The embedding model (default: the one the index was built with)");
    ask->add_option("--threads", q->threads, "CPU threads (default 1)");
    ask->add_option("question", q->question, "The question")->required();
    ask->callback([q] { run_ask(*q); });

    auto e = std::make_shared<EvalArgs>();
    CLI::App* eval = rag->add_subcommand(
        "eval", "Recall@1/5/20 of each retriever; with --run, the reader's exact match, \"I don't know\" and "
                "hallucination rates with no retrieval, each retriever and the oracle passage");
    eval->add_option("--index", e->index, "The index directory (`rag index`)")->required();
    eval->add_option("--questions", e->questions,
                     "Questions, JSON Lines {\"question\", \"answer\", \"passage\"} "
                     "(`rag world` writes them)")
        ->required();
    eval->add_option("--run", e->run, "The reader's run (`rag reader`); without it, retrieval only");
    eval->add_option("--questions-max", e->n, "Ask at most this many (default 500)");
    eval->add_option("-k", e->k, "Passages given to the reader (default 1)");
    eval->add_option("--embedder", e->embedder, "The embedding model (default: the one the index was built with)");
    eval->add_option("--nprobe", e->nprobe, "ivf: lists searched per query (default: the index's)");
    eval->add_option("--threads", e->threads, "CPU threads (default 1)");
    eval->callback([e] { run_eval(*e); });

    add_reader(rag);
    add_embedder(rag);
}

} // namespace gptbook::cli
