#include "gptbook/data/preferences.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"
#include "gptbook/data/jsonl.hpp"

#include <nlohmann/json.hpp>

namespace gptbook {

namespace {

const char* const expected_line =
    "one JSON object {\"prompt\": \"...\", \"chosen\": \"...\", \"rejected\": \"...\"} per line";

} // namespace

std::vector<PreferencePair> load_preferences_jsonl(const std::string& path) {
    std::vector<PreferencePair> pairs;
    for_each_jsonl_object(path, expected_line, [&](const nlohmann::json& obj, const std::string& where) {
        PreferencePair p;
        p.prompt = jsonl_string_field(obj, "prompt", where, expected_line);
        p.chosen = jsonl_string_field(obj, "chosen", where, expected_line);
        p.rejected = jsonl_string_field(obj, "rejected", where, expected_line);
        for (const auto& [name, text] : {std::pair{"chosen", &p.chosen}, std::pair{"rejected", &p.rejected}})
            GPTBOOK_CHECK(!text->empty(), where << ": the \"" << name
                                                << "\" completion is empty; a pair needs two non-empty "
                                                   "completions to compare. Remove the line");
        pairs.push_back(std::move(p));
    });
    return pairs;
}

void save_preferences_jsonl(const std::string& path, const std::vector<PreferencePair>& pairs) {
    std::string out;
    for (const PreferencePair& p : pairs) {
        const nlohmann::json obj{{"prompt", p.prompt}, {"chosen", p.chosen}, {"rejected", p.rejected}};
        out += obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
    }
    write_file_atomic(path, out);
}

std::pair<ChatExample, ChatExample> preference_examples(const Tokenizer& tokenizer, const PreferencePair& pair,
                                                        int32_t bos) {
    const ChatTemplate chat;
    if (holds_chat_template(tokenizer, chat)) {
        // A model fine-tuned for chat reads a pair as it reads a turn: the prompt in the template,
        // each answer followed by the end token, which is scored with it (stopping is part of it).
        return {chat_example_ids(tokenizer, chat, pair.prompt, pair.chosen),
                chat_example_ids(tokenizer, chat, pair.prompt, pair.rejected)};
    }
    Tokens prompt = tokenizer.encode_ordinary(pair.prompt);
    if (prompt.empty()) prompt.push_back(bos);
    const Tokens chosen = tokenizer.encode_ordinary(pair.chosen), rejected = tokenizer.encode_ordinary(pair.rejected);
    GPTBOOK_CHECK(!chosen.empty() && !rejected.empty(),
                  "preference_examples: a completion encodes to no token; expected non-empty completions");
    return {completion_example(prompt, chosen), completion_example(prompt, rejected)};
}

} // namespace gptbook
