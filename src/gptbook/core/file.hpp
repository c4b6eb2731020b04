/**
 * @file
 * @brief Whole-file reads and atomic whole-file writes.
 */
#pragma once

#include <string>
#include <string_view>

namespace gptbook {

/// Reads a whole file as bytes. Throws gptbook::Error naming the path and the OS reason
/// ("cannot open runs/x/model.safetensors: No such file or directory").
std::string read_file(const std::string& path);

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed and
/// fsync'ed, then renamed over `path`. A crash leaves the old file or the new one, never a half-
/// written file. Creates missing parent directories. Throws gptbook::Error on failure (and removes
/// the temporary file).
void write_file_atomic(const std::string& path, std::string_view bytes);

} // namespace gptbook
