#include "gptbook/data/chat.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook {

namespace {

// The id of one template token; `what` names the caller in the error when there is none.
int32_t chat_token_id(const Tokenizer& tokenizer, const std::string& token, const std::string& what) {
    const std::optional<int32_t> id = tokenizer.special_id(token);
    GPTBOOK_CHECK(id.has_value(), what << ": the tokenizer has no \"" << token
                                       << "\" token, so it cannot hold a chat; add the template's tokens with "
                                          "Tokenizer::with_added_tokens(chars, chat_special_tokens(chat)), as "
                                          "`gptbook finetune --chat` does");
    return *id;
}

} // namespace

std::vector<std::string> chat_special_tokens(const ChatTemplate& chat) { return {chat.user, chat.assistant, chat.end}; }

bool holds_chat_template(const Tokenizer& tokenizer, const ChatTemplate& chat) {
    for (const std::string& token : chat_special_tokens(chat))
        if (!tokenizer.special_id(token)) return false;
    return true;
}

void check_chat_tokens(const Tokenizer& tokenizer, const ChatTemplate& chat, const std::string& what) {
    for (const std::string& token : chat_special_tokens(chat)) {
        GPTBOOK_CHECK(tokenizer.special_id(token).has_value(),
                      what << ": the tokenizer has no \"" << token
                           << "\" token, so it cannot hold a chat; fine-tune the run for chat with `gptbook finetune "
                              "--base "
                           << what << " --chat ...`, which adds the template's tokens");
    }
}

Tokens chat_prompt_ids(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt) {
    const int32_t user = chat_token_id(tokenizer, chat.user, "chat_prompt_ids");
    const int32_t assistant = chat_token_id(tokenizer, chat.assistant, "chat_prompt_ids");
    Tokens ids{user};
    const Tokens text = tokenizer.encode_ordinary(prompt); // a user cannot type a special token
    ids.insert(ids.end(), text.begin(), text.end());
    ids.push_back(assistant);
    return ids; // (P)
}

ChatExample chat_example_ids(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt,
                             std::string_view response) {
    const int32_t end = chat_token_id(tokenizer, chat.end, "chat_example_ids");
    Tokens answer = tokenizer.encode_ordinary(response);
    answer.push_back(end); // (R + 1): the response and the end token are what the model learns to write
    return completion_example(chat_prompt_ids(tokenizer, chat, prompt), answer);
}

ChatExample completion_example(const Tokens& prompt, const Tokens& completion) {
    GPTBOOK_CHECK(!prompt.empty() && !completion.empty(),
                  "completion_example: " << prompt.size() << " prompt and " << completion.size()
                                         << " completion tokens; expected at least one of each");
    const std::size_t P = prompt.size();
    Tokens seq = prompt;
    seq.insert(seq.end(), completion.begin(), completion.end()); // (N) = (P + R)
    ChatExample ex;
    ex.inputs.assign(seq.begin(), seq.end() - 1);  // (N-1) seq[:-1]
    ex.targets.assign(seq.begin() + 1, seq.end()); // (N-1) seq[1:]
    // targets[t] = seq[t+1] is a prompt token when t + 1 < P: context, not something to learn.
    std::fill(ex.targets.begin(), ex.targets.begin() + static_cast<std::ptrdiff_t>(P - 1), Batch::ignore);
    return ex;
}

Batch chat_batch(const std::vector<ChatExample>& examples, const std::vector<std::size_t>& rows, int T,
                 int32_t pad_id) {
    GPTBOOK_CHECK(!rows.empty(), "chat_batch: no rows; expected B > 0 example indices");
    GPTBOOK_CHECK(T > 0, "chat_batch: T is " << T << ", expected > 0");
    GPTBOOK_CHECK(pad_id >= 0, "chat_batch: pad_id is " << pad_id << ", expected a token id >= 0 (e.g. the end token)");
    const auto uT = static_cast<std::size_t>(T);
    Batch batch;
    batch.B = static_cast<int>(rows.size());
    batch.T = T;
    batch.inputs.assign(rows.size() * uT, pad_id);         // (B*T)
    batch.targets.assign(rows.size() * uT, Batch::ignore); // (B*T)
    batch.lengths.reserve(rows.size());                    // (B)
    for (std::size_t b = 0; b < rows.size(); ++b) {
        GPTBOOK_CHECK(rows[b] < examples.size(), "chat_batch: row " << b << " is example " << rows[b]
                                                                    << ", but there are " << examples.size()
                                                                    << " examples");
        const ChatExample& ex = examples[rows[b]];
        GPTBOOK_CHECK(ex.inputs.size() == ex.targets.size() && !ex.inputs.empty(),
                      "chat_batch: example " << rows[b] << " has " << ex.inputs.size() << " inputs and "
                                             << ex.targets.size()
                                             << " targets, expected as many of each, at least one; make it "
                                                "with chat_example_ids()");
        GPTBOOK_CHECK(ex.inputs.size() <= uT, "chat_batch: example "
                                                  << rows[b] << " has " << ex.inputs.size()
                                                  << " tokens (prompt, response and template tokens), more than the "
                                                     "block size T="
                                                  << T << "; raise --block-size or shorten the example");
        std::copy(ex.inputs.begin(), ex.inputs.end(), batch.inputs.begin() + static_cast<std::ptrdiff_t>(b * uT));
        std::copy(ex.targets.begin(), ex.targets.end(), batch.targets.begin() + static_cast<std::ptrdiff_t>(b * uT));
        batch.lengths.push_back(static_cast<int32_t>(ex.inputs.size()));
    }
    return batch;
}

} // namespace gptbook
