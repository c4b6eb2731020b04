// BpeTokenizer files: our JSON (save/load) and GPT-2's own encoder.json + vocab.bpe.
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/tokenizer/bpe_model.hpp"
#include "gptbook/tokenizer/bpe_tokenizer.hpp"
#include "gptbook/tokenizer/tokenizer_file.hpp"
#include "gptbook/tokenizer/utf8.hpp"
#include "gptbook/tokenizer/utf8_step.hpp"

#include <limits>
#include <nlohmann/json.hpp>

namespace gptbook {

using nlohmann::json;

const std::array<char32_t, 256>& gpt2_bytes_to_unicode() {
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
        }
        return t;
    }();
    return table;
}

namespace {

std::string to_gpt2_unicode(std::string_view bytes) {
    std::string out;
    for (const char c : bytes) utf8_append(out, gpt2_bytes_to_unicode()[static_cast<unsigned char>(c)]);
    return out;
}

// The bytes a token string in GPT-2's alphabet stands for, or nullopt with the offending
// character in `bad`. (Loops over 50k tokens: no message is built unless one is needed.)
std::optional<std::string> from_gpt2_unicode(std::string_view text, std::string& bad) {
    static const std::vector<int> byte_of = [] {
        std::vector<int> inverse(512, -1);
        for (int b = 0; b < 256; ++b) inverse[gpt2_bytes_to_unicode()[static_cast<std::size_t>(b)]] = b;
        return inverse;
    }();
    static constexpr unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    std::string bytes;
    for (std::size_t i = 0; i < text.size();) {
        const Utf8Step step = utf8_step(text, i);
        if (step.kind != Utf8Step::valid) {
            bad = "invalid UTF-8";
            return std::nullopt;
        }
        char32_t cp = static_cast<unsigned char>(text[i]) & lead_mask[step.length];
        for (std::size_t k = 1; k < step.length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        i += step.length;
        if (cp >= byte_of.size() || byte_of[cp] < 0) {
            bad = describe_char(cp);
            return std::nullopt;
        }
        bytes.push_back(static_cast<char>(byte_of[cp]));
    }
    return bytes;
}

// The message for a token string outside GPT-2's alphabet.
constexpr const char* alphabet_hint =
    ", which is not in GPT-2's byte-to-unicode alphabet; token strings must use it (' ' is written 'Ġ', '\\n' is 'Ċ')";

const json& field(const json& j, const char* name, const std::string& what) {
    GPTBOOK_CHECK(j.contains(name),
                  what << ": missing field \"" << name << "\"; expected a tokenizer.json written by gptbook");
    return j.at(name);
}

int32_t as_id(const json& v, const std::string& what) {
    GPTBOOK_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 &&
                      v.get<int64_t>() <= std::numeric_limits<int32_t>::max(),
                  what << " is " << v.dump() << ", expected a token id (an integer >= 0)");
    return static_cast<int32_t>(v.get<int64_t>());
}

std::vector<BpeTokenizer::Merge> read_merges(const json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_array(),
                  what << ": field \"merges\" is a " << j.type_name() << ", expected an array of [a, b] pairs");
    std::vector<BpeTokenizer::Merge> merges;
    merges.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        const json& m = j[i];
        auto is_id = [](const json& v) {
            return v.is_number_integer() && v.get<int64_t>() >= 0 &&
                   v.get<int64_t>() <= std::numeric_limits<int32_t>::max();
        };
        GPTBOOK_CHECK(m.is_array() && m.size() == 2 && is_id(m[0]) && is_id(m[1]),
                      what << ": merge " << i << " is " << m.dump() << ", expected a pair [a, b] of token ids");
        merges.emplace_back(m[0].get<int32_t>(), m[1].get<int32_t>());
    }
    return merges;
}

std::map<std::string, int32_t> read_specials(const json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_object(), what << ": field \"special_tokens\" is a " << j.type_name()
                                      << ", expected an object {\"<|endoftext|>\": id, ...}");
    std::map<std::string, int32_t> specials;
    for (const auto& [text, id] : j.items())
        specials.emplace(text, as_id(id, what + ": special token \"" + text + "\""));
    return specials;
}

} // namespace

