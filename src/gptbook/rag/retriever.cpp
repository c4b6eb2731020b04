// Shapes: N passages, D embedding size, k results.
#include "gptbook/rag/retriever.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/jsonl.hpp"
#include "gptbook/rag/contrastive.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gptbook {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> texts_of(const std::vector<Passage>& passages) {
    std::vector<std::string> t;
    t.reserve(passages.size());
    for (const Passage& p : passages) t.push_back(p.text);
    return t;
}

// FAISS reports errors as exceptions of its own; the CLI shows gptbook::Error in one line.
template <typename F>
auto faiss_call(const std::string& what, F&& f) {
    try {
        return f();
    } catch (const faiss::FaissException& e) {
        GPTBOOK_FAIL(what << ": FAISS failed: " << e.msg);
    }
}

// Cuts a paragraph into chunks of at most max_chars, at spaces where it can.
void add_chunks(std::vector<Passage>& out, const std::string& paragraph, const std::string& id, size_t max_chars) {
    if (paragraph.size() <= max_chars) {
        out.push_back({id, paragraph});
        return;
    }
    size_t start = 0, part = 1;
    while (start < paragraph.size()) {
        size_t end = std::min(paragraph.size(), start + max_chars);
        if (end < paragraph.size()) {
            const size_t space = paragraph.rfind(' ', end);
            if (space != std::string::npos && space > start) end = space;
        }
        out.push_back({id + "." + std::to_string(part++), paragraph.substr(start, end - start)});
        start = end;
        while (start < paragraph.size() && paragraph[start] == ' ') ++start;
    }
}

// Paragraphs of a text file: blank lines separate them, the lines of one are joined by spaces.
void load_text_file(std::vector<Passage>& out, const std::string& path, size_t max_chars) {
    std::istringstream in(read_file(path));
    std::string line, paragraph;
    int number = 0;
    auto flush = [&] {
        if (paragraph.empty()) return;
        add_chunks(out, paragraph, path + ":" + std::to_string(++number), max_chars);
        paragraph.clear();
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) {
            flush();
        } else {
            paragraph += (paragraph.empty() ? "" : " ") + line;
        }
    }
    flush();
}

void load_jsonl_file(std::vector<Passage>& out, const std::string& path, size_t max_chars) {
    constexpr std::string_view expected = R"(one JSON object {"text": "...", "id": "..." (optional)} per line)";
    int line = 0;
    for_each_jsonl_object(path, expected, [&](const nlohmann::json& obj, const std::string& where) {
        ++line;
        const std::string text = jsonl_string_field(obj, "text", where, expected);
        GPTBOOK_CHECK(!text.empty(), where << ": the passage's \"text\" is empty; expected " << expected);
        const std::string id =
            obj.contains("id") ? jsonl_string_field(obj, "id", where, expected) : path + ":" + std::to_string(line);
        add_chunks(out, text, id, max_chars);
    });
}

bool is_document_file(const fs::path& p) {
    const std::string ext = p.extension().string();
    return ext == ".jsonl" || ext == ".txt" || ext == ".md";
}

void load_file(std::vector<Passage>& out, const fs::path& p, size_t max_chars) {
    if (p.extension() == ".jsonl") {
        load_jsonl_file(out, p.string(), max_chars);
    } else {
        load_text_file(out, p.string(), max_chars);
    }
}

} // namespace

Bm25Retriever::Bm25Retriever(const std::vector<Passage>& passages, Bm25Params params)
    : index_(texts_of(passages), params) {}

std::vector<SearchHit> Bm25Retriever::search(const std::string& query, int k) const { return index_.search(query, k); }

DenseRetriever::DenseRetriever(const GPT& model, const Tokenizer& tokenizer, const Mat& embeddings,
                               DenseIndexOptions options)
    : model_(model), tokenizer_(tokenizer), options_(std::move(options)) {
    const auto D = static_cast<int64_t>(embeddings.n_rows), N = static_cast<int64_t>(embeddings.n_cols);
    GPTBOOK_CHECK(N >= 1, "dense index: no passages to index");
    GPTBOOK_CHECK(D == model.config.n_classes,
                  "dense index: embeddings of size " << D << " for a model of D = " << model.config.n_classes);
    GPTBOOK_CHECK(options_.kind == "flat" || options_.kind == "ivf",
                  "dense index kind '" << options_.kind << "' is unknown; expected flat (exact) or ivf");
    // A (D, N) column-major matrix is N rows of D contiguous floats: FAISS's layout.
    if (options_.kind == "flat") {
        index_ = std::make_unique<faiss::IndexFlatIP>(D);
    } else {
        if (options_.nlist <= 0) options_.nlist = std::max(1, static_cast<int>(std::lround(4.0 * std::sqrt(N))));
        // k-means needs points: FAISS warns below 39 per list and fails with fewer points than lists.
        GPTBOOK_CHECK(options_.nlist <= N, "dense ivf index: " << options_.nlist << " lists for " << N
                                                               << " passages; use at most one list per passage "
                                                               << "(--nlist), or the flat index");
        auto quantizer = std::make_unique<faiss::IndexFlatIP>(D);
        auto ivf =
            std::make_unique<faiss::IndexIVFFlat>(quantizer.release(), D, options_.nlist, faiss::METRIC_INNER_PRODUCT);
        ivf->own_fields = true;
        faiss_call("dense ivf index: k-means", [&] { ivf->train(N, embeddings.memptr()); });
        index_ = std::move(ivf);
        set_nprobe(options_.nprobe);
    }
    faiss_call("dense index: adding vectors", [&] { index_->add(N, embeddings.memptr()); });
}

