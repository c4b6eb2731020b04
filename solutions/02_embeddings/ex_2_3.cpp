// Solution of exercise 2.3: the dot product of the two directions.
#include "exercises.hpp"

#include "gptbook/core/error.hpp"

namespace gptbook::exercises {

float cosine_similarity(const Vec& a, const Vec& b) {
    GPTBOOK_CHECK(a.n_elem == b.n_elem, "cosine_similarity: a has " << a.n_elem << " elements and b has " << b.n_elem
                                                                    << "; expected the same length");
    const float norms = arma::norm(a) * arma::norm(b);
    if (norms == 0.0f) return 0.0f; // a zero vector has no direction to compare
    return arma::dot(a, b) / norms;
}

} // namespace gptbook::exercises
