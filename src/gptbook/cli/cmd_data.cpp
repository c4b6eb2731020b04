// gptbook data: the corpora gptbook knows, and fetching them.
#include "gptbook/cli/commands.hpp"
#include "gptbook/data/fetch.hpp"

#include <cstdio>
#include <memory>

namespace gptbook::cli {

void add_data_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("data", "List and fetch corpora (data/README.md lists them)");
    cmd->require_subcommand(1);
    CLI::App* list = cmd->add_subcommand("list", "Corpora in the manifest");
    list->callback([] {
        for (const CorpusEntry& e : builtin_manifest())
            std::printf("%-14s %10llu bytes  %s\n               %s\n", e.name.c_str(),
                        static_cast<unsigned long long>(e.bytes), e.license.c_str(),
                        e.shipped ? ("ships with gptbook: data/" + e.file).c_str() : e.url.c_str());
    });
    auto name = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>(default_data_dir());
    CLI::App* fetch = cmd->add_subcommand(
        "fetch",
        "Download a corpus and verify its SHA-256 ($GPTBOOK_DATA_MIRROR first; a shipped one is only verified)");
    fetch->add_option("name", *name, "Corpus name, e.g. shakespeare")->required();
    fetch->add_option("--dir", *dir, "Where to keep it")->capture_default_str();
    fetch->callback([name, dir] {
        const CorpusEntry& entry = find_corpus(builtin_manifest(), *name);
        const std::string path = fetch_corpus(entry, *dir, default_fetch_options());
        std::printf("%s: %s (SHA-256 verified%s)\n", name->c_str(), path.c_str(),
                    entry.shipped ? "; it ships with gptbook, nothing was downloaded" : "");
    });
}

} // namespace gptbook::cli