DenseRetriever::DenseRetriever(const GPT& model, const Tokenizer& tokenizer, std::unique_ptr<faiss::Index> index,
                               DenseIndexOptions options)
    : model_(model), tokenizer_(tokenizer), options_(std::move(options)), index_(std::move(index)) {
    GPTBOOK_CHECK(index_ != nullptr, "dense index: no FAISS index");
    GPTBOOK_CHECK(index_->d == model.config.n_classes,
                  "dense index: vectors of size " << index_->d
                                                  << " for an embedding model of D = " << model.config.n_classes);
    GPTBOOK_CHECK((options_.kind == "ivf") == (dynamic_cast<faiss::IndexIVF*>(index_.get()) != nullptr),
                  "dense index: index.json says " << options_.kind << " but dense.faiss holds another kind of index; "
                                                  << "rebuild the index");
    if (options_.kind == "ivf") set_nprobe(options_.nprobe);
}

DenseRetriever::~DenseRetriever() = default;

void DenseRetriever::set_nprobe(int nprobe) {
    auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get());
    GPTBOOK_CHECK(ivf != nullptr, "--nprobe: the dense index is flat (exact search probes no lists); build it with "
                                      << "--kind ivf");
    GPTBOOK_CHECK(nprobe >= 1 && static_cast<size_t>(nprobe) <= ivf->nlist,
                  "--nprobe " << nprobe << " is out of range; expected 1.." << ivf->nlist << " (the index's lists)");
    ivf->nprobe = static_cast<size_t>(nprobe);
    options_.nprobe = nprobe;
    options_.nlist = static_cast<int>(ivf->nlist);
}

std::vector<SearchHit> DenseRetriever::search_vector(const Vec& query, int k) const {
    GPTBOOK_CHECK(k >= 1, "dense search: asked for the best " << k << " passages; expected k >= 1");
    GPTBOOK_CHECK(static_cast<int64_t>(query.n_elem) == index_->d,
                  "dense search: a query of size " << query.n_elem << " for an index of size " << index_->d);
    const auto kk = static_cast<int64_t>(std::min<int64_t>(k, index_->ntotal));
    std::vector<float> scores(static_cast<size_t>(kk));
    std::vector<faiss::Index::idx_t> ids(static_cast<size_t>(kk));
    faiss_call("dense search", [&] { index_->search(1, query.memptr(), kk, scores.data(), ids.data()); });
    std::vector<SearchHit> hits;
    for (int64_t i = 0; i < kk; ++i)
        if (ids[static_cast<size_t>(i)] >= 0) // IVF returns -1 when its probed lists hold fewer than k
            hits.push_back({static_cast<size_t>(ids[static_cast<size_t>(i)]), scores[static_cast<size_t>(i)]});
    return hits;
}

std::vector<SearchHit> DenseRetriever::search(const std::string& query, int k) const {
    const Mat e = embed_texts(model_, tokenizer_, {query}, 1);
    return search_vector(e.col(0), k);
}

HybridRetriever::HybridRetriever(std::vector<const Retriever*> parts, int depth)
    : parts_(std::move(parts)), depth_(depth) {
    GPTBOOK_CHECK(!parts_.empty(), "hybrid retrieval needs at least one retriever");
    GPTBOOK_CHECK(depth_ >= 1, "hybrid retrieval: depth " << depth_ << ", expected >= 1");
}

