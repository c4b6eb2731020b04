/**
 * @file
 * @brief BM25 (chapter 13): words, an inverted index, and the scoring formula of Robertson and
 *        Zaragoza, written out because how it ranks is the lesson.
 *
 * Shape legend: N documents, |d| words of document d, avgdl the mean |d|.
 *
 * A document's score for a query adds, over the query's distinct words t,
 *
 *     idf(t) * tf(t, d) (k1 + 1) / (tf(t, d) + k1 (1 - b + b |d| / avgdl))
 *     idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
 *
 * with tf(t, d) the times t occurs in d and df(t) the documents that hold it (Lucene's idf, which
 * is never negative). A rare word counts for much, a common one for little; a word said twice
 * counts for less than twice (k1 = 1.2 saturates it); a long document's words count for less
 * (b = 0.75 normalises by length). Words are lowercase runs of letters and digits: no stemming,
 * no stop words, so "born" matches "born" and nothing else.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gptbook {

/// The words of a text as BM25 sees them: maximal runs of ASCII letters and digits, lowercased;
/// every other byte separates ("Kalo's pet" -> "kalo", "s", "pet").
std::vector<std::string> bm25_words(std::string_view text);

/// BM25's two constants.
struct Bm25Params {
    double k1 = 1.2; ///< term-frequency saturation, >= 0 (0: a word counts once however often it occurs)
    double b = 0.75; ///< length normalisation, in [0, 1] (0: none)
};

/// One result of a search: a document and its score.
struct SearchHit {
    size_t doc = 0;     ///< index into the documents the index was built from
    float score = 0.0f; ///< higher is more relevant
};

/// An inverted index over N documents and their BM25 scores.
class Bm25Index {
public:
    /**
     * @brief Builds the index: each document's words, and for each word the documents that hold it
     *        with their counts (its postings).
     * @param[in] documents (N) texts; N >= 1 (else gptbook::Error: there is nothing to search)
     * @param[in] params    k1 >= 0 and b in [0, 1] (else gptbook::Error)
     */
    explicit Bm25Index(const std::vector<std::string>& documents, Bm25Params params = {});

    size_t size() const { return doc_words_.size(); } ///< N
    double average_length() const { return avgdl_; }  ///< avgdl, in words
    /// df(word): the documents that hold it (0 for a word no document has).
    size_t document_frequency(const std::string& word) const;
    /// idf(word), as in the file comment.
    double idf(const std::string& word) const;
    /// The score of document `doc` for `query` (the formula above, summed over the query's distinct words).
    double score(std::string_view query, size_t doc) const;

    /**
     * @brief The k best documents for a query, best first (ties: the lower index first).
     * @return at most k hits; only documents that share a word with the query (score > 0), so
     *         fewer than k when fewer do
     *
     * Only the postings of the query's words are read: the cost is the number of documents that
     * hold them, not N.
     */
    std::vector<SearchHit> search(std::string_view query, int k) const;

private:
    struct Posting {
        uint32_t doc;   // which document
        uint32_t count; // tf: how often the word occurs in it
    };
    double term_score(double idf, uint32_t tf, size_t doc) const;

    Bm25Params params_;
    std::unordered_map<std::string, std::vector<Posting>> postings_; // word -> documents, in order
    std::vector<uint32_t> doc_words_;                                // (N) |d|
    double avgdl_ = 0.0;
};

} // namespace gptbook
