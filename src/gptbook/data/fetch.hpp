/**
 * @file
 * @brief The data manifest, and fetching a named corpus to a verified local copy.
 *
 * data/manifest.json lists the corpora gptbook knows (name, file, URL, size, SHA-256, license);
 * it is compiled into the library, so the installed `gptbook` finds it from any directory. The
 * default corpus, tiny Shakespeare, ships with the source in data/ (`"shipped": true`), so the
 * main job needs no network. Any other corpus is looked for in three places, in order: the data
 * directory (a copy fetched before), the mirror directory named by GPTBOOK_DATA_MIRROR (offline
 * machines, CI), and its URL (downloaded with curl). Whatever the source, the size and SHA-256 must match the manifest:
 * a model trained on a silently different file would not reproduce the book's numbers.
 */
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gptbook {

/// One corpus of the data manifest.
struct CorpusEntry {
    std::string name;        ///< what users type: "shakespeare"
    std::string file;        ///< file name in the data directory: "tinyshakespeare.txt"
    std::string url;         ///< where to download it
    uint64_t bytes = 0;      ///< exact size
    std::string sha256;      ///< 64 lowercase hex digits
    std::string license;     ///< the terms the text is under
    std::string description; ///< one line for `gptbook data list` (may be empty)
    bool shipped = false;    ///< the file ships with the source, in data/: nothing to download
};

/// "data" and the source tree's data/ directory (compiled in), where shipped corpora live.
std::vector<std::string> default_shipped_dirs();

/// Where to look for a corpus besides the data directory.
struct FetchOptions {
    std::string mirror_dir;     ///< a directory holding verified copies; empty: none
    bool allow_download = true; ///< false: fail instead of running curl (tests, offline use)
    /// Where a shipped corpus is found: "data" (the working directory is the repository root, as
    /// in the book) and the source tree's data/ as it was when the library was built.
    std::vector<std::string> shipped_dirs = default_shipped_dirs();
};

/// The text of data/manifest.json as it was when the library was built.
std::string_view embedded_manifest_json();

/**
 * @brief Parses and validates a manifest {"corpora": [{name, file, url, bytes, sha256, license}]}.
 * @param[in] j    the parsed JSON of a manifest file
 * @param[in] what names the manifest in error messages
 */
std::vector<CorpusEntry> parse_manifest(const nlohmann::json& j, const std::string& what);

/// The manifest compiled into the library (embedded_manifest_json(), parsed once).
const std::vector<CorpusEntry>& builtin_manifest();

/// The entry called `name`; throws gptbook::Error listing the known names otherwise.
const CorpusEntry& find_corpus(const std::vector<CorpusEntry>& manifest, const std::string& name);

/// Where fetched corpora go: $GPTBOOK_DATA_DIR if set, else "data/cache" (relative to the
/// working directory, git-ignored).
std::string default_data_dir();

/// mirror_dir from $GPTBOOK_DATA_MIRROR (empty if unset), downloads allowed.
FetchOptions default_fetch_options();

/// Why the file at `path` is not the corpus `entry` describes ("has 12 bytes, expected 1115394"),
/// or std::nullopt when its size and SHA-256 match.
std::optional<std::string> corpus_file_problem(const CorpusEntry& entry, const std::string& path);

/**
 * @brief A verified local copy of a corpus: data_dir/\<file\>, fetched if needed.
 * @param[in] entry    the corpus
 * @param[in] data_dir where verified copies are kept; created if missing
 * @param[in] options  the mirror and whether to download
 * @return the path of a file whose size and SHA-256 match the entry: data_dir/\<file\>, or a
 *         shipped copy
 *
 * A shipped corpus is used where it ships (the first of options.shipped_dirs whose copy
 * verifies), without a copy. Otherwise, in order: an existing data_dir/\<file\> that verifies; else a copy from options.mirror_dir, verified
 * before it is written; else `curl -fsSL` into a temporary file, verified, then renamed. A copy in
 * data_dir that does not verify is replaced. Throws gptbook::Error on a checksum or size mismatch
 * in the mirror or the download, on a failed download, and when there is nowhere left to look.
 */
std::string fetch_corpus(const CorpusEntry& entry, const std::string& data_dir, const FetchOptions& options);

/// fetch_corpus() for a name of the built-in manifest, with default_fetch_options().
std::string fetch_corpus(const std::string& name, const std::string& data_dir);

/**
 * @brief What `--data X` means: a path to an existing file is used as it is; anything else must be
 *        a manifest name, fetched with fetch_corpus().
 * @return the path of the corpus file
 */
std::string resolve_corpus(const std::string& name_or_path, const std::string& data_dir,
                           const std::vector<CorpusEntry>& manifest, const FetchOptions& options);

/// resolve_corpus() with the built-in manifest and default_fetch_options().
std::string resolve_corpus(const std::string& name_or_path, const std::string& data_dir);

} // namespace gptbook
