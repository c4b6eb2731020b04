#include "gptbook/data/tasks.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>

namespace gptbook {

namespace {

// The digit tasks (sort, reverse, copy) share their prompts: n_digits digits from {0..base-1}.
constexpr int n_digits = 6;
constexpr int digit_base = 3;
// add: two numbers of add_digits digits; their sum has add_digits + 1.
constexpr int add_digits = 2;

bool is_add(const Task& task) { return task.name == "add"; }

std::string joined_names() {
    std::string out;
    for (const auto& n : task_names()) out.append(out.empty() ? "" : ", ").append(n);
    return out;
}

[[noreturn]] void bad_prompt(const Task& task, std::string_view prompt) {
    GPTBOOK_FAIL("task " << task.name << ": prompt \"" << prompt << "\" is not in the task's format; expected "
                         << task.prompt_length << " characters like \""
                         << task_example_at(task, 0).substr(0, static_cast<std::size_t>(task.prompt_length)) << "\" ("
                         << task.description << ")");
}

// The numbers a prompt stands for: digits for the digit tasks, {a, b} for add.
std::vector<int> parse_prompt(const Task& task, std::string_view prompt) {
    if (prompt.size() != static_cast<std::size_t>(task.prompt_length)) bad_prompt(task, prompt);
    const auto digit = [&](std::size_t i, int base) {
        const int d = prompt[i] - '0';
        if (d < 0 || d >= base) bad_prompt(task, prompt);
        return d;
    };
    if (is_add(task)) {
        if (prompt[2] != '+' || prompt[5] != '=') bad_prompt(task, prompt);
        return {digit(0, 10) * 10 + digit(1, 10), digit(3, 10) * 10 + digit(4, 10)};
    }
    if (prompt.back() != '>') bad_prompt(task, prompt);
    std::vector<int> digits;
    for (std::size_t i = 0; i < n_digits; ++i) digits.push_back(digit(i, digit_base));
    return digits;
}

std::string two_digits(int v) { return {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)}; }

} // namespace

std::vector<std::string> task_names() { return {"sort", "reverse", "copy", "add"}; }

Task make_task(const std::string& name) {
    Task task;
    task.name = name;
    if (name == "sort" || name == "reverse" || name == "copy") {
        task.alphabet = "\n012>";
        task.prompt_length = n_digits + 1;
        task.answer_length = n_digits;
        task.num_examples = 729; // digit_base ^ n_digits
        task.description = name;
        task.description.append(" 6 digits from {0,1,2}: 120201>")
            .append(name == "sort"      ? "001122"
                    : name == "reverse" ? "102021"
                                        : "120201");
    } else if (name == "add") {
        task.alphabet = "\n+0123456789=";
        task.prompt_length = 2 * add_digits + 2;
        task.answer_length = add_digits + 1;
        task.num_examples = 10000; // 100 * 100
        task.description = "add two 2-digit numbers, sum written backwards: 12+34=640";
    } else {
        GPTBOOK_FAIL("unknown task \"" << name << "\"; known tasks: " << joined_names());
    }
    task.example_length = task.prompt_length + task.answer_length + 1;
    return task;
}

CharTokenizer task_tokenizer(const Task& task) {
    std::string what = "task ";
    what.append(task.name).append(" alphabet");
    return CharTokenizer::from_text(task.alphabet, what);
}

std::string task_example_at(const Task& task, uint64_t index) {
    GPTBOOK_CHECK(index < task.num_examples, "task " << task.name << ": example index " << index
                                                     << " is out of range [0, " << task.num_examples << ")");
    std::string prompt;
    if (is_add(task)) {
        prompt.append(two_digits(static_cast<int>(index / 100))).append("+");
        prompt.append(two_digits(static_cast<int>(index % 100))).append("=");
    } else {
        prompt.assign(n_digits, '0');
        for (int i = n_digits - 1; i >= 0; --i, index /= digit_base) {
            prompt[static_cast<std::size_t>(i)] = static_cast<char>('0' + index % digit_base);
        }
        prompt.push_back('>');
    }
    const std::string answer = task_answer(task, prompt);
    return prompt.append(answer).append("\n");
}

std::string task_answer(const Task& task, std::string_view prompt) {
    const std::vector<int> v = parse_prompt(task, prompt);
    std::string answer;
    if (is_add(task)) {
        const int sum = v[0] + v[1]; // at most 99 + 99 = 198: three digits
        answer = {static_cast<char>('0' + sum % 10), static_cast<char>('0' + sum / 10 % 10),
                  static_cast<char>('0' + sum / 100)};
        return answer; // least significant digit first
    }
    answer.assign(prompt.substr(0, n_digits));
    if (task.name == "sort") std::sort(answer.begin(), answer.end());
    if (task.name == "reverse") std::reverse(answer.begin(), answer.end());
    return answer;
}

bool task_is_correct(const Task& task, std::string_view prompt, std::string_view answer) {
    const std::string expected = task_answer(task, prompt);
    return answer.substr(0, answer.find('\n')) == expected;
}

TaskSplit task_split_of(const Task& task, std::string_view example) {
    const std::string_view prompt = example.substr(0, static_cast<std::size_t>(task.prompt_length));
    return text_hash(prompt) % 5 == 0 ? TaskSplit::test : TaskSplit::train;
}

std::string task_example(const Task& task, Rng& rng, TaskSplit split) {
    for (;;) { // both splits are non-empty for every task (checked by the tests), so this ends
        std::string example = task_example_at(task, rng.below(task.num_examples));
        if (task_split_of(task, example) == split) return example;
    }
}

std::vector<std::string> task_examples(const Task& task, TaskSplit split) {
    std::vector<std::string> out;
    for (uint64_t i = 0; i < task.num_examples; ++i) {
        std::string example = task_example_at(task, i);
        if (task_split_of(task, example) == split) out.push_back(std::move(example));
    }
    return out;
}

Batch task_batch(const Task& task, const CharTokenizer& tokenizer, int B, Rng& rng, TaskSplit split) {
    GPTBOOK_CHECK(B > 0, "task_batch: B is " << B << ", expected > 0");
    std::vector<std::string> examples;
    for (int b = 0; b < B; ++b) examples.push_back(task_example(task, rng, split));
    return task_batch_of(task, tokenizer, examples);
}

Batch task_batch_of(const Task& task, const CharTokenizer& tokenizer, const std::vector<std::string>& examples) {
    GPTBOOK_CHECK(!examples.empty(), "task_batch: no examples; expected B > 0");
    const int T = task.example_length - 1;
    const auto uT = static_cast<std::size_t>(T);
    Batch batch;
    batch.B = static_cast<int>(examples.size());
    batch.T = T;
    for (std::size_t b = 0; b < examples.size(); ++b) {
        const Tokens ids = tokenizer.encode(examples[b]);
        GPTBOOK_CHECK(ids.size() == uT + 1, "task " << task.name << ": example " << b << " \"" << examples[b]
                                                    << "\" has " << ids.size() << " characters, expected "
                                                    << task.example_length);
        batch.inputs.insert(batch.inputs.end(), ids.begin(), ids.end() - 1);   // example[:-1]
        batch.targets.insert(batch.targets.end(), ids.begin() + 1, ids.end()); // example[1:]
        // Target t predicts character t+1; those up to the separator are the given prompt.
        const auto row = batch.targets.end() - T;
        std::fill(row, row + (task.prompt_length - 1), Batch::ignore);
    }
    return batch;
}

} // namespace gptbook