json BpeTokenizer::to_json() const {
    const Model& m = *model_;
    json merges = json::array();
    for (const auto& [a, b] : m.merges) merges.push_back({a, b});
    json j = {{"type", "bpe"},
              {"pattern", bpe_pattern_name(m.pattern)},
              {"merge_rule", m.rule == MergeRule::pairs ? "pairs" : "bytes"},
              {"merges", std::move(merges)},
              {"special_tokens", m.specials}};
    if (m.rule == MergeRule::bytes) {
        json vocab = json::array();
        for (int32_t id = 0; id < m.n_regular; ++id)
            vocab.push_back(to_gpt2_unicode(m.vocab[static_cast<std::size_t>(id)]));
        j["vocab"] = std::move(vocab);
    }
    return j;
}

BpeTokenizer BpeTokenizer::from_json(const json& j, const std::string& what) {
    GPTBOOK_CHECK(j.is_object(), what << ": expected a JSON object {\"type\": \"bpe\", ...}, found " << j.type_name());
    const json& type = field(j, "type", what);
    GPTBOOK_CHECK(type.is_string() && type.get<std::string>() == "bpe",
                  what << ": tokenizer type is " << type.dump()
                       << ", expected \"bpe\"; load it as that type of tokenizer instead");
    const json& pattern = field(j, "pattern", what);
    GPTBOOK_CHECK(pattern.is_string(),
                  what << ": field \"pattern\" is a " << pattern.type_name() << ", expected \"gpt2\" or \"cl100k\"");
    auto m = std::make_unique<Model>();
    m->pattern = bpe_pattern_from_name(pattern.get<std::string>(), what);
    const std::string rule =
        j.contains("merge_rule") && j.at("merge_rule").is_string() ? j.at("merge_rule").get<std::string>() : "pairs";
    GPTBOOK_CHECK(rule == "pairs" || rule == "bytes",
                  what << ": field \"merge_rule\" is \"" << rule << "\", expected \"pairs\" or \"bytes\"");
    m->rule = rule == "pairs" ? MergeRule::pairs : MergeRule::bytes;
    m->merges = read_merges(field(j, "merges", what), what);
    m->specials = read_specials(field(j, "special_tokens", what), what);
    if (m->rule == MergeRule::bytes) {
        const json& vocab = field(j, "vocab", what);
        GPTBOOK_CHECK(vocab.is_array(),
                      what << ": field \"vocab\" is a " << vocab.type_name() << ", expected an array of token strings");
        std::string bad;
        for (std::size_t id = 0; id < vocab.size(); ++id) {
            GPTBOOK_CHECK(vocab[id].is_string(),
                          what << ": vocab entry " << id << " is a " << vocab[id].type_name() << ", expected a string");
            auto bytes = from_gpt2_unicode(vocab[id].get<std::string>(), bad);
            GPTBOOK_CHECK(bytes.has_value(), what << ": vocab entry " << id << " has " << bad << alphabet_hint);
            m->vocab.push_back(std::move(*bytes));
        }
        m->n_regular = static_cast<int32_t>(m->vocab.size());
    }
    return BpeTokenizer(bpe_finish_model(std::move(m), what));
}

void BpeTokenizer::save(const std::string& path) const {
    std::string text = to_json().dump(1);
    text.push_back('\n');
    write_file_atomic(path, text);
}

BpeTokenizer BpeTokenizer::load(const std::string& path) {
    const TokenizerFile f = read_tokenizer_file(path);
    return from_json(f.json, f.what);
}

