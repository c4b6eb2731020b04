// Whole-file I/O. No tensor shapes here; see tensor.hpp for the shape legend.
#include "gptbook/core/file.hpp"

#include "gptbook/core/error.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace gptbook {

namespace {

/// Closes a FILE* on scope exit, so that every early throw still releases it.
struct FileCloser {
    std::FILE* f = nullptr;
    ~FileCloser() {
        if (f != nullptr) std::fclose(f);
    }
};

/// "PATH.tmp.<pid>.<counter>": unique per process and per call, in PATH's own directory so that
/// the final rename() stays on one file system (rename is atomic only there).
std::string temp_path_for(const std::string& path) {
    static std::atomic<unsigned long> counter{0};
    std::ostringstream os;
    os << path << ".tmp." << ::getpid() << "." << counter.fetch_add(1);
    return os.str();
}

/// Writes, flushes and fsyncs `bytes` into the new file `tmp`; returns "" or the failure reason.
std::string write_and_sync(const std::string& tmp, std::string_view bytes) {
    // "wbx": fail rather than reuse a file of the same name left by someone else.
    FileCloser file{std::fopen(tmp.c_str(), "wbx")};
    if (file.f == nullptr) {
        std::ostringstream os; // not operator+: GCC 12 gives a false -Wrestrict on it at -O3
        os << "cannot create " << tmp << ": " << std::strerror(errno);
        return os.str();
    }
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file.f) != bytes.size())
        return std::strerror(errno);
    if (std::fflush(file.f) != 0) return std::strerror(errno);
    // Without fsync the rename could reach the disk before the data, and a crash would leave a
    // complete-looking but empty file.
    if (::fsync(::fileno(file.f)) != 0) return std::strerror(errno);
    std::FILE* f = file.f;
    file.f = nullptr;
    if (std::fclose(f) != 0) return std::strerror(errno);
    return {};
}

} // namespace

std::string read_file(const std::string& path) {
    std::error_code ec;
    GPTBOOK_CHECK(!std::filesystem::is_directory(path, ec),
                  "cannot read " << path << ": it is a directory, expected a file; check the path");
    FileCloser file{std::fopen(path.c_str(), "rb")};
    GPTBOOK_CHECK(file.f != nullptr, "cannot open " << path << ": " << std::strerror(errno) << "; check the path");
    std::string bytes;
    char buffer[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.f)) > 0) bytes.append(buffer, n);
    GPTBOOK_CHECK(!std::ferror(file.f), "cannot read " << path << ": " << std::strerror(errno) << " after "
                                                       << bytes.size() << " bytes; check the disk and the path");
    return bytes;
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        GPTBOOK_CHECK(!ec, "cannot write " << path << ": cannot create directory " << parent.string() << ": "
                                           << ec.message() << "; check the path and its permissions");
    }
    const std::string tmp = temp_path_for(path);
    std::string reason = write_and_sync(tmp, bytes);
    // rename() replaces `path` in one step: readers see the old file or the new one. (The
    // directory entry itself is not fsync'ed: after a crash the old file may come back, which is
    // allowed; a half-written one cannot.)
    if (reason.empty() && std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::ostringstream os;
        os << "cannot rename " << tmp << " over it: " << std::strerror(errno);
        reason = os.str();
    }
    if (!reason.empty()) {
        std::error_code ignored;
        fs::remove(tmp, ignored); // never leave a half-written temporary behind
        GPTBOOK_FAIL("cannot write " << path << ": " << reason << "; check free disk space and permissions");
    }
}

} // namespace gptbook
