// TrainConfig, presets and the Trainer from Python (chapters 06 and 08).
// Shapes: B batch, T block size, V vocabulary.
#include "bindings.hpp"

#include "gptbook/cli/run_dir.hpp"
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/model/finetune.hpp"
#include "gptbook/train/data_source.hpp"
#include "gptbook/train/finetune_data.hpp"
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
    // A fine-tuning run (Trainer.finetune): its metric and class names, and the base it started from.
    std::function<std::string(const GPT&, const std::string&)> report;
    std::vector<std::string> classes;
    std::optional<cli::Run> base_run; ///< the base when given as a path
    py::object base_object;           ///< the base when given as a GPT (kept alive while the Trainer starts)
    bool running = false;             ///< inside run(): the step callback checks for Ctrl-C
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

/// The Python callbacks behind options.on_eval and options.on_step (see make_trainer()).
void add_callbacks(TrainerOptions& options, PyTrainer* self) {
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
    add_callbacks(options, self);
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

/// What `gptbook finetune` does before training (cmd_finetune.cpp), from Python: the base, the
/// fine-tuned config, the data, which tensors train.
std::unique_ptr<PyTrainer> make_finetune_trainer(
    py::object base, const TrainConfig& train, const std::optional<std::filesystem::path>& labels,
    const std::optional<std::filesystem::path>& chat, const std::optional<std::filesystem::path>& data,
    const std::optional<Tokenizer>& tokenizer, const std::string& scope, int last_blocks, int lora_rank,
    float lora_alpha, const std::optional<std::string>& lora_targets, const std::string& pool,
    std::optional<float> dropout, const std::optional<std::filesystem::path>& run_dir, bool progress) {
    auto t = std::make_unique<PyTrainer>();
    const std::string labels_spec = labels ? labels->string() : "", chat_spec = chat ? chat->string() : "",
                      data_spec = data ? data->string() : "";
    const int kinds = !labels_spec.empty() + !chat_spec.empty() + !data_spec.empty();
    GPTBOOK_CHECK(kinds == 1, "Trainer.finetune needs exactly one thing to learn: labels= (a classifier), chat= (an "
                              "instruction follower) or data= (more text); "
                                  << kinds << " were given");
    std::string base_name = "(a GPT from Python)";
    const GPT* base_model = nullptr;
    const Tokenizer* base_tokenizer = nullptr;
    if (py::isinstance<GPT>(base)) {
        GPTBOOK_CHECK(tokenizer, "Trainer.finetune: base is a GPT, so pass its tokenizer= too");
        t->base_object = base;
        base_model = &base.cast<const GPT&>();
        base_tokenizer = &*tokenizer;
    } else {
        GPTBOOK_CHECK(!tokenizer, "Trainer.finetune: tokenizer= is for a base given as a GPT; a run directory "
                                  "brings its own");
        base_name = base.cast<std::filesystem::path>().string();
        t->base_run = cli::load_run(base_name);
        base_model = &t->base_run->model();
        base_tokenizer = &t->base_run->tokenizer;
    }
    GPTBOOK_CHECK(base_model->config.n_classes == 0 && base_model->config.lora_rank == 0,
                  "Trainer.finetune: the base is already fine-tuned (" << architecture_notes(base_model->config)
                                                                       << "); start from a language model without "
                                                                       << "adapters (merge_lora() folds adapters in)");

    GPTConfig model = base_model->config;
    const FinetuneScope sc = finetune_scope_from_string(scope);
    model.pool = pooling_from_string(pool);
    if (lora_rank > 0 || sc == FinetuneScope::lora) { // as `gptbook finetune`: rank 8 unless given
        model.lora_rank = lora_rank > 0 ? lora_rank : 8;
        model.lora_alpha = lora_alpha;
        if (lora_targets) model.lora_targets = *lora_targets;
    }
    if (dropout) model.dropout = *dropout;
    FinetuneData d;
    {
        py::gil_scoped_release release; // reading and encoding a data set takes a while
        FinetuneSpec spec;
        spec.labels = labels_spec;
        spec.chat = chat_spec;
        spec.data = data_spec;
        d = make_finetune_data(spec, model, *base_tokenizer);
    }
    model.validate();
    const bool new_tokens = model.vocab_size > base_model->config.vocab_size;
    const auto trainable = finetune_trainable(model, sc, last_blocks, new_tokens);

    TrainerOptions options;
    options.run_dir = run_dir ? run_dir->string() : "";
    options.progress = progress;
    options.log_interval_chosen = true;
    options.data = d.spec;
    options.tokenizer_json = d.tokenizer->to_json().dump();
    // The record `gptbook finetune --resume` reads back from the run.
    const nlohmann::json record = {{"base", base_name}, {"labels", labels_spec}, {"chat", chat_spec},
                                   {"data", data_spec}, {"scope", scope},        {"last_blocks", last_blocks}};
    options.metadata = {{"gptbook.base", base_name}, {"gptbook.finetune", record.dump()}};
    if (!d.classes.empty()) options.metadata["gptbook.classes"] = nlohmann::json(d.classes).dump();
    options.save_adapter = sc != FinetuneScope::all;
    options.init = [base_model, trainable](const GPTConfig& config, Rng& rng) {
        std::unique_ptr<GPT> m = model_from_base(*base_model, config, rng);
        m->set_trainable(trainable);
        return m;
    };
    add_callbacks(options, t.get());
    t->report = d.report;
    t->classes = d.classes;
    t->data.tokenizer = d.tokenizer;
    t->data.source = d.source;
    t->data.summary = d.summary;
    py::gil_scoped_release release;
    if (run_dir) std::filesystem::create_directories(*run_dir);
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
        .def_static("finetune", &make_finetune_trainer, py::arg("base"), py::arg("train_config"),
                    py::arg("labels") = py::none(), py::arg("chat") = py::none(), py::arg("data") = py::none(),
                    py::arg("tokenizer") = py::none(), py::arg("scope") = "all", py::arg("last_blocks") = 1,
                    py::arg("lora_rank") = 0, py::arg("lora_alpha") = 16.0f, py::arg("lora_targets") = py::none(),
                    py::arg("pool") = "last", py::arg("dropout") = py::none(), py::arg("run_dir") = py::none(),
                    py::arg("progress") = false,
                    "Trainer.finetune(base, train_config, labels=None, chat=None, data=None, tokenizer=None,\n"
                    "                 scope='all', last_blocks=1, lora_rank=0, lora_alpha=16.0, lora_targets=None,\n"
                    "                 pool='last', dropout=None, run_dir=None, progress=False) -> Trainer\n"
                    "What `gptbook finetune` runs (chapter 11), from Python. base: a run directory or model file,\n"
                    "or a GPT with its tokenizer=. Exactly one of labels ('spam' or a directory of train/val/test\n"
                    ".jsonl: a classifier, pool 'last' or 'mean'), chat ('instructions' or an Alpaca JSON file:\n"
                    "SFT in the chat template, the tokenizer grown by its tokens) or data (a corpus: more text).\n"
                    "scope: 'all', 'last' (last_blocks blocks and the head) or 'lora' (adapters of lora_rank, 8 if\n"
                    "0, scaled by lora_alpha / r, and a new head). The model starts as model_from_base(base, ...)\n"
                    "with set_trainable(finetune_trainable(...)); run_dir gets what `gptbook finetune --out` writes\n"
                    "(adapter.safetensors too unless scope is 'all'); load it with load_run(). Fine-tuning\n"
                    "defaults of the command line: max_iters=300, lr=3e-4, min_lr=3e-5, warmup_iters=20,\n"
                    "eval_interval=50, eval_iters=10, batch_size=16. report(split) gives the task's metric.\n"
                    "(A fine-tuning run is resumed with `gptbook finetune --out DIR --resume`.)")
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
            "One line: where the data came from and how many tokens.")
        .def_property_readonly(
            "classes", [](const PyTrainer& t) { return t.classes; },
            "A fine-tuned classifier's class names in label order (label k is classes[k]); [] otherwise.")
        .def(
            "report",
            [](PyTrainer& t, const std::string& split) {
                GPTBOOK_CHECK(t.report, "report: only a fine-tuning run on labels or chat has a metric "
                                        "(Trainer.finetune(labels=...) or chat=...)");
                GPTBOOK_CHECK(split == "val" || split == "test",
                              "report: split '" << split << "', expected 'val' or 'test'");
                py::gil_scoped_release release;
                return t.report(t.trainer->model(), split);
            },
            py::arg("split") = "val",
            "report(split='val') -> str: a fine-tuning run's metric, as `gptbook finetune` prints it: a\n"
            "classifier's accuracy and loss (and on 'test' its confusion matrix); a chat model's exact match\n"
            "on held-out instructions (on 'test' also with the held-out phrasing).");
}

} // namespace gptbook::python