std::vector<SearchHit> HybridRetriever::search(const std::string& query, int k) const {
    GPTBOOK_CHECK(k >= 1, "hybrid search: asked for the best " << k << " passages; expected k >= 1");
    std::map<size_t, double> fused;
    for (const Retriever* r : parts_) {
        const std::vector<SearchHit> hits = r->search(query, std::max(k, depth_));
        for (size_t rank = 0; rank < hits.size(); ++rank) fused[hits[rank].doc] += 1.0 / (60.0 + rank + 1);
    }
    std::vector<SearchHit> out;
    for (const auto& [doc, s] : fused) out.push_back({doc, static_cast<float>(s)});
    std::stable_sort(out.begin(), out.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
    if (out.size() > static_cast<size_t>(k)) out.resize(static_cast<size_t>(k));
    return out;
}

std::vector<Passage> load_passages(const std::string& path, int max_chars) {
    GPTBOOK_CHECK(max_chars >= 16, "--chunk-chars " << max_chars << " is too small; expected at least 16");
    GPTBOOK_CHECK(fs::exists(path), path << " does not exist; expected a .jsonl file of passages, a text file, or "
                                         << "a directory of them");
    std::vector<Passage> out;
    if (fs::is_directory(path)) {
        std::vector<fs::path> files;
        for (const auto& e : fs::recursive_directory_iterator(path))
            if (e.is_regular_file() && is_document_file(e.path())) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) load_file(out, f, static_cast<size_t>(max_chars));
    } else {
        load_file(out, path, static_cast<size_t>(max_chars));
    }
    GPTBOOK_CHECK(!out.empty(), path << " holds no passages: expected .jsonl lines {\"text\": ...}, or .txt/.md "
                                     << "files with paragraphs separated by blank lines; an empty document set "
                                     << "has nothing to search");
    return out;
}

void save_passages_jsonl(const std::string& path, const std::vector<Passage>& passages) {
    std::string s;
    for (const Passage& p : passages) s += nlohmann::json{{"id", p.id}, {"text", p.text}}.dump() + "\n";
    write_file_atomic(path, s);
}

RagIndex::RagIndex() = default;
RagIndex::RagIndex(RagIndex&&) noexcept = default;
RagIndex& RagIndex::operator=(RagIndex&&) noexcept = default;
RagIndex::~RagIndex() = default;

void RagIndex::attach_embedder(const EmbedderRef& e) {
    GPTBOOK_CHECK(dense_info.has_value() && vectors != nullptr,
                  dir << " holds no embeddings (it was built without --embedder); use --retriever bm25, or rebuild "
                      << "it with `gptbook rag index --embedder runs/NAME`");
    GPTBOOK_CHECK(e.model != nullptr && e.tokenizer != nullptr && e.model->config.embedder,
                  e.run << " is not an embedding model; train one with `gptbook rag embedder`");
    GPTBOOK_CHECK(e.sha256 == dense_info->sha256,
                  dir << " was built with the embedding model " << dense_info->embedder << " (weights sha256 "
                      << dense_info->sha256.substr(0, 12) << "...), but " << e.run << " has other weights ("
                      << e.sha256.substr(0, 12) << "...): its vectors would not match the index's; rebuild the index "
                      << "with `gptbook rag index --embedder " << e.run << "`");
    dense = std::make_unique<DenseRetriever>(*e.model, *e.tokenizer, std::move(vectors), dense_info->options);
    hybrid = std::make_unique<HybridRetriever>(std::vector<const Retriever*>{bm25.get(), dense.get()});
}

const Retriever& RagIndex::retriever(const std::string& name) const {
    if (name == "bm25") return *bm25;
    GPTBOOK_CHECK(name == "dense" || name == "hybrid",
                  "retriever '" << name << "' is unknown; expected bm25, dense or hybrid");
    GPTBOOK_CHECK(dense != nullptr, "--retriever " << name << ": " << dir << " holds "
                                                   << (dense_info ? "embeddings, but no embedding model is attached"
                                                                  : "no embeddings (it was built without --embedder)")
                                                   << "; use --retriever bm25, or rebuild it with --embedder");
    return name == "dense" ? static_cast<const Retriever&>(*dense) : *hybrid;
}

long RagIndex::find(const std::string& id) const {
    const auto it = ids.find(id);
    return it == ids.end() ? -1 : static_cast<long>(it->second);
}

// The files of an index, into a directory that is renamed into place when they are all written.
static void write_index_files(const fs::path& tmp, const std::vector<Passage>& passages, const EmbedderRef* embedder,
                              const DenseIndexOptions& options, const std::function<void(const std::string&)>& log);

void build_index(const std::string& out, const std::vector<Passage>& passages, const EmbedderRef* embedder,
                 const DenseIndexOptions& options, const std::function<void(const std::string&)>& log) {
    GPTBOOK_CHECK(!passages.empty(), "rag index: no passages to index");
    GPTBOOK_CHECK(!fs::exists(out), out << " already exists; remove it or choose another --out");
    fs::path dest = fs::path(out).lexically_normal();
    if (dest.filename().empty()) dest = dest.parent_path(); // "--out idx/"
    const fs::path tmp = dest.string() + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    try {
        write_index_files(tmp, passages, embedder, options, log);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(tmp, ignored); // never a half-written index
        throw;
    }
    fs::rename(tmp, dest);
}

