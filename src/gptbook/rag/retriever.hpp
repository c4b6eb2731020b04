/**
 * @file
 * @brief Retrievers behind one interface (chapter 13): BM25, dense retrieval over FAISS (exact or
 *        IVF), and their reciprocal-rank fusion; an index directory on disk that holds them.
 *
 * Shape legend: N passages, D embedding size, k results, nlist IVF lists.
 *
 * An index directory (written by save_index(), read by load_index()):
 *
 *     INDEX/index.json      what it holds: {"format": "gptbook-rag-index", "version": 1,
 *                           "passages": N, "bm25": {"k1", "b"}, "dense": null or {"embedder": RUN,
 *                           "embedder_sha256": of RUN/model.safetensors, "dim": D, "kind": "flat" or
 *                           "ivf", "nlist", "nprobe"}}
 *     INDEX/passages.jsonl  one {"id": ..., "text": ...} per line, in index order
 *     INDEX/dense.faiss     the FAISS index of the passages' embeddings (faiss::write_index), when dense
 *
 * BM25's inverted index is rebuilt from passages.jsonl when the index is loaded (a second for
 * 100,000 passages, no file format to keep in step); the embeddings are what is slow to make and
 * are stored.
 */
#pragma once

#include "gptbook/model/gpt.hpp"
#include "gptbook/rag/bm25.hpp"
#include "gptbook/rag/world.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace faiss {
struct Index;
}

namespace gptbook {

/// Something that finds the passages most relevant to a question.
class Retriever {
public:
    virtual ~Retriever() = default;
    /// A short name for tables: "bm25", "dense", "dense ivf", "hybrid".
    virtual std::string name() const = 0;
    /// The k best passages, best first (fewer when fewer match at all); k >= 1.
    virtual std::vector<SearchHit> search(const std::string& query, int k) const = 0;
};

/// BM25 over the passages' texts.
class Bm25Retriever final : public Retriever {
public:
    /// Indexes the passages' texts (Bm25Index), with BM25's constants.
    explicit Bm25Retriever(const std::vector<Passage>& passages, Bm25Params params = {});
    std::string name() const override { return "bm25"; }
    std::vector<SearchHit> search(const std::string& query, int k) const override;
    const Bm25Index& index() const { return index_; } ///< the inverted index and its scores

private:
    Bm25Index index_;
};

/// How a dense index searches.
struct DenseIndexOptions {
    std::string kind = "flat"; ///< "flat": every vector compared (exact); "ivf": only the vectors of the nprobe
                               ///< lists whose centroids are nearest the query (faiss::IndexIVFFlat)
    int nlist = 0;             ///< ivf: lists (k-means clusters); 0 = 4 sqrt(N), FAISS's rule of thumb
    int nprobe = 8;            ///< ivf: lists searched per query, 1..nlist
};

/// Dense retrieval: an embedding model for questions, a FAISS inner-product index of the passages.
class DenseRetriever final : public Retriever {
public:
    /**
     * @brief Builds the FAISS index of the passages' embeddings.
     * @param[in] model, tokenizer an embedding model (config.embedder) and its tokenizer; kept by
     *                  reference, so they must outlive the retriever
     * @param[in] embeddings (D, N) unit columns, embed_texts() of the passages in index order
     * @param[in] options    flat or ivf (IVF trains its k-means on the embeddings themselves)
     */
    DenseRetriever(const GPT& model, const Tokenizer& tokenizer, const Mat& embeddings, DenseIndexOptions options = {});
    /// Takes an index read from disk.
    DenseRetriever(const GPT& model, const Tokenizer& tokenizer, std::unique_ptr<faiss::Index> index,
                   DenseIndexOptions options);
    ~DenseRetriever() override;
    std::string name() const override { return options_.kind == "ivf" ? "dense ivf" : "dense"; }
    std::vector<SearchHit> search(const std::string& query, int k) const override;
    /// Searches by an embedding (D) instead of a text: what tests compare exact and IVF with.
    std::vector<SearchHit> search_vector(const Vec& query, int k) const;
    /// Sets IVF's lists searched per query (ignored by a flat index); 1..nlist.
    void set_nprobe(int nprobe);
    const DenseIndexOptions& options() const { return options_; } ///< nlist resolved
    const faiss::Index& faiss_index() const { return *index_; }   ///< for save_index()

private:
    const GPT& model_;
    const Tokenizer& tokenizer_;
    DenseIndexOptions options_;
    std::unique_ptr<faiss::Index> index_;
};

/**
 * @brief Reciprocal-rank fusion (Cormack et al. 2009) of retrievers: a passage's score is
 *        sum over retrievers of 1 / (60 + its rank there), ranks from 1, over each one's top `depth`.
 *        A passage that both find near the top beats one that only one finds first.
 */
class HybridRetriever final : public Retriever {
public:
    /// @param[in] parts the retrievers fused (kept by reference; at least one)
    /// @param[in] depth how many of each one's best passages are fused, >= 1
    HybridRetriever(std::vector<const Retriever*> parts, int depth = 50);
    std::string name() const override { return "hybrid"; }
    std::vector<SearchHit> search(const std::string& query, int k) const override;

private:
    std::vector<const Retriever*> parts_;
    int depth_;
};

/**
 * @brief Reads passages from files: a .jsonl file (one {"text": ..., "id": ...} per line, id
 *        optional), a text file (.txt, .md: paragraphs separated by blank lines), or a directory
 *        of such files (recursively, sorted by path).
 * @param[in] path      a file or a directory
 * @param[in] max_chars a paragraph longer than this is cut into chunks of at most max_chars at
 *                      spaces (a passage must fit the reader's context beside a question); >= 16
 * @return the passages; the id of a paragraph is "FILE:N" (its number in the file, from 1)
 *
 * Throws gptbook::Error naming the file (and line) on a missing path, a JSON line that is not an
 * object with a string "text", or when nothing is found: an empty document set has nothing to search.
 */
std::vector<Passage> load_passages(const std::string& path, int max_chars = 256);

/// Writes passages as JSON Lines ({"id", "text"}), atomically.
void save_passages_jsonl(const std::string& path, const std::vector<Passage>& passages);

/// An embedding model as an index knows it: where it came from, a digest of its weights, and the
/// model itself (loaded by the caller, kept by reference).
struct EmbedderRef {
    std::string run;                      ///< its run directory, as given
    std::string sha256;                   ///< of its model.safetensors: which weights made the vectors
    const GPT* model = nullptr;           ///< config.embedder set
    const Tokenizer* tokenizer = nullptr; ///< its tokenizer
};

/// What index.json says of a dense index.
struct DenseIndexInfo {
    std::string embedder;      ///< the embedding model's run directory when it was built
    std::string sha256;        ///< of that model's weights
    int dim = 0;               ///< D
    DenseIndexOptions options; ///< kind, nlist, nprobe
};

/// A loaded index directory: the passages, BM25, and the dense retriever once an embedder is attached.
struct RagIndex {
    RagIndex();                               ///< empty; load_index() fills one
    RagIndex(RagIndex&&) noexcept;            ///< moves (the FAISS index is held by pointer)
    RagIndex& operator=(RagIndex&&) noexcept; ///< moves
    ~RagIndex();                              ///< defined where faiss::Index is complete

