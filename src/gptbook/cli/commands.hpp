/**
 * @file
 * @brief The subcommands of the `gptbook` command line tool.
 */
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace gptbook::cli {

/// Registers a subcommand on `app`; its callback runs the command and throws gptbook::Error on
/// bad input. This one is `train`: train a GPT on a corpus or a synthetic task.
void add_train_command(CLI::App& app);
/// Registers `sample` on `app`: generate text from a trained model (see add_train_command()).
void add_sample_command(CLI::App& app);
/// Registers `eval` on `app`: loss and perplexity on a text, or accuracy on a synthetic task.
void add_eval_command(CLI::App& app);
/// Registers `inspect` on `app`: the config, parameter table and training state of a run or file.
void add_inspect_command(CLI::App& app);
/// Registers `data` on `app`: list corpora and fetch them with their SHA-256 checked.
void add_data_command(CLI::App& app);
/// Registers `tokenize` on `app`: train a byte-level BPE tokenizer; encode and decode text.
void add_tokenize_command(CLI::App& app);
/// Registers `import` on `app`: a Hugging Face GPT-2 checkpoint turned into a run directory.
void add_import_command(CLI::App& app);
/// Registers `finetune` on `app`: start from a trained run; a classifier, a chat model, LoRA (chapter 11).
void add_finetune_command(CLI::App& app);
/// Registers `align` on `app`: preference pairs, a reward model, DPO (chapter 12).
void add_align_command(CLI::App& app);
/// Registers `chat` on `app`: talk to a chat fine-tuned run, one prompt per line (chapter 11).
void add_chat_command(CLI::App& app);
/// Registers `rag`: a world of facts, indexes, a reader and an embedding model, ask and eval (chapter 13).
void add_rag_command(CLI::App& app);
/// Registers `quantize`: a run's matrices stored as int8 or int4 (chapter 14).
void add_quantize_command(CLI::App& app);
/// Registers `distill`: a small student trained on a teacher's softened predictions (chapter 14).
void add_distill_command(CLI::App& app);
/// Registers `dist`: measure MPI's all-reduce and predict data-parallel scaling (chapter 15).
void add_dist_command(CLI::App& app);
/// Registers `serve`: the playground page and its JSON API, for class demos (chapters 04 and 07).
void add_serve_command(CLI::App& app);

/// The command as the user typed it (`build/release/gptbook`, or `gptbook` when it was found on the
/// PATH), for hints that name a command to run next: a student can paste them as they are.
const std::string& program_name();

/// Runs the tool: parses `argv`, runs the subcommand, and turns every error into one line on
/// stderr. Returns the process exit code (0 success, 1 error).
int run_app(int argc, const char* const* argv);

} // namespace gptbook::cli
