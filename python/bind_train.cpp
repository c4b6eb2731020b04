// TrainConfig, presets and the Trainer from Python (chapters 06 and 08).
// Shapes: B batch, T block size, V vocabulary.
#include "bindings.hpp"

#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/train/data_source.hpp"
#include "gptbook/train/presets.hpp"
#include "gptbook/train/trainer.hpp"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <pybind11/operators.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h> // paths: str or any os.PathLike
#include <sstream>

namespace py = pybind11;

namespace gptbook::python {

namespace {

/// A Trainer with its data and the Python callbacks of the run() in progress. Held by a
/// unique_ptr (never moves): the Trainer's callbacks point at it.
struct PyTrainer {
    TrainingData data;
    std::unique_ptr<Trainer> trainer;
    bool running = false; ///< inside run(): the step callback checks for Ctrl-C
    py::object on_eval, on_step;
};

TrainConfig make_train_config(int batch_size, int grad_accum, int max_iters, std::optional<float> lr,
                              std::optional<float> learning_rate, float min_lr, int warmup_iters, float beta1,
                              float beta2, float weight_decay, float grad_clip, int eval_interval, int eval_iters,
                              int log_interval, uint64_t seed, int threads) {
    GPTBOOK_CHECK(!(lr && learning_rate), "TrainConfig: give lr or learning_rate, not both (they are the same field)");
    TrainConfig c;
    c.batch_size = batch_size;
    c.grad_accum = grad_accum;
    c.max_iters = max_iters;
    c.lr = lr ? *lr : learning_rate ? *learning_rate : c.lr;
    c.min_lr = min_lr;
    c.warmup_iters = warmup_iters;
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.weight_decay = weight_decay;
    c.grad_clip = grad_clip;
    c.eval_interval = eval_interval;
    c.eval_iters = eval_iters;
    c.log_interval = log_interval;
    c.seed = seed;
    c.threads = threads;
    c.validate();
    return c;
}

std::string repr_of(const TrainConfig& c) {
    std::ostringstream os; // default precision: 0.9, not the float's 0.8999999761581421
    os << "TrainConfig(batch_size=" << c.batch_size << ", grad_accum=" << c.grad_accum << ", max_iters=" << c.max_iters
       << ", lr=" << c.lr << ", min_lr=" << c.min_lr << ", warmup_iters=" << c.warmup_iters << ", beta1=" << c.beta1
       << ", beta2=" << c.beta2 << ", weight_decay=" << c.weight_decay << ", grad_clip=" << c.grad_clip
       << ", eval_interval=" << c.eval_interval << ", eval_iters=" << c.eval_iters
       << ", log_interval=" << c.log_interval << ", seed=" << c.seed << ", threads=" << c.threads << ")";
    return os.str();
}

void bind_train_config(py::module_& m) {
    const TrainConfig d; // the defaults
    py::class_<TrainConfig>(m, "TrainConfig", R"doc(How to train: batch, schedule, AdamW, evaluation (chapter 06).

Every field is a keyword argument and a writable attribute. learning_rate is another name
for lr (the peak rate after warmup; config.json and the CLI call it lr).
TrainConfig.preset(name) returns a named recipe (Preset) with .model and .train.)doc")
        .def(py::init(&make_train_config), py::arg("batch_size") = d.batch_size, py::arg("grad_accum") = d.grad_accum,
             py::arg("max_iters") = d.max_iters, py::arg("lr") = py::none(), py::arg("learning_rate") = py::none(),
             py::arg("min_lr") = d.min_lr, py::arg("warmup_iters") = d.warmup_iters, py::arg("beta1") = d.beta1,
             py::arg("beta2") = d.beta2, py::arg("weight_decay") = d.weight_decay, py::arg("grad_clip") = d.grad_clip,
             py::arg("eval_interval") = d.eval_interval, py::arg("eval_iters") = d.eval_iters,
             py::arg("log_interval") = d.log_interval, py::arg("seed") = d.seed, py::arg("threads") = d.threads,
             "Raises gptbook.Error naming the first invalid field. lr defaults to 1e-3.")
        .def_readwrite("batch_size", &TrainConfig::batch_size, "B: sequences per micro-batch")
        .def_readwrite("grad_accum", &TrainConfig::grad_accum, "micro-batches whose gradients are averaged per step")
        .def_readwrite("max_iters", &TrainConfig::max_iters, "optimizer steps")
        .def_readwrite("lr", &TrainConfig::lr, "peak learning rate, after warmup")
        .def_readwrite("learning_rate", &TrainConfig::lr, "the same field as lr")
        .def_readwrite("min_lr", &TrainConfig::min_lr, "the cosine decays to this at max_iters")
        .def_readwrite("warmup_iters", &TrainConfig::warmup_iters, "linear warmup steps")
        .def_readwrite("beta1", &TrainConfig::beta1, "AdamW first-moment decay")
        .def_readwrite("beta2", &TrainConfig::beta2, "AdamW second-moment decay")
        .def_readwrite("weight_decay", &TrainConfig::weight_decay, "AdamW weight decay, on matrices only")
        .def_readwrite("grad_clip", &TrainConfig::grad_clip, "max gradient norm; 0 disables clipping")
        .def_readwrite("eval_interval", &TrainConfig::eval_interval,
                       "run() evaluates (and checkpoints) every this many steps")
        .def_readwrite("eval_iters", &TrainConfig::eval_iters, "batches averaged per evaluation of each split")
        .def_readwrite("log_interval", &TrainConfig::log_interval,
                       "progress line every this many steps (kept ones on a terminal; from Python, always)")
        .def_readwrite("seed", &TrainConfig::seed, "initialisation, batches, dropout")
        .def_readwrite("threads", &TrainConfig::threads, "OpenMP and BLAS threads; 0 = leave as they are")
        .def("validate", &TrainConfig::validate, "Raises gptbook.Error naming the first invalid field.")
        .def_static("preset", &find_preset, py::arg("name"), py::return_value_policy::copy,
                    "TrainConfig.preset(name) -> Preset: a named recipe ('shakespeare-char-cpu', 'sort', ...); the\n"
                    "error lists the known names.")
        .def(py::self == py::self) // NOLINT(misc-redundant-expression)
        .def("__repr__", &repr_of);

    py::class_<Preset>(m, "Preset", "A named recipe: the model's shape, how to train it, and the data it was made for.")
        .def_readonly("name", &Preset::name, "what TrainConfig.preset() and `gptbook train --preset` take")
        .def_readonly("description", &Preset::description, "one line")
        .def_readonly("model", &Preset::model, "GPTConfig (vocab_size is replaced by the tokenizer's when training)")
        .def_readonly("train", &Preset::train, "TrainConfig")
        .def_readonly("data", &Preset::data, "default corpus name, or 'task:NAME'")
        .def("__repr__", [](const Preset& p) { return "Preset('" + p.name + "': " + p.description + ")"; });
    m.def("presets", &presets, py::return_value_policy::copy, "presets() -> list[Preset]: every named recipe.");
}

/// Resuming: the run's own data spec, model config and tokenizer, as `gptbook train --resume`.
TrainingData resumed_data(const std::string& run_dir, GPTConfig& model) {
    namespace fs = std::filesystem;
    const std::string config_path = (fs::path(run_dir) / "config.json").string();
    GPTBOOK_CHECK(fs::exists(config_path), "nothing to resume in " << run_dir << ": it has no config.json");
    const nlohmann::json config = nlohmann::json::parse(read_file(config_path));
    model = config.at("model").get<GPTConfig>();
    const std::string tok_path = (fs::path(run_dir) / "tokenizer.json").string();
    return make_training_data(config.at("data").get<std::string>(), model, "char", Tokenizer::load(tok_path));
}

/// The tokenizer= argument as a make_tokenizer() spec: 'char', 'bpe:N', 'gpt2' or a JSON file's path.
std::string tokenizer_spec(py::handle tokenizer) {
    if (py::isinstance<py::str>(tokenizer) || py::hasattr(tokenizer, "__fspath__"))
        return tokenizer.cast<std::filesystem::path>().string();
    std::ostringstream os;
    os << "Trainer: tokenizer is " << py::str(py::type::handle_of(tokenizer).attr("__name__")).cast<std::string>()
       << "; expected 'char', 'bpe:N', 'gpt2', a tokenizer JSON path (str or os.PathLike) or a gptbook.Tokenizer";
    throw py::type_error(os.str());
}

std::unique_ptr<PyTrainer> make_trainer(GPTConfig model, const TrainConfig& train,
                                        const std::filesystem::path& data_path, py::object tokenizer,
                                        const std::optional<std::filesystem::path>& run_dir_path, bool resume,
                                        bool progress) {
    auto t = std::make_unique<PyTrainer>();
    const std::string data = data_path.string(); // a corpus name, a path or "task:NAME"
    const std::optional<std::string> run_dir =
        run_dir_path ? std::optional<std::string>(run_dir_path->string()) : std::nullopt;
    std::optional<Tokenizer> given;
    std::string spec = "char";
    if (py::isinstance<Tokenizer>(tokenizer)) given = tokenizer.cast<Tokenizer>();
    else spec = tokenizer_spec(tokenizer);
    PyTrainer* self = t.get();
    TrainerOptions options;
    options.run_dir = run_dir.value_or("");
    options.resume = resume;
    options.progress = progress;
    options.log_interval_chosen = true; // a Python user sets TrainConfig.log_interval: keep its lines
    options.on_eval = [self](const EvalRow& r) {
        py::gil_scoped_acquire gil;
        if (!self->on_eval || self->on_eval.is_none()) return;
        self->on_eval(py::dict(py::arg("step") = r.step, py::arg("lr") = r.lr, py::arg("train_loss") = r.train_loss,
                               py::arg("val_loss") = r.val_loss, py::arg("tokens_per_s") = r.tokens_per_s,
                               py::arg("grad_norm") = r.grad_norm, py::arg("train_seconds") = r.train_seconds));
    };
    options.on_step = [self](int step, float loss) {
        if (!self->running) return;
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set(); // Ctrl-C / a notebook's interrupt
        if (self->on_step && !self->on_step.is_none()) self->on_step(step, loss);
    };
    py::gil_scoped_release release; // fetching a corpus or training a BPE tokenizer takes a while
    if (resume) {
        GPTBOOK_CHECK(run_dir, "Trainer: resume=True needs run_dir");
        t->data = resumed_data(*run_dir, model);
    } else {
        t->data = make_training_data(data, model, spec, given);
        if (run_dir) std::filesystem::create_directories(*run_dir);
    }
    options.data = resume ? "" : data;
    options.tokenizer_json = t->data.tokenizer->to_json().dump();
    if (train.threads > 0) set_num_threads(train.threads);
    t->trainer = std::make_unique<Trainer>(model, train, t->data.source, options);
    return t;
}

py::dict run_trainer(PyTrainer& t, py::object on_eval, py::object on_step) {
    struct Reset { // with the GIL held, whether run() returns or throws
        PyTrainer& t;
        ~Reset() {
            t.running = false;
            t.on_eval = py::object();
            t.on_step = py::object();
        }
    } reset{t};
    t.on_eval = std::move(on_eval);
    t.on_step = std::move(on_step);
    t.running = true;
    TrainSummary s;
    {
        py::gil_scoped_release release;
        s = t.trainer->run();
    }
    return py::dict(py::arg("steps_done") = s.steps_done, py::arg("best_val_loss") = s.best_val_loss,
                    py::arg("train_seconds") = s.train_seconds, py::arg("interrupted") = s.interrupted);
}

int split_of(const std::string& name) {
    GPTBOOK_CHECK(name == "train" || name == "val", "estimate_loss: split '" << name << "', expected 'train' or 'val'");
    return name == "train" ? 0 : 1;
}

} // namespace

void bind_train(py::module_& m) {
    bind_train_config(m);
    py::class_<PyTrainer>(m, "Trainer", R"doc(Owns a model and everything needed to train it (chapters 06 and 08).

Trainer(model_config, train_config, data='shakespeare', tokenizer='char', run_dir=None,
        resume=False, progress=False)
  data:      a corpus name (data/manifest.json), a path to a UTF-8 text file, or 'task:sort'
             (also 'task:add', 'task:reverse', 'task:copy': generated, no download)
  tokenizer: 'char', 'bpe:N', 'gpt2', a tokenizer JSON path, or a gptbook.Tokenizer
             (a task always uses its own character tokenizer)
  run_dir:   a directory for checkpoints and metrics.csv as `gptbook train --out`, or None
Paths (data, tokenizer, run_dir) may be a str or any os.PathLike (pathlib.Path).
  resume:    continue the run in run_dir exactly where it stopped (its own configs and data)
The model's vocab_size comes from the tokenizer, and a task also sets its block_size: read them
from trainer.model.config (the model_config passed is not changed). A new run's model starts as
GPT(trainer.model.config, seed=train_config.seed).)doc")
        .def(py::init(&make_trainer), py::arg("model_config"), py::arg("train_config"), py::arg("data") = "shakespeare",
             py::arg("tokenizer") = "char", py::arg("run_dir") = py::none(), py::arg("resume") = false,
             py::arg("progress") = false)
        .def(
            "step",
            [](PyTrainer& t) {
                py::gil_scoped_release release;
                return t.trainer->train_step();
            },
            "step() -> float: one optimizer step (grad_accum micro-batches of forward and backward with dropout,\n"
            "gradient clipping, AdamW at the schedule's learning rate); returns the mean training loss.\n"
            "No evaluation, checkpoint or callback: those are run()'s.")
        .def_property_readonly(
            "last_grad_norm", [](const PyTrainer& t) { return t.trainer->last_grad_norm(); },
            "The gradient norm of the last step, before clipping.")
        .def(
            "estimate_loss",
            [](PyTrainer& t, const std::string& split) {
                const int s = split_of(split);
                py::gil_scoped_release release;
                return t.trainer->estimate_loss(s);
            },
            py::arg("split") = "val",
            "estimate_loss(split='val') -> float: mean loss over eval_iters batches of 'train' or 'val', no dropout.")
        .def("run", &run_trainer, py::arg("on_eval") = py::none(), py::arg("on_step") = py::none(),
             "run(on_eval=None, on_step=None) -> dict: trains until max_iters, evaluating every eval_interval\n"
             "steps and at the end (and checkpointing when run_dir is set).\n"
             "on_eval(metrics) gets a dict with step, lr, train_loss, val_loss, tokens_per_s, grad_norm,\n"
             "train_seconds; on_step(step, loss) is called after every step. An exception in a callback,\n"
             "or Ctrl-C (KeyboardInterrupt), stops training between two steps, the model intact.\n"
             "Returns dict(steps_done, best_val_loss, train_seconds, interrupted).")
        .def_property_readonly(
            "model", [](PyTrainer& t) -> GPT& { return t.trainer->model(); },
            py::return_value_policy::reference_internal,
            "The GPT being trained (not a copy: it changes as training goes on; keeps the Trainer alive).")
        .def_property_readonly(
            "tokenizer", [](const PyTrainer& t) { return *t.data.tokenizer; }, "The run's Tokenizer (a copy).")
        .def_property_readonly(
            "train_config", [](PyTrainer& t) { return t.trainer->config(); }, "The TrainConfig in use (a copy).")
        .def_property_readonly(
            "step_count", [](const PyTrainer& t) { return t.trainer->step(); }, "Optimizer steps taken so far.")
        .def_property_readonly(
            "data_summary", [](const PyTrainer& t) { return t.data.summary; },
            "One line: where the data came from and how many tokens.");
}

} // namespace gptbook::python
