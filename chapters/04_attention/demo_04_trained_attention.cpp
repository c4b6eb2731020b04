// Chapter 04: what a trained model attends to. This demo trains (or loads) a whole GPT, so it
// links the modules of chapters 06 and 08 as well; chapter 04 only reads its attention weights.
//
// Shapes: B batch, T time, C channels, NH heads, L layers, N = B*T tokens. The weights of layer l,
// head h of a batch of one sequence are acts.h[l].att.cols(h*T, h*T + T - 1): (T, T), column =
// query, row = key.
//
// Usage:
//   demo_04_trained_attention [--smoke]          train a one-layer model to reverse digit strings
//                                                (seconds) and show which digit each answer reads
//   demo_04_trained_attention --run DIR [--text LINE] [--layer L]
//                                                load a trained run (gptbook train) and show, for
//                                                every character of LINE, the one each head of
//                                                layer L attends to most
#include "gptbook/core/blas.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/data/tasks.hpp"
#include "gptbook/model/checkpoint.hpp"
#include "gptbook/model/gpt.hpp"
#include "gptbook/train/trainer.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

using namespace gptbook;

namespace {

// A character as the demo prints it: newlines and spaces made visible.
std::string shown(const std::string& c) { return c == "\n" ? "\\n" : c == " " ? "_" : c; }

// The (T, T) attention weights of layer `l`, head `h`, for a batch of one sequence.
Mat head_weights(const ActivationTensors& acts, int l, int h) {
    const int T = acts.T;
    return acts.h[l].att.cols(h * T, h * T + T - 1);
}

// Trains a one-layer, two-head GPT on the reverse task ("120201>102021\n"); single-threaded so
// that the printed numbers are the same on every run.
std::unique_ptr<Trainer> train_reverse(const Task& task, const CharTokenizer& tok) {
    GPTConfig cfg;
    cfg.vocab_size = tok.vocab_size();
    cfg.block_size = task.example_length - 1;
    cfg.n_layer = 1;
    cfg.n_head = 2;
    cfg.n_embd = 32;
    TrainConfig tc = find_preset("reverse").train;
    tc.max_iters = 300;
    tc.eval_interval = 100;
    tc.threads = 1;
    set_num_threads(tc.threads); // the Trainer leaves threads to its caller, as `gptbook train` does
    DataSource data;
    data.sample = [task, tok](int split, int B, Rng& rng) {
        return task_batch(task, tok, B, rng, split == 0 ? TaskSplit::train : TaskSplit::test);
    };
    TrainerOptions options;
    options.progress = false;
    options.on_eval = [](const EvalRow& r) {
        std::printf("step %3d: train loss %.2f, held-out loss %.2f\n", r.step, r.train_loss, r.val_loss);
    };
    auto trainer = std::make_unique<Trainer>(cfg, tc, data, options);
    trainer->run();
    return trainer;
}

// Prints each head's (T, T) weights in percent, then, for each answer position, the prompt
// position its strongest head reads.
void show_task_attention(const GPT& model, const Task& task, const CharTokenizer& tok, const std::string& line) {
    const int T = task.example_length - 1;
    const Tokens inputs = tok.encode(line.substr(0, T));
    ActivationTensors acts(model.config, 1, T);
    gpt_forward(model, acts, inputs, nullptr);
    const bool held_out = task_split_of(task, line) == TaskSplit::test;
    std::printf("\nexample %s (%s): inputs are its first %d characters, t = 0..%d\n", shown(line.substr(0, T)).c_str(),
                held_out ? "held out, never in a training batch" : "a training example", T, T - 1);
    for (int h = 0; h < model.config.n_head; ++h) {
        const Mat a = head_weights(acts, 0, h); // (T, T)
        std::printf("\nlayer 0, head %d: weights in %% (column = query t, row = key); '.' below 1%%\n     ", h);
        for (int t = 0; t < T; ++t) std::printf(" %3s", shown(line.substr(t, 1)).c_str());
        std::printf("\n");
        for (int key = 0; key < T; ++key) {
            std::printf("%2d %s ", key, shown(line.substr(key, 1)).c_str());
            for (int t = 0; t < T; ++t) {
                if (key > t) std::printf("    ");
                else if (a(key, t) < 0.01f) std::printf("   .");
                else std::printf(" %3.0f", 100.0f * a(key, t));
            }
            std::printf("\n");
        }
    }
    std::printf("\nanswer digit j is predicted at query t = %d + j and must copy prompt digit 5 - j:\n",
                task.prompt_length - 1);
    for (int j = 0; j < task.answer_length; ++j) {
        const int t = task.prompt_length - 1 + j;
        int best_h = 0;
        arma::uword best_key = 0;
        float best = -1.0f;
        for (int h = 0; h < model.config.n_head; ++h) {
            const Mat a = head_weights(acts, 0, h);
            const arma::uword key = a.col(t).index_max();
            if (a(key, t) > best) best = a(key, t), best_key = key, best_h = h;
        }
        const arma::uword predicted = acts.logits.col(t).index_max();
        std::printf("  j=%d  query t=%2d: head %d reads key %llu ('%s', %3.0f%%); predicts '%s', expected '%s'\n", j, t,
                    best_h, static_cast<unsigned long long>(best_key), line.substr(best_key, 1).c_str(), 100.0f * best,
                    tok.decode_one(static_cast<int32_t>(predicted)).c_str(), line.substr(t + 1, 1).c_str());
    }
}

// For each character of `text`, the character each head of layer `l` (-1: the last) attends to most.
void show_run_attention(const std::string& run, const std::string& text, int l) {
    const std::string path = run + "/model.safetensors";
    const LoadedModel loaded = load_model(path);
    const GPT& model = *loaded.model;
    GPTBOOK_CHECK(!loaded.tokenizer_json.empty(),
                  path << " holds no tokenizer; expected a run written by gptbook train");
    const CharTokenizer tok = CharTokenizer::from_json(nlohmann::json::parse(loaded.tokenizer_json));
    if (l < 0) l = model.config.n_layer - 1;
    const Tokens inputs = tok.encode(text);
    const int T = static_cast<int>(inputs.size()), NH = model.config.n_head;
    GPTBOOK_CHECK(T >= 1 && T <= model.config.block_size,
                  "--text has " << T << " characters; expected 1 to block_size=" << model.config.block_size);
    GPTBOOK_CHECK(l >= 0 && l < model.config.n_layer,
                  "--layer " << l << " is out of range; the model has " << model.config.n_layer << " layers");
    ActivationTensors acts(model.config, 1, T);
    gpt_forward(model, acts, inputs, nullptr);
    std::printf("%s: L%d H%d C%d; layer %d, the key each query attends to most, per head\n", run.c_str(),
                model.config.n_layer, NH, model.config.n_embd, l);
    for (int t = 0; t < T; ++t) {
        std::printf("%3d %-3s", t, shown(tok.decode_one(inputs[t])).c_str());
        for (int h = 0; h < NH; ++h) {
            const Mat a = head_weights(acts, l, h);
            const arma::uword key = a.col(t).index_max();
            std::printf(" | h%d: %2llu %-3s %3.0f%%", h, static_cast<unsigned long long>(key),
                        shown(tok.decode_one(inputs[key])).c_str(), 100.0f * a(key, t));
        }
        std::printf("\n");
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string run, text = "ROMEO:\nBut soft, what light through yonder window breaks?";
    int layer = -1;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            const bool has_value = i + 1 < argc;
            if (arg == "--smoke") continue; // the default already runs in seconds with fixed output
            else if (arg == "--run" && has_value) run = argv[++i];
            else if (arg == "--text" && has_value) text = argv[++i];
            else if (arg == "--layer" && has_value) {
                const std::string value = argv[++i];
                GPTBOOK_CHECK(!value.empty() && value.find_first_not_of("0123456789") == std::string::npos,
                              "--layer is '" << value << "'; expected a layer number, 0 for the first");
                layer = std::stoi(value);
            } else
                GPTBOOK_FAIL("unknown or incomplete argument '" << arg << "'; usage: demo_04_trained_attention "
                                                                << "[--smoke] | --run DIR [--text LINE] [--layer L]");
        }
        if (!run.empty()) {
            show_run_attention(run, text, layer);
            return 0;
        }
        const Task task = make_task("reverse");
        const CharTokenizer tok = task_tokenizer(task);
        std::printf("training a 1-layer, 2-head GPT to reverse 6 digits (%s)\n", task.description.c_str());
        const auto trainer = train_reverse(task, tok);
        show_task_attention(trainer->model(), task, tok, "120201>102021\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo_04_trained_attention: %s\n", e.what());
        return 1;
    }
    return 0;
}
