#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"

#include <cstdio>
#include <new>

namespace gptbook::cli {

namespace {
std::string invoked_as = "gptbook";
}

const std::string& program_name() { return invoked_as; }

int run_app(int argc, const char* const* argv) {
    if (argc > 0 && argv[0] != nullptr && *argv[0] != '\0') invoked_as = argv[0];
    CLI::App app{"gptbook: a small GPT built chapter by chapter. Train it, sample from it, look inside it.", "gptbook"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show the help of every subcommand");
    app.set_version_flag("--version", "gptbook " GPTBOOK_VERSION);
    add_train_command(app);
    add_finetune_command(app);
    add_align_command(app);
    add_sample_command(app);
    add_chat_command(app);
    add_rag_command(app);
    add_quantize_command(app);
    add_distill_command(app);
    add_eval_command(app);
    add_inspect_command(app);
    add_data_command(app);
    add_tokenize_command(app);
    add_import_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // One line, as every other error: what was wrong and where to look.
        std::fprintf(stderr, "gptbook: %s; see %s --help\n", e.what(), invoked_as.c_str());
        return 1;
    } catch (const Error& e) {
        std::fprintf(stderr, "gptbook: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "gptbook: out of memory; try a smaller --batch-size or --block-size\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gptbook: unexpected error: %s\n", e.what());
        return 1;
    }
    return 0;
}

} // namespace gptbook::cli
