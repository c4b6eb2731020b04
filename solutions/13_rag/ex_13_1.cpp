// Solution to exercise 13.1: BM25's score of one passage, eqs. (13.1)-(13.3).
#include "exercises.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace gptbook::exercises {

double bm25_score(const std::vector<std::string>& query, const std::vector<std::string>& passage,
                  const std::vector<std::vector<std::string>>& corpus, double k1, double b) {
    const auto N = static_cast<double>(corpus.size());
    double total_words = 0.0;
    for (const auto& d : corpus) total_words += static_cast<double>(d.size());
    const double avgdl = total_words / N;
    // (13.3): a long passage's words count for less; b = 0 turns that off.
    const double norm = 1.0 - b + b * static_cast<double>(passage.size()) / avgdl;
    double score = 0.0;
    for (const std::string& t : std::set<std::string>(query.begin(), query.end())) { // distinct words
        const auto tf = static_cast<double>(std::count(passage.begin(), passage.end(), t));
        if (tf == 0.0) continue;
        double df = 0.0; // passages that hold t at least once
        for (const auto& d : corpus) df += std::find(d.begin(), d.end(), t) != d.end() ? 1.0 : 0.0;
        const double idf = std::log(1.0 + (N - df + 0.5) / (df + 0.5)); // (13.1)
        score += idf * tf * (k1 + 1.0) / (tf + k1 * norm);              // (13.2)
    }
    return score;
}

} // namespace gptbook::exercises