static void write_index_files(const fs::path& tmp, const std::vector<Passage>& passages, const EmbedderRef* embedder,
                              const DenseIndexOptions& options, const std::function<void(const std::string&)>& log) {
    nlohmann::json info = {{"format", "gptbook-rag-index"},
                           {"version", 1},
                           {"passages", passages.size()},
                           {"bm25", {{"k1", Bm25Params{}.k1}, {"b", Bm25Params{}.b}}},
                           {"dense", nullptr}};
    save_passages_jsonl((tmp / "passages.jsonl").string(), passages);
    if (embedder != nullptr) {
        if (log) log("embedding " + std::to_string(passages.size()) + " passages with " + embedder->run);
        const Mat e = embed_texts(*embedder->model, *embedder->tokenizer, texts_of(passages));
        const DenseRetriever dense(*embedder->model, *embedder->tokenizer, e, options);
        faiss_call("writing dense.faiss",
                   [&] { faiss::write_index(&dense.faiss_index(), (tmp / "dense.faiss").string().c_str()); });
        info["dense"] = {{"embedder", embedder->run},
                         {"embedder_sha256", embedder->sha256},
                         {"dim", embedder->model->config.n_classes},
                         {"kind", dense.options().kind},
                         {"nlist", dense.options().nlist},
                         {"nprobe", dense.options().nprobe}};
    }
    write_file_atomic((tmp / "index.json").string(), info.dump(2) + "\n");
}

RagIndex load_index(const std::string& dir) {
    const fs::path d(dir);
    GPTBOOK_CHECK(fs::exists(d / "index.json"), dir << " is not a retrieval index (it has no index.json); build one "
                                                    << "with `gptbook rag index --docs FILE|DIR --out " << dir << "`");
    nlohmann::json info;
    try {
        info = nlohmann::json::parse(read_file((d / "index.json").string()));
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL((d / "index.json").string() << " is not valid JSON (" << e.what() << "); rebuild the index");
    }
    GPTBOOK_CHECK(info.is_object() && info.contains("format") && info["format"].is_string() &&
                      info["format"] == "gptbook-rag-index" && info.contains("version") && info["version"] == 1 &&
                      info.contains("passages") && info["passages"].is_number_unsigned(),
                  (d / "index.json").string() << " is not a gptbook retrieval index of version 1; rebuild it with "
                                              << "`gptbook rag index`");
    RagIndex idx;
    idx.dir = dir;
    load_jsonl_file(idx.passages, (d / "passages.jsonl").string(), SIZE_MAX);
    const size_t n = info["passages"].get<size_t>();
    GPTBOOK_CHECK(idx.passages.size() == n, dir << ": index.json says " << n << " passages but passages.jsonl has "
                                                << idx.passages.size() << "; the index is damaged, rebuild it");
    for (size_t i = 0; i < idx.passages.size(); ++i)
        idx.ids.emplace(idx.passages[i].id, i); // the first of a repeated id
    idx.bm25 = std::make_unique<Bm25Retriever>(idx.passages);
    if (info.contains("dense") && info["dense"].is_object()) {
        const nlohmann::json& j = info["dense"];
        DenseIndexInfo di;
        try {
            di.embedder = j.at("embedder").get<std::string>();
            di.sha256 = j.at("embedder_sha256").get<std::string>();
            di.dim = j.at("dim").get<int>();
            di.options.kind = j.at("kind").get<std::string>();
            di.options.nlist = j.at("nlist").get<int>();
            di.options.nprobe = j.at("nprobe").get<int>();
            GPTBOOK_CHECK(di.options.kind == "flat" || di.options.kind == "ivf",
                          (d / "index.json").string() << ": dense kind '" << di.options.kind << "' is unknown; "
                                                      << "rebuild the index");
        } catch (const nlohmann::json::exception& e) {
            GPTBOOK_FAIL((d / "index.json").string()
                         << ": the \"dense\" entry is malformed (" << e.what() << "); rebuild the index");
        }
        const std::string path = (d / "dense.faiss").string();
        GPTBOOK_CHECK(fs::exists(path), dir << " has no dense.faiss but index.json lists embeddings; rebuild it");
        idx.vectors.reset(faiss_call("reading " + path, [&] { return faiss::read_index(path.c_str()); }));
        GPTBOOK_CHECK(idx.vectors->ntotal == static_cast<int64_t>(n) && idx.vectors->d == di.dim,
                      path << " holds " << idx.vectors->ntotal << " vectors of size " << idx.vectors->d
                           << " but index.json says " << n << " of size " << di.dim << "; rebuild the index");
        idx.dense_info = di;
    }
    return idx;
}

} // namespace gptbook
