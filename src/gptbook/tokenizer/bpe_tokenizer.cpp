#include "gptbook/tokenizer/bpe_tokenizer.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/tokenizer/bpe_model.hpp"
#include "gptbook/tokenizer/utf8.hpp"
#include "gptbook/tokenizer/utf8_step.hpp"

#include <algorithm>

namespace gptbook {

namespace {

void finish_pairs(BpeTokenizer::Model& m, const std::string& what) {
    m.vocab.resize(256);
    for (int b = 0; b < 256; ++b) {
        m.vocab[static_cast<std::size_t>(b)] = std::string(1, static_cast<char>(b));
        m.byte_ids[static_cast<std::size_t>(b)] = b;
    }
    for (std::size_t i = 0; i < m.merges.size(); ++i) {
        const auto [a, b] = m.merges[i];
        const auto new_id = static_cast<int32_t>(256 + i);
        GPTBOOK_CHECK(a >= 0 && b >= 0 && a < new_id && b < new_id,
                      what << ": merge " << i << " is (" << a << ", " << b << "), but merge " << i
                           << " may only join ids that exist before it (0.." << new_id - 1
                           << "); is the merge list reordered or truncated?");
        const auto [it, inserted] =
            m.pair_ranks.try_emplace(bpe_pair_key(a, b), BpeRanked{static_cast<int32_t>(i), new_id});
        GPTBOOK_CHECK(inserted, what << ": merge " << i << " (" << a << ", " << b << ") repeats merge "
                                     << it->second.rank << "; each pair can be merged only once");
        m.vocab.push_back(m.vocab[static_cast<std::size_t>(a)] + m.vocab[static_cast<std::size_t>(b)]);
    }
    m.n_regular = static_cast<int32_t>(m.vocab.size());
}

void finish_bytes(BpeTokenizer::Model& m, const std::string& what) {
    GPTBOOK_CHECK(m.n_regular >= 256 && static_cast<std::size_t>(m.n_regular) <= m.vocab.size(),
                  what << ": " << m.n_regular << " regular tokens, expected at least the 256 bytes");
    std::fill(m.byte_ids.begin(), m.byte_ids.end(), -1);
    for (int32_t id = 0; id < m.n_regular; ++id) {
        const std::string& bytes = m.vocab[static_cast<std::size_t>(id)];
        GPTBOOK_CHECK(!bytes.empty(), what << ": token " << id << " is empty; every token has at least one byte");
        const auto [it, inserted] = m.byte_ranks.try_emplace(bytes, id);
        GPTBOOK_CHECK(inserted, what << ": tokens " << it->second << " and " << id
                                     << " have the same bytes; with merges by bytes each token must be unique");
        if (bytes.size() == 1) m.byte_ids[static_cast<unsigned char>(bytes[0])] = id;
    }
    for (int b = 0; b < 256; ++b) {
        GPTBOOK_CHECK(m.byte_ids[static_cast<std::size_t>(b)] >= 0,
                      what << ": no token for the single byte " << b << "; byte-level BPE needs all 256");
    }
    for (std::size_t i = 0; i < m.merges.size(); ++i) {
        const auto [a, b] = m.merges[i];
        GPTBOOK_CHECK(a >= 0 && b >= 0 && a < m.n_regular && b < m.n_regular,
                      what << ": merge " << i << " is (" << a << ", " << b << "), expected ids of regular tokens (0.."
                           << m.n_regular - 1 << ")");
    }
}

} // namespace

std::shared_ptr<const BpeTokenizer::Model> bpe_finish_model(std::unique_ptr<BpeTokenizer::Model> model,
                                                            const std::string& what) {
    BpeTokenizer::Model& m = *model;
    if (m.rule == MergeRule::pairs) {
        finish_pairs(m, what);
    } else {
        finish_bytes(m, what);
    }
    // Special tokens take exactly the ids after the regular ones, so ids stay dense.
    const auto n_special = static_cast<int32_t>(m.specials.size());
    m.vocab.resize(static_cast<std::size_t>(m.n_regular + n_special));
    std::vector<bool> taken(m.specials.size(), false);
    for (const auto& [text, id] : m.specials) {
        GPTBOOK_CHECK(!text.empty(),
                      what << ": a special token is the empty string; expected text such as \"<|endoftext|>\"");
        GPTBOOK_CHECK(!utf8_find_problem(text),
                      what << ": a special token is not valid UTF-8; special tokens are text");
        GPTBOOK_CHECK(id >= m.n_regular && id < m.n_regular + n_special &&
                          !taken[static_cast<std::size_t>(id - m.n_regular)],
                      what << ": special token \"" << text << "\" has id " << id << "; the " << n_special
                           << " special tokens must have distinct ids " << m.n_regular << ".."
                           << m.n_regular + n_special - 1 << ", right after the " << m.n_regular << " regular tokens");
        taken[static_cast<std::size_t>(id - m.n_regular)] = true;
        m.vocab[static_cast<std::size_t>(id)] = text;
    }
    return std::shared_ptr<const BpeTokenizer::Model>(std::move(model));
}

BpeTokenizer::BpeTokenizer(std::shared_ptr<const Model> model)
    : model_(std::move(model)), pretokenizer_(model_->pattern) {}

BpeTokenizer BpeTokenizer::from_merges(const std::vector<Merge>& merges, BpePattern pattern,
                                       const std::vector<std::string>& special_tokens) {
    auto m = std::make_unique<Model>();
    m->pattern = pattern;
    m->rule = MergeRule::pairs;
    m->merges = merges;
    const auto first_special = static_cast<int32_t>(256 + merges.size());
    for (std::size_t k = 0; k < special_tokens.size(); ++k) {
        const auto [it, inserted] = m->specials.try_emplace(special_tokens[k], first_special + static_cast<int32_t>(k));
        GPTBOOK_CHECK(inserted, "BpeTokenizer: special token \"" << special_tokens[k]
                                                                 << "\" is listed twice; give each special token once");
    }
    return BpeTokenizer(bpe_finish_model(std::move(m), "BpeTokenizer::from_merges"));
}

const std::string& BpeTokenizer::token_bytes(int32_t id) const {
    GPTBOOK_CHECK(id >= 0 && id < vocab_size(), "token_bytes: token id "
                                                    << id << " is out of range; the vocabulary has " << vocab_size()
                                                    << " ids (0.." << vocab_size() - 1
                                                    << "); was it made by another tokenizer or model?");
    return model_->vocab[static_cast<std::size_t>(id)];
}

int BpeTokenizer::vocab_size() const { return static_cast<int>(model_->vocab.size()); }

const std::vector<BpeTokenizer::Merge>& BpeTokenizer::merges() const { return model_->merges; }

MergeRule BpeTokenizer::merge_rule() const { return model_->rule; }

const std::map<std::string, int32_t>& BpeTokenizer::special_tokens() const { return model_->specials; }

std::optional<int32_t> BpeTokenizer::special_id(const std::string& text) const {
    const auto it = model_->specials.find(text);
    if (it == model_->specials.end()) return std::nullopt;
    return it->second;
}

BpeTokenizer BpeTokenizer::with_special_tokens(const std::vector<std::string>& specials) const {
    // The model is immutable and shared: build a new one from the same merges (and, for GPT-2's
    // files, the same regular vocabulary), then let bpe_finish_model() check the new tokens.
    const Model& old = *model_;
    auto m = std::make_unique<Model>();
    m->pattern = old.pattern;
    m->rule = old.rule;
    m->merges = old.merges;
    m->specials = old.specials;
    if (old.rule == MergeRule::bytes) {
        m->vocab.assign(old.vocab.begin(), old.vocab.begin() + old.n_regular);
        m->n_regular = old.n_regular;
    }
    auto next_id = static_cast<int32_t>(old.vocab.size());
    for (const std::string& text : specials) {
        if (m->specials.try_emplace(text, next_id).second) ++next_id;
    }
    return BpeTokenizer(bpe_finish_model(std::move(m), "BpeTokenizer::with_special_tokens"));
}

bool BpeTokenizer::operator==(const BpeTokenizer& other) const {
    const Model& a = *model_;
    const Model& b = *other.model_;
    return a.pattern == b.pattern && a.rule == b.rule && a.vocab == b.vocab && a.n_regular == b.n_regular &&
           a.merges == b.merges && a.specials == b.specials;
}

std::string BpeTokenizer::decode_bytes(const Tokens& ids) const {
    std::size_t total = 0;
    for (std::size_t n = 0; n < ids.size(); ++n) {
        GPTBOOK_CHECK(ids[n] >= 0 && ids[n] < vocab_size(),
                      "decode: token id " << ids[n] << " at position " << n << " is out of range; the vocabulary has "
                                          << vocab_size() << " ids (0.." << vocab_size() - 1
                                          << "); were the ids made by another tokenizer or model?");
        total += model_->vocab[static_cast<std::size_t>(ids[n])].size();
    }
    std::string out;
    out.reserve(total);
    for (const int32_t id : ids) out.append(model_->vocab[static_cast<std::size_t>(id)]);
    return out;
}

std::string BpeTokenizer::decode(const Tokens& ids) const { return utf8_replace_invalid(decode_bytes(ids)); }

std::string utf8_replace_invalid(std::string_view bytes, bool keep_incomplete_tail, std::size_t* tail_length) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    out.reserve(bytes.size());
    if (tail_length != nullptr) *tail_length = 0;
    std::size_t i = 0;
    while (i < bytes.size()) {
        const Utf8Step step = utf8_step(bytes, i);
        if (step.kind == Utf8Step::valid) {
            out.append(bytes.substr(i, step.length));
        } else if (step.kind == Utf8Step::truncated && keep_incomplete_tail) {
            if (tail_length != nullptr) *tail_length = step.length;
        } else {
            out.append(replacement);
        }
        i += step.length;
    }
    return out;
}

} // namespace gptbook
