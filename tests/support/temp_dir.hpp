/**
 * @file
 * @brief A fresh directory under the system temp directory, removed with everything in it.
 */
#pragma once

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace gptbook::test {

/// Creates /tmp/gptbook_test_<pid>_<counter>_<clock> on construction, removes it on destruction.
struct TempDir {
    std::filesystem::path path;

    TempDir() {
        static int counter = 0;
        std::ostringstream name;
        name << "gptbook_test_" << ::getpid() << "_" << counter++ << "_"
             << std::chrono::steady_clock::now().time_since_epoch().count();
        path = std::filesystem::temp_directory_path() / name.str();
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The directory itself, as a string.
    std::string str() const { return path.string(); }

    /// The path of `name` inside the directory.
    std::string file(const std::string& name) const { return (path / name).string(); }

    /// The names of the entries directly inside `dir` (default: the directory itself), sorted.
    std::vector<std::string> list(const std::filesystem::path& dir = {}) const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? path : dir))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

} // namespace gptbook::test
