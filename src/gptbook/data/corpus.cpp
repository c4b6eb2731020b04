#include "gptbook/data/corpus.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/utf8.hpp"

#include <filesystem>

namespace gptbook {

std::string load_corpus(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    GPTBOOK_CHECK(fs::exists(status), "corpus " << path
                                                << " does not exist; pass the path of a UTF-8 "
                                                   "text file or the name of a known corpus (gptbook data list)");
    GPTBOOK_CHECK(fs::is_regular_file(status),
                  "corpus " << path << " is not a regular file (a directory?); expected a UTF-8 text file");
    std::string text = read_file(path);
    GPTBOOK_CHECK(!text.empty(), "corpus " << path << " is empty; expected text to train on");
    std::ostringstream what;
    what << "corpus " << path;
    utf8_validate(text, what.str());
    return text;
}

TokenSplit split_tokens(const Tokens& tokens, double train_fraction, int block_size) {
    GPTBOOK_CHECK(train_fraction > 0.0 && train_fraction < 1.0,
                  "split_tokens: train_fraction is "
                      << train_fraction << ", expected a value in (0, 1) such as 0.9 (90% train, 10% val)");
    GPTBOOK_CHECK(block_size > 0, "split_tokens: block_size is " << block_size << ", expected > 0");
    const std::size_t N = tokens.size();
    // Python's int(len(data) * 0.9): the product in double precision, truncated.
    const auto n = static_cast<std::size_t>(static_cast<double>(N) * train_fraction);
    const std::size_t needed = static_cast<std::size_t>(block_size) + 1;
    const std::size_t val_size = N - n;
    GPTBOOK_CHECK(n >= needed, "corpus too small: train split has "
                                   << n << " tokens, needs at least block_size+1 = " << needed
                                   << "; use a larger corpus or a smaller --block-size");
    GPTBOOK_CHECK(val_size >= needed, "corpus too small: val split has "
                                          << val_size << " tokens, needs at least block_size+1 = " << needed
                                          << "; use a larger corpus or a smaller --block-size");
    TokenSplit split;
    split.train.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(n));
    split.val.assign(tokens.begin() + static_cast<std::ptrdiff_t>(n), tokens.end());
    return split;
}

} // namespace gptbook
