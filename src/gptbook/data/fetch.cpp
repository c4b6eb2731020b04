#include "gptbook/data/fetch.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/sha256.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

namespace gptbook {

namespace fs = std::filesystem;

namespace {

std::string known_names(const std::vector<CorpusEntry>& manifest) {
    std::string out;
    for (const auto& e : manifest) out.append(out.empty() ? "" : ", ").append(e.name);
    return out.empty() ? "none" : out;
}

std::string field_string(const nlohmann::json& e, const char* key, const std::string& where, bool required) {
    if (!e.contains(key) && !required) return {};
    GPTBOOK_CHECK(e.contains(key) && e.at(key).is_string(),
                  where << ": field \"" << key << "\" is missing or not a string");
    return e.at(key).get<std::string>();
}

bool is_sha256_hex(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Single quotes for /bin/sh: nothing inside is special except the quote itself.
std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out.append("'\\''");
        else out.push_back(c);
    }
    return out.append("'");
}

std::optional<std::string> bytes_problem(const CorpusEntry& entry, std::string_view bytes) {
    std::ostringstream why;
    if (bytes.size() != entry.bytes) {
        why << "has " << bytes.size() << " bytes, expected " << entry.bytes;
        return why.str();
    }
    const std::string sha = sha256_hex(bytes);
    if (sha != entry.sha256) {
        why << "has SHA-256 " << sha << ", expected " << entry.sha256 << " (checksum mismatch)";
        return why.str();
    }
    return std::nullopt;
}

std::string download(const CorpusEntry& entry, const fs::path& target) {
    fs::path part = target;
    part += ".part";
    std::ostringstream cmd;
    cmd << "curl -fsSL --retry 2 -o " << shell_quote(part.string()) << " " << shell_quote(entry.url);
    const int status = std::system(cmd.str().c_str());
    const int code = status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code != 0) {
        std::error_code ec;
        fs::remove(part, ec);
        GPTBOOK_FAIL("corpus " << entry.name << ": downloading " << entry.url << " failed (curl exit status " << code
                               << (code == 127 ? ", curl not found" : "") << "); check the network, or put a copy of "
                               << entry.file << " in a directory and set GPTBOOK_DATA_MIRROR to it");
    }
    if (const auto problem = corpus_file_problem(entry, part.string())) {
        std::error_code ec;
        fs::remove(part, ec);
        GPTBOOK_FAIL("corpus " << entry.name << ": the download from " << entry.url << " " << *problem
                               << "; the file at the URL changed or the download was corrupted. Retry, "
                                  "or fix the manifest entry if the source changed on purpose");
    }
    std::error_code ec;
    fs::rename(part, target, ec);
    GPTBOOK_CHECK(!ec, "corpus " << entry.name << ": cannot move the download to " << target.string() << ": "
                                 << ec.message());
    return target.string();
}

} // namespace

std::vector<CorpusEntry> parse_manifest(const nlohmann::json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_object() && j.contains("corpora") && j.at("corpora").is_array(),
                  what << ": expected a JSON object with an array \"corpora\"");
    std::vector<CorpusEntry> out;
    for (const auto& e : j.at("corpora")) {
        std::ostringstream where;
        where << what << ", corpus #" << out.size();
        GPTBOOK_CHECK(e.is_object(), where.str() << ": expected an object, found " << e.type_name());
        CorpusEntry c;
        c.name = field_string(e, "name", where.str(), true);
        where << " (" << c.name << ")";
        c.file = field_string(e, "file", where.str(), true);
        c.url = field_string(e, "url", where.str(), true);
        c.sha256 = field_string(e, "sha256", where.str(), true);
        c.license = field_string(e, "license", where.str(), true);
        c.description = field_string(e, "description", where.str(), false);
        if (e.contains("shipped")) {
            GPTBOOK_CHECK(e.at("shipped").is_boolean(), where.str() << ": field \"shipped\" must be true or false");
            c.shipped = e.at("shipped").get<bool>();
        }
        GPTBOOK_CHECK(e.contains("bytes") && e.at("bytes").is_number_integer() && e.at("bytes").get<int64_t>() > 0,
                      where.str() << ": field \"bytes\" must be the file size, a positive integer");
        c.bytes = e.at("bytes").get<uint64_t>();
        GPTBOOK_CHECK(is_sha256_hex(c.sha256), where.str()
                                                   << ": sha256 \"" << c.sha256 << "\" is not 64 lowercase hex digits");
        // A bare file name, so that an entry cannot write outside the data directory.
        GPTBOOK_CHECK(!c.file.empty() && c.file.find('/') == std::string::npos && c.file != "." && c.file != "..",
                      where.str() << ": file \"" << c.file << "\" must be a plain file name without '/'");
        for (const auto& seen : out) {
            GPTBOOK_CHECK(seen.name != c.name, where.str() << ": the name " << c.name << " appears twice");
        }
        out.push_back(std::move(c));
    }
    return out;
}

