// Tests for src/gptbook/rag/retriever.cpp and reader.cpp (chapter 13): FAISS's IVF index against
// exact search, the index directory written and read back, the checks that keep an index and its
// embedding model together, passages read from files, and the reader's prompt.
#include "gptbook/rag/reader.hpp"
#include "gptbook/rag/retriever.hpp"

#include "gptbook/core/file.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/data/sha256.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/tokenizer/char_tokenizer.hpp"
#include "support/ch11_config.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

using namespace gptbook;
using Catch::Matchers::Contains;

namespace {

// A small random embedding model over the world's characters (its vectors mean nothing; the
// index does not care).
struct TinyEmbedder {
    Tokenizer tokenizer = CharTokenizer::from_text(world_alphabet());
    std::unique_ptr<GPT> model;
    explicit TinyEmbedder(int D = 16, uint64_t seed = 4) {
        GPTConfig c = test::ch11_config(false);
        c.vocab_size = tokenizer.vocab_size();
        c.block_size = 64;
        c.n_classes = D;
        c.pool = Pooling::mean;
        c.embedder = true;
        model = std::make_unique<GPT>(c);
        Rng rng(seed);
        gpt_init(*model, rng);
    }
    EmbedderRef ref(const std::string& name) const { return {name, sha256_hex(name), model.get(), &tokenizer}; }
};

std::vector<size_t> docs(const std::vector<SearchHit>& hits) {
    std::vector<size_t> d;
    for (const SearchHit& h : hits) d.push_back(h.doc);
    return d;
}

} // namespace

TEST_CASE("FAISS: the flat index is exact search; IVF probing every list returns the same top k",
          "[ch13][rag][faiss]") {
    const TinyEmbedder emb;
    Rng rng(7);
    const arma::uword D = 16, N = 600;
    Mat x(D, N);
    for (float& v : x) v = rng.normal();
    x = arma::normalise(x); // unit columns, as embed_texts() makes them
    const DenseRetriever flat(*emb.model, emb.tokenizer, x, {"flat", 0, 1});
    DenseRetriever ivf(*emb.model, emb.tokenizer, x, {"ivf", 12, 12});
    CHECK(ivf.options().nlist == 12);
    for (int q = 0; q < 25; ++q) {
        Vec query(D);
        for (float& v : query) v = rng.normal();
        query = arma::normalise(query);
        // Exact search by hand: every inner product, sorted.
        const arma::fvec scores = x.t() * query;
        const arma::uvec order = arma::sort_index(scores, "descend");
        const std::vector<SearchHit> f = flat.search_vector(query, 10);
        REQUIRE(f.size() == 10);
        for (size_t i = 0; i < 10; ++i) {
            CHECK(f[i].doc == order[i]);
            CHECK(f[i].score == Approx(scores[order[i]]).epsilon(1e-5));
        }
        CHECK(docs(ivf.search_vector(query, 10)) == docs(f));
    }
    // Probing one list of 12 misses some: that is the trade IVF makes.
    ivf.set_nprobe(1);
    int same = 0;
    for (int q = 0; q < 25; ++q) {
        Vec query(D);
        for (float& v : query) v = rng.normal();
        query = arma::normalise(query);
        same += docs(ivf.search_vector(query, 10)) == docs(flat.search_vector(query, 10));
    }
    CHECK(same < 25);
    CHECK_THROWS_WITH(ivf.set_nprobe(13), Contains("expected 1..12"));
    CHECK_THROWS_WITH(DenseRetriever(*emb.model, emb.tokenizer, x, {"hnsw", 0, 1}), Contains("expected flat"));
    CHECK_THROWS_WITH(DenseRetriever(*emb.model, emb.tokenizer, x, {"ivf", 601, 1}), Contains("at most one list"));
}

TEST_CASE("an index directory round trip: passages, BM25, dense, hybrid", "[ch13][rag][index]") {
    const test::TempDir tmp;
    const TinyEmbedder emb;
    const std::vector<Person> people = make_world(WorldSplit::test, 40);
    const std::vector<Passage> passages = world_passages(people);
    const std::string dir = (tmp.path / "index").string();
    build_index(dir, passages, nullptr, {});
    RagIndex bm25_only = load_index(dir);
    CHECK(bm25_only.passages.size() == 200);
    CHECK(bm25_only.passages[3].text == passages[3].text);
    CHECK(bm25_only.find(passages[17].id) == 17);
    CHECK(bm25_only.find("nobody/city") == -1);
    CHECK_FALSE(bm25_only.dense_info.has_value());
    // BM25 finds a passage by the words of its own text.
    CHECK(bm25_only.retriever("bm25").search(passages[42].text, 1).front().doc == 42);
    CHECK_THROWS_WITH(bm25_only.retriever("dense"), Contains("no embeddings"));
    CHECK_THROWS_WITH(bm25_only.retriever("sparse"), Contains("expected bm25, dense or hybrid"));
    CHECK_THROWS_WITH(bm25_only.attach_embedder(emb.ref("runs/e")), Contains("built without --embedder"));
    CHECK_THROWS_WITH(build_index(dir, passages, nullptr, {}), Contains("already exists"));

    const std::string dense_dir = (tmp.path / "dense").string();
    const EmbedderRef ref = emb.ref("runs/e");
    build_index(dense_dir, passages, &ref, {"ivf", 4, 4});
    RagIndex idx = load_index(dense_dir);
    REQUIRE(idx.dense_info.has_value());
    CHECK(idx.dense_info->embedder == "runs/e");
    CHECK(idx.dense_info->dim == 16);
    CHECK(idx.dense_info->options.kind == "ivf");
    idx.attach_embedder(ref);
    // A passage's own text embeds to its own vector: it is its nearest neighbour.
    CHECK(idx.retriever("dense").search(passages[9].text, 1).front().doc == 9);
    CHECK(idx.retriever("hybrid").search(passages[9].text, 3).front().doc == 9);
    CHECK(idx.retriever("dense").name() == "dense ivf");

    // Another embedding model (other weights) cannot read these vectors.
    RagIndex again = load_index(dense_dir);
    const TinyEmbedder other(16, 5);
    CHECK_THROWS_WITH(again.attach_embedder(other.ref("runs/other")),
                      Contains("was built with the embedding model runs/e") && Contains("rebuild the index"));
    // A damaged index says so.
    write_file_atomic((std::filesystem::path(dense_dir) / "passages.jsonl").string(),
                      "{\"id\": \"a\", \"text\": \"only one\"}\n");
    CHECK_THROWS_WITH(load_index(dense_dir), Contains("the index is damaged"));
    CHECK_THROWS_WITH(load_index(tmp.str()), Contains("is not a retrieval index"));
}

