/**
 * @file
 * @brief JSON Lines files (one JSON object per line), read with errors that name the file and the
 *        line: the format of the labelled texts (chapter 11) and the preference pairs (chapter 12).
 */
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gptbook {

/**
 * @brief Calls `row` with each object of a JSON Lines file, in file order.
 * @param[in] path     the file; empty and blank lines are skipped, a line may end in "\r\n"
 * @param[in] expected what a line should be, for the error messages ("one JSON object {\"text\": ...}
 *                     per line")
 * @param[in] row      called with the object and "PATH line K" (for the caller's own errors)
 * @return the number of objects read
 *
 * Throws gptbook::Error, naming the file and the line, when the file is missing, a line is not
 * valid JSON or is not an object; and when there is no object at all.
 */
std::size_t for_each_jsonl_object(const std::string& path, std::string_view expected,
                                  const std::function<void(const nlohmann::json&, const std::string&)>& row);

/**
 * @brief A string field of one line's object.
 * @param[in] obj, key the object and the field's name
 * @param[in] where    "PATH line K", as for_each_jsonl_object gives it
 * @param[in] expected what a line should be, for the error messages
 * Throws gptbook::Error when the field is missing or is not a string.
 */
std::string jsonl_string_field(const nlohmann::json& obj, const char* key, const std::string& where,
                               std::string_view expected);

/// The start of a bad line or value for an error message: 60 characters at most, control
/// characters shown as spaces, "..." when cut. Enough to find it, never a whole e-mail.
std::string jsonl_excerpt(std::string_view text);

} // namespace gptbook
