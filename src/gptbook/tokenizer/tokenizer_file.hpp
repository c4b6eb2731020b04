/**
 * @file
 * @brief Reading a tokenizer JSON file, shared by every tokenizer's load().
 */
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gptbook {

/// A tokenizer file's parsed JSON, and the name errors give it.
struct TokenizerFile {
    nlohmann::json json; ///< the whole document
    std::string what;    ///< "tokenizer file PATH", for error messages
};

/// Reads and parses `path`; a missing file or invalid JSON is a gptbook::Error naming the path.
TokenizerFile read_tokenizer_file(const std::string& path);

} // namespace gptbook
