// Retrieval-augmented generation from Python (chapter 13): the world of facts, BM25, InfoNCE on
// plain arrays, embeddings of texts, and the reader's prompt and judge.
// Shapes: N passages, D embedding size, P pairs, Q questions.
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/rag/bm25.hpp"
#include "gptbook/rag/contrastive.hpp"
#include "gptbook/rag/world.hpp"

#include <pybind11/stl.h>

namespace gptbook::python {

namespace py = pybind11;

namespace {

void bind_world(py::module_& m) {
    m.def(
        "world_passages",
        [](const std::string& split, int people) {
            std::vector<py::dict> out;
            for (const Passage& p : world_passages(make_world(world_split_from_string(split), people)))
                out.push_back(py::dict(py::arg("id") = p.id, py::arg("text") = p.text));
            return out;
        },
        py::arg("split"), py::arg("people"),
        "world_passages(split, people) -> list[dict]: {'id', 'text'} of every fact of the first `people` people\n"
        "of the 'train' or 'test' world, person by person, attribute by attribute (5 each).");
    m.def(
        "world_questions",
        [](const std::string& split, int people, int n) {
            std::vector<py::dict> out;
            for (const WorldQuestion& q : world_questions(make_world(world_split_from_string(split), people), n))
                out.push_back(py::dict(py::arg("question") = q.text, py::arg("answer") = q.answer,
                                       py::arg("passage") = q.passage_id, py::arg("attribute") = q.attribute));
            return out;
        },
        py::arg("split"), py::arg("people"), py::arg("n"),
        "world_questions(split, people, n) -> list[dict]: {'question', 'answer', 'passage', 'attribute'} about the\n"
        "first n facts, as `gptbook rag world` writes them.");
    m.def(
        "attribute_names",
        [] {
            const auto& a = attribute_names();
            return std::vector<std::string>(a.begin(), a.end());
        },
        "attribute_names() -> list[str]: city, job, pet, colour, instrument.");
    m.def("reader_prompt", &reader_prompt, py::arg("passages"), py::arg("question"),
          "reader_prompt(passages, question) -> str: the question, then the passages, one per line.");
    m.def(
        "judge_answer",
        [](const std::string& answer, const std::string& expected) -> std::string {
            switch (judge_answer(answer, expected)) {
            case AnswerKind::correct: return "correct";
            case AnswerKind::abstained: return "abstained";
            case AnswerKind::hallucinated: return "hallucinated";
            }
            return "?";
        },
        py::arg("answer"), py::arg("expected"),
        "judge_answer(answer, expected) -> 'correct' | 'abstained' | 'hallucinated'.");
    m.attr("unknown_answer") = unknown_answer;
}

void bind_bm25(py::module_& m) {
    m.def("bm25_words", &bm25_words, py::arg("text"),
          "bm25_words(text) -> list[str]: lowercase runs of letters and digits.");
    py::class_<Bm25Index>(m, "Bm25Index", "BM25 over a list of texts (13.1)-(13.3): an inverted index and its scores.")
        .def(py::init([](const std::vector<std::string>& docs, double k1, double b) {
                 return Bm25Index(docs, {k1, b});
             }),
             py::arg("documents"), py::arg("k1") = 1.2, py::arg("b") = 0.75)
        .def("__len__", &Bm25Index::size)
        .def_property_readonly("average_length", &Bm25Index::average_length, "avgdl, in words")
        .def("document_frequency", &Bm25Index::document_frequency, py::arg("word"))
        .def("idf", &Bm25Index::idf, py::arg("word"))
        .def("score", &Bm25Index::score, py::arg("query"), py::arg("doc"), "score(query, doc) -> float (13.2)")
        .def(
            "search",
            [](const Bm25Index& index, const std::string& query, int k) {
                std::vector<std::pair<size_t, float>> out;
                for (const SearchHit& h : index.search(query, k)) out.emplace_back(h.doc, h.score);
                return out;
            },
            py::arg("query"), py::arg("k"), "search(query, k) -> list[(doc, score)], best first");
}

void bind_contrastive(py::module_& m) {
    m.def(
        "infonce_loss",
        [](py::handle z, double tau) {
            Mat dz;
            const InfoNceResult r = infonce_loss(mat_from_python(z, "z"), tau, &dz);
            return py::make_tuple(r.loss, r.accuracy, to_numpy(dz));
        },
        py::arg("z"), py::arg("tau"),
        "infonce_loss(z, tau) -> (loss, accuracy, dz): z is (D, 2P), column 2i a question, 2i+1 its passage;\n"
        "(13.4)-(13.6).");
    m.def(
        "embed_texts",
        [](const GPT& model, const Tokenizer& tokenizer, const std::vector<std::string>& texts, int batch) {
            return to_numpy(embed_texts(model, tokenizer, texts, batch));
        },
        py::arg("model"), py::arg("tokenizer"), py::arg("texts"), py::arg("batch") = 64,
        "embed_texts(model, tokenizer, texts, batch=64) -> (D, n) float32: unit embeddings of an embedding model\n"
        "(`gptbook rag embedder`), one column per text.");
}

} // namespace

void bind_rag(py::module_& m) {
    bind_world(m);
    bind_bm25(m);
    bind_contrastive(m);
}

} // namespace gptbook::python
