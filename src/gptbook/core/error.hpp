/**
 * @file
 * @brief gptbook::Error and the checks that raise it at public boundaries.
 */
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace gptbook {

/// The one exception type of gptbook. Its message says what was expected, what was found, and
/// what to do about it; the command-line tool prints it as one line and exits with code 1.
class Error : public std::runtime_error {
public:
    /// @param message what was expected, what was found, and what to do
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
[[noreturn]] void throw_error(const std::string& message);
} // namespace detail

} // namespace gptbook

/// Throws gptbook::Error with a message built by streaming, when `cond` is false:
/// `GPTBOOK_CHECK(x.n_rows == C, "layernorm_forward: inp has " << x.n_rows << " rows, expected C=" << C);`
#define GPTBOOK_CHECK(cond, message)                                                                                   \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::ostringstream gptbook_check_os_;                                                                      \
            gptbook_check_os_ << message;                                                                              \
            ::gptbook::detail::throw_error(gptbook_check_os_.str());                                                   \
        }                                                                                                              \
    } while (0)

/// Throws gptbook::Error unconditionally, with a streamed message.
#define GPTBOOK_FAIL(message) GPTBOOK_CHECK(false, message)

/// Checks that a matrix has the expected shape, naming the function and the argument.
#define GPTBOOK_CHECK_SHAPE(fn, name, m, rows, cols)                                                                   \
    GPTBOOK_CHECK((m).n_rows == static_cast<arma::uword>(rows) && (m).n_cols == static_cast<arma::uword>(cols),        \
                  fn << ": " << name << " is (" << (m).n_rows << " x " << (m).n_cols << "), expected (" << (rows)      \
                     << " x " << (cols) << ")")