    std::string dir;                             ///< where it was read from
    std::vector<Passage> passages;               ///< (N) in index order
    std::unique_ptr<Bm25Retriever> bm25;         ///< always
    std::optional<DenseIndexInfo> dense_info;    ///< when the index holds embeddings
    std::unique_ptr<faiss::Index> vectors;       ///< read from dense.faiss; moved into `dense` by attach_embedder()
    std::unique_ptr<DenseRetriever> dense;       ///< after attach_embedder()
    std::unique_ptr<HybridRetriever> hybrid;     ///< bm25 + dense, after attach_embedder()
    std::unordered_map<std::string, size_t> ids; ///< passage id -> index, for find()

    /**
     * @brief Binds the embedding model that questions are embedded with.
     *
     * Throws gptbook::Error when the index holds no embeddings, or when `embedder`'s weights are
     * not those the index was built with (another model, or the same run trained further): its
     * questions' vectors would not live in the same space as the stored passages'. The message
     * names both and says to rebuild the index with `gptbook rag index --embedder`.
     */
    void attach_embedder(const EmbedderRef& embedder);

    /// The retriever named "bm25", "dense" or "hybrid"; throws gptbook::Error naming what the
    /// index holds when it has no such retriever (or the embedder is not attached).
    const Retriever& retriever(const std::string& name) const;
    /// The index of a passage by id, or -1.
    long find(const std::string& id) const;
};

/**
 * @brief Builds an index directory, atomically (a temporary directory renamed into place).
 * @param[in] out       the directory to create; must not exist (gptbook::Error otherwise)
 * @param[in] passages  (N >= 1) what to index
 * @param[in] embedder  the embedding model, or null for BM25 only
 * @param[in] options   the dense index's kind
 * @param[in] log       called with progress lines (may be empty)
 */
void build_index(const std::string& out, const std::vector<Passage>& passages, const EmbedderRef* embedder,
                 const DenseIndexOptions& options, const std::function<void(const std::string&)>& log = {});

/// Reads an index directory written by build_index(). Throws gptbook::Error on a missing or
/// malformed index.json or passages.jsonl, or a passage count that does not match.
RagIndex load_index(const std::string& dir);

} // namespace gptbook
