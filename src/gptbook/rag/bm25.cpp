// Shapes: N documents.
#include "gptbook/rag/bm25.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace gptbook {

std::vector<std::string> bm25_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 128 && std::isalnum(u)) {
            word += static_cast<char>(std::tolower(u));
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

Bm25Index::Bm25Index(const std::vector<std::string>& documents, Bm25Params params) : params_(params) {
    GPTBOOK_CHECK(!documents.empty(), "BM25: no documents to index; give at least one passage");
    GPTBOOK_CHECK(params.k1 >= 0.0 && params.b >= 0.0 && params.b <= 1.0,
                  "BM25: k1 = " << params.k1 << ", b = " << params.b << "; expected k1 >= 0 and 0 <= b <= 1 (the "
                                << "usual values are 1.2 and 0.75)");
    GPTBOOK_CHECK(documents.size() < UINT32_MAX, "BM25: " << documents.size() << " documents; at most 2^32 - 1");
    double total = 0.0;
    for (size_t d = 0; d < documents.size(); ++d) {
        std::unordered_map<std::string, uint32_t> counts;
        const std::vector<std::string> words = bm25_words(documents[d]);
        for (const std::string& w : words) ++counts[w];
        // Postings are appended in document order, so each list is sorted by document.
        for (auto& [w, n] : counts) postings_[w].push_back({static_cast<uint32_t>(d), n});
        doc_words_.push_back(static_cast<uint32_t>(words.size()));
        total += static_cast<double>(words.size());
    }
    avgdl_ = total / static_cast<double>(documents.size());
}

size_t Bm25Index::document_frequency(const std::string& word) const {
    const auto it = postings_.find(word);
    return it == postings_.end() ? 0 : it->second.size();
}

double Bm25Index::idf(const std::string& word) const {
    const auto N = static_cast<double>(size());
    const auto df = static_cast<double>(document_frequency(word));
    return std::log(1.0 + (N - df + 0.5) / (df + 0.5));
}

double Bm25Index::term_score(double idf, uint32_t tf, size_t doc) const {
    const double f = tf;
    // An empty document (no words) has no postings, so |d| / avgdl is only read when avgdl > 0.
    const double norm = 1.0 - params_.b + params_.b * static_cast<double>(doc_words_[doc]) / avgdl_;
    return idf * f * (params_.k1 + 1.0) / (f + params_.k1 * norm);
}

double Bm25Index::score(std::string_view query, size_t doc) const {
    GPTBOOK_CHECK(doc < size(), "BM25: document " << doc << " of " << size());
    const std::vector<std::string> words = bm25_words(query);
    double s = 0.0;
    for (const std::string& w : std::set<std::string>(words.begin(), words.end())) {
        const auto it = postings_.find(w);
        if (it == postings_.end()) continue;
        const auto p = std::lower_bound(it->second.begin(), it->second.end(), doc,
                                        [](const Posting& x, size_t d) { return x.doc < d; });
        if (p != it->second.end() && p->doc == doc) s += term_score(idf(w), p->count, doc);
    }
    return s;
}

std::vector<SearchHit> Bm25Index::search(std::string_view query, int k) const {
    GPTBOOK_CHECK(k >= 1, "BM25: asked for the best " << k << " documents; expected k >= 1");
    const std::vector<std::string> words = bm25_words(query);
    std::unordered_map<uint32_t, double> scores; // only documents that share a word with the query
    for (const std::string& w : std::set<std::string>(words.begin(), words.end())) {
        const auto it = postings_.find(w);
        if (it == postings_.end()) continue;
        const double weight = idf(w);
        for (const Posting& p : it->second) scores[p.doc] += term_score(weight, p.count, p.doc);
    }
    std::vector<SearchHit> hits;
    hits.reserve(scores.size());
    for (const auto& [doc, s] : scores) hits.push_back({doc, static_cast<float>(s)});
    const auto better = [](const SearchHit& a, const SearchHit& b) {
        return a.score != b.score ? a.score > b.score : a.doc < b.doc;
    };
    const size_t n = std::min(hits.size(), static_cast<size_t>(k));
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(n), hits.end(), better);
    hits.resize(n);
    return hits;
}

} // namespace gptbook
