#include "gptbook/core/error.hpp"

#include "gptbook/core/tensor.hpp"

namespace gptbook {

namespace detail {
void throw_error(const std::string& message) { throw Error(message); }
} // namespace detail

std::string shape_str(const Mat& m) {
    std::ostringstream os; // not string operator+: GCC 12 gives a false -Wrestrict on it at -O3
    os << "(" << m.n_rows << " x " << m.n_cols << ")";
    return os.str();
}

} // namespace gptbook
