// Alignment from Python (chapter 12): preference pairs and the hidden rule that judges them, and
// the losses of a reward model, DPO, PPO and GRPO on plain numbers, with their derivatives.
// Shapes: P pairs, R tokens of a completion, G completions per prompt.
#include "bindings.hpp"

#include "gptbook/align/objectives.hpp"
#include "gptbook/align/preference_rules.hpp"
#include "gptbook/data/preferences.hpp"

#include <filesystem>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike
#include <sstream>

namespace gptbook::python {

namespace py = pybind11;

namespace {

std::string quoted(const std::string& s) { return py::repr(py::str(s)).cast<std::string>(); }

void bind_pairs(py::module_& m) {
    py::class_<PreferencePair>(m, "PreferencePair", "One judgement: a prompt and two completions, the preferred first.")
        .def(py::init([](const std::string& prompt, const std::string& chosen, const std::string& rejected) {
                 return PreferencePair{prompt, chosen, rejected};
             }),
             py::arg("prompt") = "", py::arg("chosen") = "", py::arg("rejected") = "")
        .def_readwrite("prompt", &PreferencePair::prompt, "the context both completions follow")
        .def_readwrite("chosen", &PreferencePair::chosen, "the completion the judge preferred")
        .def_readwrite("rejected", &PreferencePair::rejected, "the other one")
        .def("__repr__", [](const PreferencePair& p) {
            return "PreferencePair(prompt=" + quoted(p.prompt) + ", chosen=" + quoted(p.chosen) +
                   ", rejected=" + quoted(p.rejected) + ")";
        });
    m.def(
        "load_preferences_jsonl",
        [](const std::filesystem::path& path) { return load_preferences_jsonl(path.string()); }, py::arg("path"),
        "load_preferences_jsonl(path) -> list[PreferencePair]: {\"prompt\", \"chosen\", \"rejected\"} per line;\n"
        "errors name the file and the line.");
    m.def(
        "save_preferences_jsonl",
        [](const std::filesystem::path& path, const std::vector<PreferencePair>& pairs) {
            save_preferences_jsonl(path.string(), pairs);
        },
        py::arg("path"), py::arg("pairs"), "save_preferences_jsonl(path, pairs): JSON Lines, written atomically.");
    m.def("e_rate", &e_rate, py::arg("text"),
          "e_rate(text) -> float: the fraction of the text's characters (UTF-8 bytes) that are 'e' or 'E'.");
    m.def(
        "judge",
        [](const std::string& rule, const std::string& a, const std::string& b) {
            return judge(preference_rule_from_string(rule), a, b);
        },
        py::arg("rule"), py::arg("a"), py::arg("b"),
        "judge(rule, a, b) -> int: +1 if the rule prefers a, -1 if b, 0 for a tie. Rules: 'lipogram' (fewer e's).");
    m.def(
        "sample_preference_pairs",
        [](const GPT& model, const Tokenizer& tokenizer, const std::string& text, const std::string& rule, int n,
           int prompt_chars, int completion_tokens, float temperature, uint64_t seed) {
            PreferenceSampling how;
            how.prompt_chars = prompt_chars;
            how.completion_tokens = completion_tokens;
            how.sampling.temperature = temperature;
            const PreferenceRule r = preference_rule_from_string(rule);
            py::gil_scoped_release release;
            Rng rng(seed);
            return sample_preference_pairs(model, tokenizer, text, r, n, how, rng);
        },
        py::arg("model"), py::arg("tokenizer"), py::arg("text"), py::arg("rule") = "lipogram", py::arg("n") = 100,
        py::arg("prompt_chars") = 32, py::arg("completion_tokens") = 48, py::arg("temperature") = 1.0f,
        py::arg("seed") = 1337,
        "sample_preference_pairs(model, tokenizer, text, rule='lipogram', n=100, prompt_chars=32,\n"
        "completion_tokens=48, temperature=1.0, seed=1337) -> list[PreferencePair]: for each prompt (a window\n"
        "of text starting a line) two sampled completions, ordered by the rule; ties are drawn again.");
}

void bind_losses(py::module_& m) {
    py::class_<PairLoss>(m, "PairLoss",
                         "A loss on one pair and its derivatives with respect to the pair's two numbers.")
        .def_readonly("loss", &PairLoss::loss, "the pair's loss")
        .def_readonly("d_chosen", &PairLoss::d_chosen, "dloss / d(the chosen completion's number)")
        .def_readonly("d_rejected", &PairLoss::d_rejected, "dloss / d(the rejected one's)")
        .def_readonly("margin", &PairLoss::margin, "the argument of the sigmoid: > 0 when ranked right")
        .def("__repr__", [](const PairLoss& p) {
            std::ostringstream os;
            os << "PairLoss(loss=" << p.loss << ", d_chosen=" << p.d_chosen << ", d_rejected=" << p.d_rejected
               << ", margin=" << p.margin << ")";
            return os.str();
        });
    m.def("bradley_terry_loss", &bradley_terry_loss, py::arg("score_chosen"), py::arg("score_rejected"),
          "bradley_terry_loss(r_c, r_r) -> PairLoss: -log sigmoid(r_c - r_r), a reward model's loss on a pair.");
    m.def("dpo_loss", &dpo_loss, py::arg("logp_chosen"), py::arg("logp_rejected"), py::arg("ref_chosen"),
          py::arg("ref_rejected"), py::arg("beta"),
          "dpo_loss(logp_c, logp_r, ref_c, ref_r, beta) -> PairLoss: -log sigmoid(beta ((logp_c - ref_c) -\n"
          "(logp_r - ref_r))); derivatives with respect to the policy's two log-probabilities.");
    py::class_<TokenTerm>(m, "TokenTerm", "One token's term of a policy-gradient objective and its derivative.")
        .def_readonly("loss", &TokenTerm::loss, "the term")
        .def_readonly("dlogp", &TokenTerm::dlogp, "d(term) / d(the policy's log-probability of the token)")
        .def_readonly("clipped", &TokenTerm::clipped, "PPO: the gradient stopped at the trust region's edge")
        .def("__repr__", [](const TokenTerm& t) {
            std::ostringstream os;
            os << "TokenTerm(loss=" << t.loss << ", dlogp=" << t.dlogp << ", clipped=" << (t.clipped ? "True" : "False")
               << ")";
            return os.str();
        });
    m.def("ppo_clipped_token", &ppo_clipped_token, py::arg("logp"), py::arg("logp_old"), py::arg("advantage"),
          py::arg("clip_eps") = 0.2,
          "ppo_clipped_token(logp, logp_old, advantage, clip_eps=0.2) -> TokenTerm: -min(rho A, clip(rho) A).");
    m.def("kl_k3_token", &kl_k3_token, py::arg("logp"), py::arg("logp_ref"),
          "kl_k3_token(logp, logp_ref) -> TokenTerm: e^u - u - 1 with u = logp_ref - logp, GRPO's KL estimate.");
    m.def(
        "gae_advantages",
        [](const std::vector<double>& rewards, const std::vector<double>& values, double gamma, double lambda) {
            std::vector<double> returns;
            std::vector<double> adv = gae_advantages(rewards, values, gamma, lambda, &returns);
            return py::make_tuple(adv, returns);
        },
        py::arg("rewards"), py::arg("values"), py::arg("gamma") = 1.0, py::arg("lam") = 0.95,
        "gae_advantages(rewards, values, gamma=1.0, lam=0.95) -> (advantages, returns): generalised advantage\n"
        "estimation over one completion's tokens; returns = advantages + values (the value head's targets).");
    m.def("group_advantages", &group_advantages, py::arg("rewards"), py::arg("group_size"),
          "group_advantages(rewards, group_size) -> list[float]: GRPO's (r - group mean) / (group std + 1e-4).");
}

} // namespace

void bind_align(py::module_& m) {
    bind_pairs(m);
    bind_losses(m);
}

} // namespace gptbook::python
