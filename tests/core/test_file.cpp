// Tests for src/gptbook/core/file.cpp: binary reads and atomic writes.
#include "gptbook/core/file.hpp"

#include "gptbook/core/error.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace gptbook;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// Every byte value, NULs and CR/LF included: a text-mode read or write would change some.
std::string all_bytes() {
    std::string s;
    for (int rep = 0; rep < 3; ++rep)
        for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
    s.append("\r\n\n\r");
    return s;
}

} // namespace

TEST_CASE("write_file_atomic then read_file returns the same bytes", "[ch06][core][file]") {
    test::TempDir dir;
    const std::string path = dir.file("data.bin");
    const std::string bytes = all_bytes();
    write_file_atomic(path, bytes);
    CHECK(fs::file_size(path) == bytes.size());
    CHECK(read_file(path) == bytes);

    const std::string empty_path = dir.file("empty.bin");
    write_file_atomic(empty_path, "");
    CHECK(fs::exists(empty_path));
    CHECK(read_file(empty_path).empty());

    // A file bigger than read_file's 64 KiB buffer comes back whole.
    std::string big(200000, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 2654435761u >> 24);
    write_file_atomic(dir.file("big.bin"), big);
    CHECK(read_file(dir.file("big.bin")) == big);
    // Only the three files: no temporary left behind.
    CHECK(dir.list() == std::vector<std::string>{"big.bin", "data.bin", "empty.bin"});
}

TEST_CASE("write_file_atomic replaces an existing file, also by a shorter one", "[ch06][core][file]") {
    test::TempDir dir;
    const std::string path = dir.file("model.safetensors");
    write_file_atomic(path, std::string(1000, 'a'));
    write_file_atomic(path, "short");
    CHECK(read_file(path) == "short");
    CHECK(fs::file_size(path) == 5);
    CHECK(dir.list() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("write_file_atomic creates missing parent directories", "[ch06][core][file]") {
    test::TempDir dir;
    const std::string path = dir.file("runs/new/deep/config.json");
    write_file_atomic(path, "{}");
    CHECK(read_file(path) == "{}");
}

TEST_CASE("write_file_atomic into an impossible location throws and leaves no temporary file", "[ch06][core][file]") {
    test::TempDir dir;
    // A parent that is a regular file: no directory can be created there (even as root).
    const std::string blocker = dir.file("not_a_dir");
    write_file_atomic(blocker, "x");
    const std::string path = dir.file("not_a_dir/model.safetensors");
    CHECK_THROWS_AS(write_file_atomic(path, "data"), Error);
    CHECK_THROWS_WITH(write_file_atomic(path, "data"),
                      Contains("cannot write") && Contains(path) && Contains("not_a_dir"));
    CHECK(dir.list() == std::vector<std::string>{"not_a_dir"});
    CHECK(read_file(blocker) == "x");

    // A target that is an existing directory: the temporary is written, then rename() fails.
    // The temporary must be removed and the directory left as it was.
    const std::string target_dir = dir.file("a_dir");
    fs::create_directories(fs::path(target_dir) / "inside");
    CHECK_THROWS_WITH(write_file_atomic(target_dir, "data"),
                      Contains("cannot write") && Contains(target_dir) && Contains("rename"));
    CHECK(dir.list() == std::vector<std::string>{"a_dir", "not_a_dir"});
    CHECK(dir.list(target_dir) == std::vector<std::string>{"inside"});
}

TEST_CASE("read_file on a missing file or a directory says which path and why", "[ch06][core][file]") {
    test::TempDir dir;
    const std::string missing = dir.file("nope.safetensors");
    CHECK_THROWS_AS(read_file(missing), Error);
    CHECK_THROWS_WITH(read_file(missing), Contains("cannot open") && Contains(missing) &&
                                              Contains("No such file or directory") && Contains("check the path"));
    CHECK_THROWS_WITH(read_file(dir.path.string()), Contains(dir.path.string()) && Contains("directory"));
}
