#include "gptbook/cli/commands.hpp"
#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"

#include <cstdio>
#include <new>
#include <string>

namespace gptbook::cli {

namespace {
std::string invoked_as = "gptbook";
}

const std::string& program_name() { return invoked_as; }

namespace {

// Under mpirun (chapter 15) several copies run: `train` alone knows how to share the work, rank 0
// alone prints progress, and an error on one rank ends them all (the others would otherwise wait
// for it in their next all-reduce, forever). Returns the ranks, 1 for a plain launch.
int join_ranks(int argc, const char* const* argv) {
    const int launched = launched_world_size();
    if (launched <= 1) return 1;
    Communicator& comm = Communicator::world(); // throws in a build without MPI
    const std::string command = argc > 1 ? argv[1] : "";
    GPTBOOK_CHECK(command == "train" || command == "dist",
                  "launched as one of " << launched << " processes (mpirun), but only `train` runs data-parallel (and "
                                        << "`dist allreduce` measures it); run `" << command
                                        << "` as one process, without mpirun");
    if (comm.rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) std::fclose(stdout);
    return comm.size();
}

// One line on stderr; with several ranks, the rank too, and every rank ends.
int fail(const std::string& message, int ranks) {
    if (ranks <= 1) {
        std::fprintf(stderr, "gptbook: %s\n", message.c_str());
        return 1;
    }
    Communicator& comm = Communicator::world();
    std::fprintf(stderr, "gptbook (rank %d of %d): %s\n", comm.rank(), comm.size(), message.c_str());
    std::fflush(stderr);
    comm.abort(1);
}

} // namespace

int run_app(int argc, const char* const* argv) {
    if (argc > 0 && argv[0] != nullptr && *argv[0] != '\0') invoked_as = argv[0];
    int ranks = 1;
    try {
        ranks = join_ranks(argc, argv);
    } catch (const Error& e) {
        return fail(e.what(), 1);
    }
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
    add_dist_command(app);
    add_serve_command(app);
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
        return fail(std::string(e.what()) + "; see " + invoked_as + " --help", ranks);
    } catch (const Error& e) {
        return fail(e.what(), ranks);
    } catch (const std::bad_alloc&) {
        return fail("out of memory; try a smaller --batch-size or --block-size", ranks);
    } catch (const std::exception& e) {
        return fail(std::string("unexpected error: ") + e.what(), ranks);
    }
    return 0;
}

} // namespace gptbook::cli
