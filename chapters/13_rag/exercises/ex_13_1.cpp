// Exercise 13.1: BM25's score of one passage, eqs. (13.1)-(13.3).
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

double bm25_score(const std::vector<std::string>& query, const std::vector<std::string>& passage,
                  const std::vector<std::vector<std::string>>& corpus, double k1, double b) {
    // N and avgdl from the corpus; for each distinct query word: its df (the passages that hold it),
    // idf, and its tf in this passage; add the saturated, length-normalised term.
    (void)query;
    (void)passage;
    (void)corpus;
    (void)k1;
    (void)b;
    GPTBOOK_FAIL("not implemented: exercise 13.1 (bm25_score in chapters/13_rag/exercises/ex_13_1.cpp)");
}

} // namespace gptbook::exercises
