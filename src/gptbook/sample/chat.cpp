#include "gptbook/sample/chat.hpp"

#include "gptbook/sample/generate.hpp"

#include <algorithm>

namespace gptbook {

std::string chat_reply(const GPT& model, const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view prompt,
                       int max_new_tokens, const SamplingOptions& options, Rng& rng,
                       const std::function<void(const std::string&)>& on_text) {
    const Tokens ids = chat_prompt_ids(tokenizer, chat, prompt); // checks the template's tokens
    const int32_t end = *tokenizer.special_id(chat.end);
    std::string answer;
    StreamingDecoder decoder(tokenizer);
    generate(model, ids, max_new_tokens, options, rng, [&](int32_t token) {
        if (token == end) return false; // the answer is complete
        const std::string piece = decoder.push(token);
        answer += piece;
        if (on_text && !piece.empty()) on_text(piece);
        return true;
    });
    const std::string rest = decoder.flush();
    answer += rest;
    if (on_text && !rest.empty()) on_text(rest);
    return answer;
}

ChatAccuracy chat_accuracy(const GPT& model, const Tokenizer& tokenizer, const ChatTemplate& chat,
                           const std::vector<Instruction>& instructions) {
    ChatAccuracy acc;
    SamplingOptions greedy;
    greedy.temperature = 0.0f;
    Rng rng(0); // greedy draws nothing
    for (const Instruction& ins : instructions) {
        const int budget = static_cast<int>(tokenizer.encode(ins.response).size()) + 8;
        const std::string answer = chat_reply(model, tokenizer, chat, ins.prompt, budget, greedy, rng);
        const bool correct = instruction_correct(ins, answer, chat.end);
        auto family = std::find_if(acc.by_family.begin(), acc.by_family.end(),
                                   [&](const FamilyAccuracy& f) { return f.family == ins.family; });
        if (family == acc.by_family.end()) family = acc.by_family.insert(family, FamilyAccuracy{ins.family, 0, 0});
        ++family->total;
        ++acc.total;
        if (correct) {
            ++family->correct;
            ++acc.correct;
        } else if (acc.first_wrong.empty()) {
            std::string shown; // on one line: a newline the model wrote is shown as \n
            for (char c : answer) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
            acc.first_wrong = ins.prompt + " -> " + shown + " (expected " + ins.response + ")";
        }
    }
    return acc;
}

} // namespace gptbook
