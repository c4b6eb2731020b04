// Instruction tuning from Python (chapter 11): the chat template, the instruction data, answering
// in the template and the exact-match accuracy.
// Shapes: B batch, T time, P prompt tokens, R response tokens, N = P + R + 1 tokens of an example.
#include "bindings.hpp"
#include "numpy.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/data/chat.hpp"
#include "gptbook/data/instructions.hpp"
#include "gptbook/sample/chat.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike
#include <sstream>

namespace gptbook::python {

namespace {

/// A Python str with the repr quoting ('...'), for __repr__.
std::string quoted(const std::string& s) { return py::repr(py::str(s)).cast<std::string>(); }

const ChatTemplate& template_or_default(const std::optional<ChatTemplate>& chat) {
    static const ChatTemplate standard;
    return chat ? *chat : standard;
}

InstructionEval eval_set_from_string(const std::string& which) {
    if (which == "held_out_instances") return InstructionEval::held_out_instances;
    if (which == "held_out_phrasing") return InstructionEval::held_out_phrasing;
    GPTBOOK_FAIL("instruction_eval_set: which is '" << which << "', expected 'held_out_instances' (new inputs, the "
                                                    << "training phrasings) or 'held_out_phrasing' (the same inputs, "
                                                    << "the phrasing never trained on)");
}

std::string chat_reply_from_python(const GPT& model, const Tokenizer& tokenizer, const std::string& prompt,
                                   int max_new_tokens, float temperature, int top_k, float top_p, uint64_t seed,
                                   const std::optional<ChatTemplate>& chat, py::object on_text) {
    GPTBOOK_CHECK(max_new_tokens >= 0, "chat_reply: max_new_tokens is " << max_new_tokens << ", expected >= 0");
    SamplingOptions options;
    options.temperature = temperature;
    options.top_k = top_k;
    options.top_p = top_p;
    options.validate();
    std::function<void(const std::string&)> callback;
    if (!on_text.is_none())
        callback = [&on_text](const std::string& piece) {
            py::gil_scoped_acquire gil;
            on_text(piece);
        };
    py::gil_scoped_release release;
    Rng rng(seed);
    return chat_reply(model, tokenizer, template_or_default(chat), prompt, max_new_tokens, options, rng, callback);
}

void bind_template(py::module_& m) {
    py::class_<ChatTemplate>(m, "ChatTemplate",
                             "The texts of the chat template's special tokens: <|user|> prompt <|assistant|>\n"
                             "response <|end|>. ChatTemplate() is the one `gptbook finetune --chat` uses.")
        .def(py::init([](const std::string& user, const std::string& assistant, const std::string& end) {
                 return ChatTemplate{user, assistant, end};
             }),
             py::arg("user") = ChatTemplate{}.user, py::arg("assistant") = ChatTemplate{}.assistant,
             py::arg("end") = ChatTemplate{}.end)
        .def_readwrite("user", &ChatTemplate::user, "starts the user's prompt")
        .def_readwrite("assistant", &ChatTemplate::assistant, "starts the model's response")
        .def_readwrite("end", &ChatTemplate::end, "ends the response; generation stops here")
        .def("__repr__", [](const ChatTemplate& c) {
            return "ChatTemplate(user=" + quoted(c.user) + ", assistant=" + quoted(c.assistant) +
                   ", end=" + quoted(c.end) + ")";
        });
    m.def(
        "chat_special_tokens",
        [](const std::optional<ChatTemplate>& chat) { return chat_special_tokens(template_or_default(chat)); },
        py::arg("template") = py::none(),
        "chat_special_tokens(template=None) -> list[str]: ['<|user|>', '<|assistant|>', '<|end|>'], the tokens\n"
        "to add with Tokenizer.with_added_tokens() before fine-tuning for chat.");
    m.def(
        "chat_prompt_ids",
        [](const Tokenizer& tokenizer, const std::string& prompt, const std::optional<ChatTemplate>& chat) {
            return to_numpy(chat_prompt_ids(tokenizer, template_or_default(chat), prompt));
        },
        py::arg("tokenizer"), py::arg("prompt"), py::arg("template") = py::none(),
        "chat_prompt_ids(tokenizer, prompt, template=None) -> np.ndarray int32 (P,): <|user|> + prompt +\n"
        "<|assistant|>, what the model is given to answer (the prompt encoded with encode_ordinary: text that\n"
        "spells '<|end|>' stays characters). Raises gptbook.Error when the tokenizer lacks a template token.");
    m.def(
        "chat_example_ids",
        [](const Tokenizer& tokenizer, const std::string& prompt, const std::string& response,
           const std::optional<ChatTemplate>& chat) {
            const ChatExample e = chat_example_ids(tokenizer, template_or_default(chat), prompt, response);
            return py::make_tuple(to_numpy(e.inputs), to_numpy(e.targets));
        },
        py::arg("tokenizer"), py::arg("prompt"), py::arg("response"), py::arg("template") = py::none(),
        "chat_example_ids(tokenizer, prompt, response, template=None) -> (inputs, targets): one SFT example, both\n"
        "int32 (N-1,): seq = chat_prompt_ids(prompt) + response + <|end|>, inputs = seq[:-1], targets = seq[1:]\n"
        "with -1 (not scored) where the target is a prompt token: the loss covers the response and <|end|>\n"
        "(eq. 11.5). GPT.loss(inputs, targets) is then the SFT loss.");
}

void bind_instructions(py::module_& m) {
    py::class_<Instruction>(m, "Instruction", "One instruction and the response to learn.")
        .def(py::init(
                 [](const std::string& family, const std::string& prompt, const std::string& response, int phrasing) {
                     return Instruction{family, prompt, response, phrasing};
                 }),
             py::arg("family") = "", py::arg("prompt") = "", py::arg("response") = "", py::arg("phrasing") = 0)
        .def_readwrite("family", &Instruction::family, "'reverse', ..., or 'alpaca' for loaded data")
        .def_readwrite("prompt", &Instruction::prompt, "the request, e.g. 'Reverse the word hello.'")
        .def_readwrite("response", &Instruction::response, "the exact answer, e.g. 'olleh'")
        .def_readwrite("phrasing", &Instruction::phrasing, "which phrasing of the family (0 for loaded data)")
        .def("__repr__", [](const Instruction& i) {
            std::ostringstream os;
            os << "Instruction(family=" << quoted(i.family) << ", prompt=" << quoted(i.prompt)
               << ", response=" << quoted(i.response) << ", phrasing=" << i.phrasing << ")";
            return os.str();
        });
    m.def("instruction_families", &instruction_families,
          "instruction_families() -> list[str]: the built-in tasks ('reverse', 'sort', 'add', ...).");
    m.def("instruction_words", &instruction_words, py::return_value_policy::copy,
          "instruction_words() -> list[str]: the 350 words the families ask about.");
    m.def("instruction_phrasing_count", &instruction_phrasing_count, py::arg("family"),
          "instruction_phrasing_count(family) -> int: K phrasings; phrasing K-1 is never trained on.");
    m.def("instruction_instance_count", &instruction_instance_count, py::arg("family"),
          "instruction_instance_count(family) -> int: the distinct inputs of a family.");
    m.def("make_instruction", &make_instruction, py::arg("family"), py::arg("instance"), py::arg("phrasing") = 0,
          "make_instruction(family, instance, phrasing=0) -> Instruction: one instruction, fully determined by\n"
          "its arguments (instance in [0, instruction_instance_count(family)), phrasing in [0, K)).");
    m.def(
        "instruction_split_of",
        [](const std::string& family, uint64_t instance) {
            return instruction_split_of(family, instance) == InstructionSplit::train ? "train" : "test";
        },
        py::arg("family"), py::arg("instance"),
        "instruction_split_of(family, instance) -> 'train' | 'test': about 1 instance in 5 is held out, by a hash\n"
        "of its text (not a seed), with every phrasing of it.");
    m.def("random_training_instruction", &random_training_instruction, py::arg("rng"),
          "random_training_instruction(rng) -> Instruction: a train instance asked with a trained phrasing, drawn\n"
          "from rng (a gb.Rng, advanced by the draws): what a fine-tuning batch holds.");
    m.def(
        "instruction_eval_set",
        [](const std::string& which, int per_family) {
            return instruction_eval_set(eval_set_from_string(which), per_family);
        },
        py::arg("which") = "held_out_instances", py::arg("per_family") = 10,
        "instruction_eval_set(which='held_out_instances', per_family=10) -> list[Instruction]: a fixed set of\n"
        "held-out instances, per_family of each family, asked with the training phrasings\n"
        "('held_out_instances') or with the held-out one ('held_out_phrasing').");
    m.def("instruction_alphabet", &instruction_alphabet,
          "instruction_alphabet() -> str: every character of every generated prompt and response, sorted: what\n"
          "a char tokenizer must hold (Tokenizer.with_added_tokens(chars=...)).");
    m.def(
        "instruction_correct",
        [](const Instruction& instruction, const std::string& generated, const std::string& end) {
            return instruction_correct(instruction, generated, end);
        },
        py::arg("instruction"), py::arg("generated"), py::arg("end") = ChatTemplate{}.end,
        "instruction_correct(instruction, generated, end='<|end|>') -> bool: whether the generated text, cut at\n"
        "`end` (and at the first newline for a one-line answer), equals the response exactly.");
    m.def(
        "load_alpaca_json", [](const std::filesystem::path& path) { return load_alpaca_json(path.string()); },
        py::arg("path"),
        "load_alpaca_json(path) -> list[Instruction]: a JSON array of {\"instruction\", \"input\" (optional),\n"
        "\"output\"} objects (Alpaca's format); prompt = instruction + '\\n\\n' + input when input is not empty.\n"
        "Errors name the file and the item.");
}

void bind_answers(py::module_& m) {
    m.def("chat_reply", &chat_reply_from_python, py::arg("model"), py::arg("tokenizer"), py::arg("prompt"),
          py::arg("max_new_tokens") = 64, py::arg("temperature") = 0.0f, py::arg("top_k") = 0, py::arg("top_p") = 1.0f,
          py::arg("seed") = 1337, py::arg("template") = py::none(), py::arg("on_text") = py::none(),
          "chat_reply(model, tokenizer, prompt, max_new_tokens=64, temperature=0.0, top_k=0, top_p=1.0, seed=1337,\n"
          "template=None, on_text=None) -> str: the model's answer to prompt in the chat template, generated until\n"
          "<|end|> (not included) or max_new_tokens. temperature 0 is the greedy answer (what chat_accuracy\n"
          "scores); otherwise seed names the random stream. on_text(piece) is called as the answer grows. The\n"
          "tokenizer must have the template's tokens (a model fine-tuned for chat, or model_from_base with a\n"
          "grown vocabulary to see the answers before fine-tuning).");
    py::class_<FamilyAccuracy>(m, "FamilyAccuracy",
                               "How many instructions of one family a model answers exactly right.")
        .def_readonly("family", &FamilyAccuracy::family, "'reverse', ..., or 'alpaca'")
        .def_readonly("correct", &FamilyAccuracy::correct, "answered exactly right")
        .def_readonly("total", &FamilyAccuracy::total, "asked")
        .def("__repr__", [](const FamilyAccuracy& f) {
            std::ostringstream os;
            os << "FamilyAccuracy(family=" << quoted(f.family) << ", correct=" << f.correct << ", total=" << f.total
               << ")";
            return os.str();
        });
    py::class_<ChatAccuracy>(m, "ChatAccuracy", "How many instructions a model answers exactly right.")
        .def_readonly("correct", &ChatAccuracy::correct, "answered exactly right")
        .def_readonly("total", &ChatAccuracy::total, "asked")
        .def_property_readonly("accuracy", &ChatAccuracy::accuracy, "correct / total (0 when none was asked)")
        .def_readonly("first_wrong", &ChatAccuracy::first_wrong,
                      "'Reverse the word hello. -> olelh (expected olleh)', or '' if none was wrong")
        .def_readonly("by_family", &ChatAccuracy::by_family,
                      "the same counts per family (list[FamilyAccuracy]), in "
                      "the order first asked")
        .def("__repr__", [](const ChatAccuracy& a) {
            std::ostringstream os;
            os << "ChatAccuracy(correct=" << a.correct << ", total=" << a.total << ", accuracy=" << a.accuracy() << ")";
            return os.str();
        });
    m.def(
        "chat_accuracy",
        [](const GPT& model, const Tokenizer& tokenizer, const std::vector<Instruction>& instructions,
           const std::optional<ChatTemplate>& chat) {
            py::gil_scoped_release release;
            return chat_accuracy(model, tokenizer, template_or_default(chat), instructions);
        },
        py::arg("model"), py::arg("tokenizer"), py::arg("instructions"), py::arg("template") = py::none(),
        "chat_accuracy(model, tokenizer, instructions, template=None) -> ChatAccuracy: asks every instruction\n"
        "(greedy, at most the response's length + 8 tokens) and scores each answer with instruction_correct().");
}

} // namespace

void bind_chat(py::module_& m) {
    bind_template(m);
    bind_instructions(m);
    bind_answers(m);
}

} // namespace gptbook::python
