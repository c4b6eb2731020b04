// A scratch directory for one test, shared by the data tests.
#pragma once

#include <filesystem>
#include <random>
#include <sstream>
#include <string>

namespace gptbook::test {

/// A fresh directory under /tmp, removed with everything in it when the test ends.
struct TempDir {
    std::filesystem::path path;

    TempDir() {
        // random_device, not rand(): ctest runs test cases as parallel processes.
        std::ostringstream name;
        name << "gptbook-test-data-" << std::random_device{}();
        path = std::filesystem::temp_directory_path() / name.str();
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The path of `name` inside the directory.
    std::string file(const std::string& name) const { return (path / name).string(); }
};

} // namespace gptbook::test