TEST_CASE("passages from files: JSON Lines, paragraphs, directories, chunks; an empty set is refused",
          "[ch13][rag][index]") {
    const test::TempDir tmp;
    const std::filesystem::path docs = tmp.path / "docs";
    std::filesystem::create_directories(docs / "sub");
    write_file_atomic((docs / "a.txt").string(), "First paragraph,\nin two lines.\n\n\nSecond one.\n");
    write_file_atomic((docs / "sub" / "b.jsonl").string(),
                      "{\"text\": \"a fact\", \"id\": \"f1\"}\n{\"text\": \"another\"}\n");
    write_file_atomic((docs / "ignored.bin").string(), "\x01\x02");
    const std::vector<Passage> p = load_passages(docs.string());
    REQUIRE(p.size() == 4);
    CHECK(p[0].text == "First paragraph, in two lines.");
    CHECK(p[0].id == (docs / "a.txt").string() + ":1");
    CHECK(p[1].text == "Second one.");
    CHECK(p[2].id == "f1");
    CHECK(p[3].id == (docs / "sub" / "b.jsonl").string() + ":2");
    // A long paragraph is cut at spaces into pieces of at most max_chars.
    write_file_atomic((tmp.path / "long.md").string(), "one two three four five six seven eight nine ten\n");
    const std::vector<Passage> chunks = load_passages((tmp.path / "long.md").string(), 16);
    REQUIRE(chunks.size() >= 3);
    for (const Passage& c : chunks) CHECK(c.text.size() <= 16);
    CHECK(chunks[0].text == "one two three");
    CHECK(chunks[1].id.ends_with(":1.2"));

    std::filesystem::create_directories(tmp.path / "empty");
    CHECK_THROWS_WITH(load_passages((tmp.path / "empty").string()), Contains("holds no passages"));
    write_file_atomic((tmp.path / "blank.txt").string(), "\n\n  \n");
    CHECK_THROWS_WITH(load_passages((tmp.path / "blank.txt").string()), Contains("holds no passages"));
    write_file_atomic((tmp.path / "bad.jsonl").string(), "{\"body\": \"x\"}\n");
    CHECK_THROWS_WITH(load_passages((tmp.path / "bad.jsonl").string()), Contains("line 1"));
    CHECK_THROWS_WITH(load_passages((tmp.path / "missing").string()), Contains("does not exist"));
}

TEST_CASE("the reader's prompt keeps the best passages that fit and refuses a question that cannot fit",
          "[ch13][rag][reader]") {
    const ChatTemplate chat;
    const Tokenizer tok =
        Tokenizer(CharTokenizer::from_text(world_alphabet())).with_added_tokens("", chat_special_tokens(chat));
    GPTConfig c = test::ch11_config(false);
    c.vocab_size = tok.vocab_size();
    c.block_size = 88;
    const GPT reader(c);
    const std::vector<Passage> store = {{"a", "Kalo Brenvi was born in Lima."},
                                        {"b", "Kalo Brenvi plays the harp."},
                                        {"c", "Tavo Lin keeps a goat at home."}};
    const std::string q = "Where was Kalo Brenvi born?";
    // 27 + 3 template tokens + 24 for the answer = 54; the first passage and its newline make 84,
    // the second would make 113.
    const ReaderInput one = reader_input(reader, tok, store, {{0, 2.0f}, {1, 1.0f}, {2, 0.5f}}, q);
    CHECK(one.hits.size() == 1);
    CHECK(one.dropped == 2);
    CHECK(one.prompt == q + "\nKalo Brenvi was born in Lima.");
    const ReaderInput none = reader_input(reader, tok, store, {}, q);
    CHECK(none.prompt == q);
    CHECK(none.dropped == 0);
    CHECK_THROWS_WITH(reader_input(reader, tok, store, {}, std::string(70, 'a') + "?"),
                      Contains("the question is too long for the reader") && Contains("context is 88"));
}