namespace {

// encoder.json: {token string: id}. Fills the vocabulary (and `id_of`, bytes -> id) and the
// special token.
void read_gpt2_encoder(const std::string& path, BpeTokenizer::Model& m,
                       std::unordered_map<std::string, int32_t>& id_of) {
    std::ostringstream what_os;
    what_os << "GPT-2 encoder file " << path;
    const std::string what = what_os.str();
    json encoder;
    try {
        encoder = json::parse(read_file(path));
    } catch (const json::exception& e) {
        GPTBOOK_FAIL(what << " is not valid JSON (" << e.what() << "); expected GPT-2's encoder.json");
    }
    GPTBOOK_CHECK(encoder.is_object(), what << ": expected an object {token: id}, found " << encoder.type_name());
    std::string bad;
    for (const auto& [token, value] : encoder.items()) {
        GPTBOOK_CHECK(value.is_number_integer() && value.get<int64_t>() >= 0 &&
                          value.get<int64_t>() < static_cast<int64_t>(encoder.size()),
                      what << ": token \"" << token << "\" has id " << value.dump() << ", expected an integer 0.."
                           << encoder.size() - 1);
        const auto id = value.get<int32_t>();
        if (token == "<|endoftext|>") { // tiktoken keeps it out of the merges: a special token
            m.specials.emplace(token, id);
            continue;
        }
        auto bytes = from_gpt2_unicode(token, bad);
        GPTBOOK_CHECK(bytes.has_value(), what << ": token \"" << token << "\" has " << bad << alphabet_hint);
        if (m.vocab.size() <= static_cast<std::size_t>(id)) m.vocab.resize(static_cast<std::size_t>(id) + 1);
        m.vocab[static_cast<std::size_t>(id)] = *bytes;
        id_of.emplace(std::move(*bytes), id);
    }
    m.n_regular = static_cast<int32_t>(m.vocab.size());
    GPTBOOK_CHECK(id_of.size() == m.vocab.size(),
                  what << ": the regular tokens do not have the ids 0.." << m.vocab.size() - 1 << " each exactly once");
}

// vocab.bpe: "#version" then one merge "left right" per line, rank = line order.
void read_gpt2_merges(const std::string& path, BpeTokenizer::Model& m,
                      const std::unordered_map<std::string, int32_t>& id_of) {
    const std::string text = read_file(path);
    std::string bad;
    std::size_t pos = 0;
    for (std::size_t line_no = 1; pos < text.size(); ++line_no) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (line_no == 1 && line.rfind("#version", 0) == 0)) continue;
        const std::size_t space = line.find(' ');
        GPTBOOK_CHECK(space != std::string::npos && line.find(' ', space + 1) == std::string::npos,
                      "GPT-2 merges file " << path << ": line " << line_no << " is \"" << line
                                           << "\", expected two tokens separated by one space");
        const auto left = from_gpt2_unicode(std::string_view(line).substr(0, space), bad);
        const auto right = left ? from_gpt2_unicode(std::string_view(line).substr(space + 1), bad) : std::nullopt;
        GPTBOOK_CHECK(right.has_value(),
                      "GPT-2 merges file " << path << ": line " << line_no << " has " << bad << alphabet_hint);
        const auto a = id_of.find(*left), b = id_of.find(*right), ab = id_of.find(*left + *right);
        const auto rank = static_cast<int32_t>(256 + m.merges.size());
        // tiktoken checks the same: the id of a merged token is its merge rank.
        GPTBOOK_CHECK(a != id_of.end() && b != id_of.end() && ab != id_of.end() && ab->second == rank,
                      "GPT-2 merges file " << path << ": line " << line_no << " merges \"" << line
                                           << "\", which should create token " << rank
                                           << " of the encoder file, but the encoder "
                                           << (ab == id_of.end() ? "lacks it" : "gives it another id")
                                           << "; are the two files from the same model?");
        m.merges.emplace_back(a->second, b->second);
    }
    GPTBOOK_CHECK(static_cast<int32_t>(m.merges.size()) + 256 == m.n_regular,
                  "GPT-2 merges file " << path << " has " << m.merges.size() << " merges, but the encoder has "
                                       << m.n_regular << " regular tokens, which needs 256 bytes + "
                                       << m.n_regular - 256 << " merges");
}

} // namespace

BpeTokenizer BpeTokenizer::from_gpt2_files(const std::string& encoder_json_path, const std::string& vocab_bpe_path) {
    auto m = std::make_unique<Model>();
    m->pattern = BpePattern::gpt2;
    m->rule = MergeRule::bytes;
    std::unordered_map<std::string, int32_t> id_of; // token bytes -> id
    read_gpt2_encoder(encoder_json_path, *m, id_of);
    read_gpt2_merges(vocab_bpe_path, *m, id_of);
    std::ostringstream what;
    what << "GPT-2 files " << encoder_json_path << " and " << vocab_bpe_path;
    return BpeTokenizer(bpe_finish_model(std::move(m), what.str()));
}

} // namespace gptbook
