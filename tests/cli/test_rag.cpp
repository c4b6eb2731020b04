// `gptbook rag` as a user meets it (chapter 13): a world written to files, an embedding model and a
// reader fine-tuned from a run, an index built, a question asked, the evaluation table, and one
// clear line for each kind of bad input.
#include "gptbook/core/file.hpp"
#include "support/cli.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace gptbook::test;

TEST_CASE("rag world, embedder, reader, index, ask and eval", "[ch13][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const std::string world = s.file("world");
    const Result w = run(s, "rag world --split test --people 30 --questions 40 --out " + world);
    INFO(w.out << w.err);
    REQUIRE(w.code == 0);
    CHECK(count_lines(gptbook::read_file(world + "/passages.jsonl")) == 150);
    CHECK(count_lines(gptbook::read_file(world + "/questions.jsonl")) == 40);

    const std::string train = " --max-iters 4 --eval-interval 4 --eval-iters 1 --log-interval 10 --threads 1";
    const Result e = run(s, "rag embedder --base " + base + " --dim 8 --batch-size 8 --out " + s.file("emb") + train);
    INFO(e.out << e.err);
    REQUIRE(e.code == 0);
    CHECK_THAT(e.out, Catch::Contains("gptbook rag embedder") && Catch::Contains("embedder D8 (mean pooling)") &&
                          Catch::Contains("retrieval on the test world (500 passages): recall@1 ") &&
                          Catch::Contains("rag index --docs FILE|DIR --embedder " + s.file("emb")));
    const Result e_eval = run(s, "eval --run " + s.file("emb"));
    INFO(e_eval.err);
    CHECK(e_eval.code == 0);
    CHECK_THAT(e_eval.out, Catch::Contains("test retrieval on the test world"));

    // A context of 32 cannot hold two passages and a question: the error says what would.
    const Result short_ctx =
        run(s, "rag reader --base " + base + " --passages 2 --block-size 32 --out " + s.file("r0") + train);
    CHECK(short_ctx.code == 1);
    CHECK_THAT(short_ctx.err, Catch::Contains("the model's context is T=32") && Catch::Contains("give --block-size"));
    CHECK_FALSE(std::filesystem::exists(s.file("r0") + "/model.safetensors"));
    const Result r =
        run(s, "rag reader --base " + base + " --passages 2 --batch-size 4 --out " + s.file("reader") + train);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("gptbook rag reader") && Catch::Contains("T160") &&
                          Catch::Contains("test reader on the test world: answer given: ") &&
                          Catch::Contains("% hallucinated (100 of each)") &&
                          Catch::Contains("rag ask --run " + s.file("reader") + " --index INDEX"));

    const std::string index = s.file("index");
    const Result i = run(s, "rag index --docs " + world + "/passages.jsonl --embedder " + s.file("emb") +
                                " --threads 1 --out " + index);
    INFO(i.out << i.err);
    REQUIRE(i.code == 0);
    CHECK_THAT(i.out, Catch::Contains("150 passages") && Catch::Contains("dense flat"));
    const Result again = run(s, "rag index --docs " + world + "/passages.jsonl --out " + index);
    CHECK(again.code == 1);
    CHECK_THAT(again.err, Catch::Contains("already exists"));

    const Result ask =
        run(s, "rag ask --run " + s.file("reader") + " --index " + index + " -k 2 \"Where was Kalo Benivar born?\"");
    INFO(ask.out << ask.err);
    REQUIRE(ask.code == 0);
    CHECK_THAT(ask.out, Catch::Contains("bm25 found") && Catch::Contains("[1]") && Catch::Contains("answer: "));
    const Result dense = run(s, "rag ask --run " + s.file("reader") + " --index " + index +
                                    " --retriever dense -k 2 \"Where was Kalo Benivar born?\"");
    INFO(dense.err);
    CHECK(dense.code == 0);
    CHECK_THAT(dense.out, Catch::Contains("dense found 2 passage(s)"));

    const Result ev = run(s, "rag eval --run " + s.file("reader") + " --index " + index + " --questions " + world +
                                 "/questions.jsonl --questions-max 10 -k 2");
    INFO(ev.out << ev.err);
    REQUIRE(ev.code == 0);
    CHECK_THAT(ev.out, Catch::Contains("| bm25 | ") && Catch::Contains("| dense | ") &&
                           Catch::Contains("| hybrid | ") && Catch::Contains("| none (closed book) | ") &&
                           Catch::Contains("| oracle (the answer's passage) | "));

    // Bad input, one line each.
    std::filesystem::create_directories(s.file("empty"));
    const Result empty = run(s, "rag index --docs " + s.file("empty") + " --out " + s.file("i2"));
    CHECK(empty.code == 1);
    CHECK_THAT(empty.err, Catch::Contains("holds no passages") && Catch::Contains("empty document set"));
    CHECK(count_lines(empty.err) == 1);
    CHECK_FALSE(std::filesystem::exists(s.file("i2")));
    const Result longq =
        run(s, "rag ask --run " + s.file("reader") + " --index " + index + " \"" + std::string(200, 'a') + "?\"");
    CHECK(longq.code == 1);
    CHECK_THAT(longq.err,
               Catch::Contains("the question is too long for the reader") && Catch::Contains("context is 160"));
    CHECK(count_lines(longq.err) == 1);
    // An embedding model with other weights than the index was built with.
    const Result e2 =
        run(s, "rag embedder --base " + base + " --dim 8 --batch-size 8 --seed 7 --out " + s.file("emb2") + train);
    REQUIRE(e2.code == 0);
    const Result other = run(s, "rag ask --run " + s.file("reader") + " --index " + index + " --embedder " +
                                    s.file("emb2") + " --retriever dense \"Where was Kalo Benivar born?\"");
    CHECK(other.code == 1);
    CHECK_THAT(other.err, Catch::Contains("was built with the embedding model " + s.file("emb")) &&
                              Catch::Contains("rebuild the index"));
    CHECK(count_lines(other.err) == 1);
    const Result not_embedder =
        run(s, "rag index --docs " + world + "/passages.jsonl --embedder " + base + " --out " + s.file("i3"));
    CHECK(not_embedder.code == 1);
    CHECK_THAT(not_embedder.err, Catch::Contains("is not an embedding model"));
    const Result bm25_only = run(s, "rag index --docs " + world + "/passages.jsonl --out " + s.file("i4"));
    REQUIRE(bm25_only.code == 0);
    const Result no_dense = run(s, "rag ask --run " + s.file("reader") + " --index " + s.file("i4") +
                                       " --retriever dense \"Where was Kalo Benivar born?\"");
    CHECK(no_dense.code == 1);
    CHECK_THAT(no_dense.err, Catch::Contains("no embeddings"));
    const Result not_reader = run(s, "rag ask --run " + base + " --index " + index + " \"Who?\"");
    CHECK(not_reader.code == 1);
    CHECK_THAT(not_reader.err, Catch::Contains("cannot hold a chat"));
    const Result flat_nprobe =
        run(s, "rag eval --index " + index + " --questions " + world + "/questions.jsonl --nprobe 4");
    CHECK(flat_nprobe.code == 1);
    CHECK_THAT(flat_nprobe.err, Catch::Contains("has no IVF index"));
    // BM25 needs no embedding model: asking with it works when the index's model is gone.
    std::filesystem::rename(s.file("emb"), s.file("emb-moved"));
    const Result bm25_alone =
        run(s, "rag ask --run " + s.file("reader") + " --index " + index + " \"Where was Kalo Benivar born?\"");
    INFO(bm25_alone.err);
    CHECK(bm25_alone.code == 0);
    const Result gone = run(s, "rag ask --run " + s.file("reader") + " --index " + index +
                                   " --retriever dense \"Where was Kalo Benivar born?\"");
    CHECK(gone.code == 1);
    CHECK_THAT(gone.err, Catch::Contains("which is not there") && Catch::Contains("--embedder"));
    // An index written to "DIR/" is DIR.
    const Result slash = run(s, "rag index --docs " + world + "/passages.jsonl --out " + s.file("i5") + "/");
    INFO(slash.err);
    CHECK(slash.code == 0);
    CHECK(std::filesystem::exists(s.file("i5") + "/index.json"));
    CHECK_FALSE(std::filesystem::exists(s.file("i5") + ".tmp"));
}

TEST_CASE("a reader run resumes with the context it grew, through rag reader or finetune", "[ch13][cli]") {
    Scratch s;
    const std::string base = train_tiny_base(s);
    REQUIRE(!base.empty());
    const std::string opts = " --batch-size 4 --eval-iters 1 --log-interval 10 --threads 1";
    const Result r = run(s, "rag reader --base " + base + " --passages 1 --max-iters 2 --eval-interval 2 --out " +
                                s.file("reader") + opts);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("T128"));
    // Both ways back in continue the same run: the base's context (32) would not hold an example.
    for (const char* command : {"rag reader", "finetune"}) {
        const Result more =
            run(s, std::string(command) + " --out " + s.file("reader") + " --resume --max-iters 4" + opts);
        INFO(command << ": " << more.out << more.err);
        CHECK(more.code == 0);
        CHECK_THAT(more.out, Catch::Contains("T128"));
    }
}
