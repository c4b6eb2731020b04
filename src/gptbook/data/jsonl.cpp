#include "gptbook/data/jsonl.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"

#include <filesystem>

namespace gptbook {

std::string jsonl_excerpt(std::string_view text) {
    constexpr std::size_t shown = 60;
    std::string out(text.substr(0, shown));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return text.size() > shown ? out + "..." : out;
}

std::size_t for_each_jsonl_object(const std::string& path, std::string_view expected,
                                  const std::function<void(const nlohmann::json&, const std::string&)>& row) {
    GPTBOOK_CHECK(std::filesystem::is_regular_file(path),
                  path << " not found; expected a JSON Lines file with " << expected << ". Check the path");
    const std::string bytes = read_file(path);
    std::size_t line_no = 0, objects = 0;
    for (std::size_t begin = 0; begin < bytes.size();) {
        std::size_t end = bytes.find('\n', begin);
        if (end == std::string::npos) end = bytes.size();
        std::string_view line(bytes.data() + begin, end - begin);
        begin = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1); // written on Windows
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        const std::string where = path + " line " + std::to_string(line_no);
        nlohmann::json obj;
        try {
            obj = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error&) {
            GPTBOOK_FAIL(where << ": not valid JSON (or not UTF-8): " << jsonl_excerpt(line) << "; expected "
                               << expected << "; fix or remove the line");
        }
        GPTBOOK_CHECK(obj.is_object(), where << ": found a JSON " << obj.type_name() << ", expected " << expected
                                             << "; fix or remove the line");
        row(obj, where);
        ++objects;
    }
    GPTBOOK_CHECK(objects > 0, path << ": no examples (" << (bytes.empty() ? "the file is empty" : "only empty lines")
                                    << "); expected " << expected);
    return objects;
}

std::string jsonl_string_field(const nlohmann::json& obj, const char* key, const std::string& where,
                               std::string_view expected) {
    GPTBOOK_CHECK(obj.contains(key), where << ": field \"" << key << "\" is missing; expected " << expected
                                           << "; add it or remove the line");
    const auto& value = obj.at(key);
    GPTBOOK_CHECK(value.is_string(), where << ": field \"" << key << "\" is "
                                           << (value.is_null() ? std::string("null")
                                                               : std::string("the ") + value.type_name() + " " +
                                                                     jsonl_excerpt(value.dump()))
                                           << ", expected a string; write it in quotes");
    return value.get<std::string>();
}

} // namespace gptbook