const std::vector<CorpusEntry>& builtin_manifest() {
    static const std::vector<CorpusEntry> manifest =
        parse_manifest(nlohmann::json::parse(embedded_manifest_json()), "built-in data/manifest.json");
    return manifest;
}

const CorpusEntry& find_corpus(const std::vector<CorpusEntry>& manifest, const std::string& name) {
    for (const auto& e : manifest) {
        if (e.name == name) return e;
    }
    GPTBOOK_FAIL("unknown corpus \"" << name << "\"; known corpora: " << known_names(manifest)
                                     << " (a path to a UTF-8 text file also works)");
}

std::string default_data_dir() {
    const char* env = std::getenv("GPTBOOK_DATA_DIR");
    return env != nullptr && *env != '\0' ? std::string(env) : std::string("data/cache");
}

FetchOptions default_fetch_options() {
    FetchOptions options;
    if (const char* env = std::getenv("GPTBOOK_DATA_MIRROR")) options.mirror_dir = env;
    return options;
}

std::optional<std::string> corpus_file_problem(const CorpusEntry& entry, const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    std::ostringstream why;
    if (ec) {
        why << "cannot be read (" << ec.message() << ")";
        return why.str();
    }
    if (size != entry.bytes) {
        why << "has " << size << " bytes, expected " << entry.bytes;
        return why.str();
    }
    const std::string sha = sha256_file_hex(path);
    if (sha != entry.sha256) {
        why << "has SHA-256 " << sha << ", expected " << entry.sha256 << " (checksum mismatch)";
        return why.str();
    }
    return std::nullopt;
}

std::vector<std::string> default_shipped_dirs() { return {"data", GPTBOOK_SHIPPED_DATA_DIR}; }

std::string fetch_corpus(const CorpusEntry& entry, const std::string& data_dir, const FetchOptions& options) {
    if (entry.shipped) {
        std::ostringstream seen;
        for (const auto& dir : options.shipped_dirs) {
            const fs::path shipped = fs::path(dir) / entry.file;
            if (!fs::is_regular_file(shipped)) continue;
            const auto problem = corpus_file_problem(entry, shipped.string());
            if (!problem) return shipped.string();
            seen << "; " << shipped.string() << " " << *problem;
        }
        // A damaged checkout: say so, then fall through to the other places, which may still work.
        if (!seen.str().empty())
            std::fprintf(stderr,
                         "gptbook: corpus %s: the copy that ships with gptbook is damaged%s "
                         "(restore it with `git checkout data/%s`)\n",
                         entry.name.c_str(), seen.str().c_str(), entry.file.c_str());
    }
    const fs::path target = fs::path(data_dir) / entry.file;
    std::optional<std::string> local_problem;
    if (fs::exists(target)) {
        local_problem = corpus_file_problem(entry, target.string());
        if (!local_problem) return target.string();
    }
    if (!options.mirror_dir.empty()) {
        const fs::path mirrored = fs::path(options.mirror_dir) / entry.file;
        if (fs::is_regular_file(mirrored)) {
            const std::string bytes = read_file(mirrored.string()); // verify exactly what gets written
            const auto problem = bytes_problem(entry, bytes);
            GPTBOOK_CHECK(!problem, "corpus " << entry.name << ": the mirror copy " << mirrored.string() << " "
                                              << *problem << "; replace it with the file from " << entry.url
                                              << ", or unset GPTBOOK_DATA_MIRROR");
            write_file_atomic(target.string(), bytes);
            return target.string();
        }
    }
    if (!options.allow_download) {
        std::ostringstream where;
        where << target.string();
        if (local_problem) where << " (which " << *local_problem << ")";
        if (!options.mirror_dir.empty()) where << " nor in the mirror " << options.mirror_dir;
        GPTBOOK_FAIL("corpus " << entry.name << ": no verified copy in " << where.str()
                               << ", and downloading is off; put a copy of " << entry.file << " from " << entry.url
                               << " there");
    }
    std::error_code ec;
    fs::create_directories(fs::path(data_dir), ec);
    GPTBOOK_CHECK(!ec, "cannot create the data directory " << data_dir << ": " << ec.message());
    return download(entry, target);
}

std::string fetch_corpus(const std::string& name, const std::string& data_dir) {
    return fetch_corpus(find_corpus(builtin_manifest(), name), data_dir, default_fetch_options());
}

std::string resolve_corpus(const std::string& name_or_path, const std::string& data_dir,
                           const std::vector<CorpusEntry>& manifest, const FetchOptions& options) {
    if (fs::is_regular_file(name_or_path)) return name_or_path;
    for (const auto& e : manifest) {
        if (e.name == name_or_path) return fetch_corpus(e, data_dir, options);
    }
    GPTBOOK_FAIL("corpus \"" << name_or_path << "\" is neither an existing file nor a known corpus name (known: "
                             << known_names(manifest) << "); pass the path of a UTF-8 text file or one of the names");
}

std::string resolve_corpus(const std::string& name_or_path, const std::string& data_dir) {
    return resolve_corpus(name_or_path, data_dir, builtin_manifest(), default_fetch_options());
}

} // namespace gptbook
