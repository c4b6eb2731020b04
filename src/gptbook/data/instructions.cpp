#include "gptbook/data/instructions.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/core/file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

namespace gptbook {

namespace {

// A family: its name and its phrasings. "{0}" and "{1}" stand for the instance's inputs; the last
// phrasing is the held-out one.
struct Family {
    std::string_view name;
    std::array<std::string_view, 4> phrasings; // K = 4
};

const std::array<Family, 7> families = {{
    {"reverse",
     {"Reverse the word {0}.", "Write {0} backwards.", "What is {0} spelled backwards?",
      "Spell the word {0} from the last letter to the first."}},
    {"sort",
     {"Sort the letters of {0}.", "Put the letters of {0} in alphabetical order.",
      "Arrange the letters in {0} from a to z.", "Rewrite {0} with its letters in sorted order."}},
    {"add",
     {"What is {0} + {1}?", "Add {0} and {1}.", "Compute the sum of {0} and {1}.",
      "If you add {0} to {1}, what do you get?"}},
    {"upper",
     {"Write this in capital letters: {0}", "Convert to upper case: {0}", "Make every letter uppercase: {0}",
      "Repeat in all caps: {0}"}},
    {"count",
     {"How many times does the letter {1} appear in {0}?", "Count the letter {1} in {0}.", "How many {1}'s are in {0}?",
      "In the word {0}, how often does {1} occur?"}},
    {"first",
     {"What is the first letter of {0}?", "Which letter does {0} start with?", "Give the first letter of the word {0}.",
      "Name the letter that begins {0}."}},
    {"repeat",
     {"Repeat {0} twice.", "Say {0} two times.", "Write the word {0} twice.", "Give me {0} and then {0} again."}},
}};

// add: both numbers in [0, max_addend); the sum has at most 3 digits.
constexpr uint64_t max_addend = 100;
// count asks about count_letters letters of each word: its distinct letters (at most 8, the
// longest word), then letters it lacks, so that about a third of the answers are "0".
constexpr uint64_t count_letters = 8;

const Family& family_of(const std::string& name) {
    for (const Family& f : families)
        if (f.name == name) return f;
    std::string known;
    for (const Family& f : families) known.append(known.empty() ? "" : ", ").append(f.name);
    GPTBOOK_FAIL("unknown instruction family \"" << name << "\"; known families: " << known);
}

// The letter that count slot `k` of `word` asks about (see count_letters).
char count_letter(const std::string& word, uint64_t k) {
    std::string letters;
    for (const char c : word)
        if (letters.find(c) == std::string::npos) letters.push_back(c);
    for (char c = 'a'; c <= 'z'; ++c)
        if (word.find(c) == std::string::npos) letters.push_back(c);
    return letters[static_cast<std::size_t>(k)];
}

// The inputs of an instance, as the text the phrasings put in place of {0} and {1}.
std::vector<std::string> instance_inputs(const Family& f, uint64_t instance) {
    const std::vector<std::string>& words = instruction_words();
    const uint64_t n_words = words.size();
    if (f.name == "add") return {std::to_string(instance / max_addend), std::to_string(instance % max_addend)};
    if (f.name == "upper") return {words[instance / n_words] + " " + words[instance % n_words]};
    if (f.name == "count") {
        const std::string& word = words[instance / count_letters];
        return {word, std::string(1, count_letter(word, instance % count_letters))};
    }
    return {words[instance]};
}

std::string response_of(const Family& f, const std::vector<std::string>& in) {
    std::string out = in[0];
    if (f.name == "reverse") std::reverse(out.begin(), out.end());
    if (f.name == "sort") std::sort(out.begin(), out.end());
    if (f.name == "add") out = std::to_string(std::stoi(in[0]) + std::stoi(in[1]));
    if (f.name == "upper")
        for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (f.name == "count") out = std::to_string(std::count(in[0].begin(), in[0].end(), in[1][0]));
    if (f.name == "first") out = in[0].substr(0, 1);
    if (f.name == "repeat") out = in[0] + " " + in[0];
    return out;
}

std::string fill(std::string_view phrasing, const std::vector<std::string>& in) {
    std::string out;
    for (std::size_t i = 0; i < phrasing.size(); ++i) {
        if (phrasing[i] == '{' && i + 2 < phrasing.size() && phrasing[i + 2] == '}') {
            out.append(in[static_cast<std::size_t>(phrasing[i + 1] - '0')]);
            i += 2;
        } else {
            out.push_back(phrasing[i]);
        }
    }
    return out;
}

} // namespace

const std::vector<std::string>& instruction_words() {
    static const std::vector<std::string> words = {
        "apple",   "river",  "stone",  "cloud",   "green",    "table",   "horse",  "light",  "water",   "bread",
        "house",   "music",  "paper",  "tiger",   "zebra",    "lemon",   "mango",  "grape",  "peach",   "cherry",
        "banana",  "orange", "purple", "yellow",  "silver",   "garden",  "forest", "desert", "island",  "valley",
        "bridge",  "castle", "candle", "window",  "mirror",   "pencil",  "rocket", "planet", "comet",   "galaxy",
        "ocean",   "beach",  "shell",  "coral",   "whale",    "shark",   "eagle",  "robin",  "sparrow", "falcon",
        "rabbit",  "turtle", "monkey", "donkey",  "camel",    "llama",   "panda",  "koala",  "otter",   "beaver",
        "badger",  "spider", "beetle", "ant",     "bee",      "cat",     "dog",    "cow",    "pig",     "fox",
        "owl",     "bat",    "rat",    "hen",     "yak",      "elk",     "emu",    "eel",    "cod",     "jam",
        "tea",     "egg",    "pie",    "cake",    "soup",     "rice",    "corn",   "bean",   "salt",    "sugar",
        "honey",   "butter", "cheese", "pepper",  "onion",    "carrot",  "potato", "tomato", "garlic",  "ginger",
        "olive",   "melon",  "plum",   "pear",    "kiwi",     "lime",    "fig",    "nut",    "seed",    "leaf",
        "tree",    "root",   "branch", "flower",  "rose",     "tulip",   "daisy",  "lily",   "grass",   "moss",
        "fern",    "vine",   "bush",   "hill",    "mountain", "lake",    "pond",   "sea",    "bay",     "cave",
        "rock",    "sand",   "dust",   "mud",     "snow",     "rain",    "storm",  "wind",   "frost",   "ice",
        "fire",    "flame",  "smoke",  "ash",     "coal",     "gold",    "iron",   "copper", "steel",   "glass",
        "wood",    "brick",  "clay",   "wool",    "silk",     "cotton",  "linen",  "rope",   "chain",   "key",
        "lock",    "door",   "wall",   "roof",    "floor",    "room",    "hall",   "tower",  "gate",    "road",
        "path",    "street", "town",   "city",    "farm",     "field",   "barn",   "mill",   "ship",    "boat",
        "train",   "plane",  "car",    "bus",     "bike",     "wheel",   "engine", "motor",  "clock",   "watch",
        "bell",    "drum",   "flute",  "piano",   "violin",   "guitar",  "song",   "poem",   "story",   "book",
        "letter",  "word",   "page",   "note",    "map",      "card",    "game",   "ball",   "kite",    "doll",
        "toy",     "box",    "bag",    "cup",     "bowl",     "plate",   "fork",   "spoon",  "knife",   "pan",
        "pot",     "jar",    "bottle", "basket",  "chair",    "bed",     "lamp",   "desk",   "shelf",   "sofa",
        "rug",     "quilt",  "pillow", "blanket", "shirt",    "coat",    "hat",    "scarf",  "glove",   "sock",
        "shoe",    "boot",   "belt",   "ring",    "crown",    "jewel",   "pearl",  "coin",   "money",   "bank",
        "shop",    "market", "school", "class",   "lesson",   "teacher", "doctor", "nurse",  "farmer",  "baker",
        "king",    "queen",  "prince", "knight",  "pirate",   "wizard",  "giant",  "dragon", "ghost",   "angel",
        "friend",  "mother", "father", "sister",  "brother",  "baby",    "child",  "family", "people",  "happy",
        "sad",     "quick",  "slow",   "brave",   "calm",     "kind",    "proud",  "quiet",  "loud",    "bright",
        "dark",    "warm",   "cold",   "soft",    "hard",     "sweet",   "sour",   "fresh",  "clean",   "empty",
        "full",    "small",  "large",  "tiny",    "huge",     "young",   "old",    "new",    "simple",  "strange",
        "jump",    "run",    "walk",   "swim",    "fly",      "sing",    "dance",  "read",   "write",   "draw",
        "paint",   "cook",   "bake",   "sleep",   "dream",    "think",   "laugh",  "smile",  "cry",     "shout",
        "whisper", "listen", "speak",  "open",    "close",    "push",    "pull",   "carry",  "throw",   "catch",
        "climb",   "build",  "break",  "fix",     "plant",    "grow",    "hunt",   "fish",   "travel",  "visit"};
    return words;
}

std::vector<std::string> instruction_families() {
    std::vector<std::string> names;
    for (const Family& f : families) names.emplace_back(f.name);
    return names;
}

int instruction_phrasing_count(const std::string& family) {
    return static_cast<int>(family_of(family).phrasings.size());
}

uint64_t instruction_instance_count(const std::string& family) {
    const Family& f = family_of(family);
    const uint64_t n_words = instruction_words().size();
    if (f.name == "add") return max_addend * max_addend;
    if (f.name == "upper") return n_words * n_words;
    if (f.name == "count") return n_words * count_letters;
    return n_words;
}

Instruction make_instruction(const std::string& family, uint64_t instance, int phrasing) {
    const Family& f = family_of(family);
    const uint64_t n = instruction_instance_count(family);
    GPTBOOK_CHECK(instance < n,
                  "instruction family " << family << ": instance " << instance << " is out of range [0, " << n << ")");
    const int K = static_cast<int>(f.phrasings.size());
    GPTBOOK_CHECK(phrasing >= 0 && phrasing < K,
                  "instruction family " << family << ": phrasing " << phrasing << " is out of range [0, " << K << ")");
    const std::vector<std::string> in = instance_inputs(f, instance);
    return {family, fill(f.phrasings[static_cast<std::size_t>(phrasing)], in), response_of(f, in), phrasing};
}

InstructionSplit instruction_split_of(const std::string& family, uint64_t instance) {
    GPTBOOK_CHECK(instance < instruction_instance_count(family),
                  "instruction family " << family << ": instance " << instance << " is out of range");
    std::string key = family + ":"; // the instance's text: family and inputs, not the phrasing
    for (const std::string& in : instance_inputs(family_of(family), instance)) key.append(in).append("\t");
    return text_hash(key) % 5 == 0 ? InstructionSplit::test : InstructionSplit::train;
}

Instruction random_training_instruction(Rng& rng) {
    const Family& f = families[rng.below(families.size())];
    const std::string family(f.name);
    const uint64_t n = instruction_instance_count(family);
    uint64_t instance = rng.below(n);
    // Every family has train instances (checked by the tests), so this ends.
    while (instruction_split_of(family, instance) != InstructionSplit::train) instance = rng.below(n);
    const auto phrasing = static_cast<int>(rng.below(f.phrasings.size() - 1)); // never the held-out last one
    return make_instruction(family, instance, phrasing);
}

std::vector<Instruction> instruction_eval_set(InstructionEval which, int per_family) {
    GPTBOOK_CHECK(per_family > 0, "instruction_eval_set: per_family is " << per_family << ", expected > 0");
    std::vector<Instruction> out;
    for (std::size_t fi = 0; fi < families.size(); ++fi) {
        const std::string family(families[fi].name);
        std::vector<uint64_t> held_out;
        for (uint64_t i = 0; i < instruction_instance_count(family); ++i)
            if (instruction_split_of(family, i) == InstructionSplit::test) held_out.push_back(i);
        // A fixed Fisher-Yates shuffle: seeded by the family's position, independent of any run.
        Rng rng(0x5EED0000ULL + fi);
        for (std::size_t i = held_out.size(); i > 1; --i) std::swap(held_out[i - 1], held_out[rng.below(i)]);
        held_out.resize(std::min(held_out.size(), static_cast<std::size_t>(per_family)));
        const int K = instruction_phrasing_count(family);
        for (std::size_t k = 0; k < held_out.size(); ++k) {
            const int phrasing = which == InstructionEval::held_out_phrasing
                                     ? K - 1
                                     : static_cast<int>(k % static_cast<std::size_t>(K - 1));
            out.push_back(make_instruction(family, held_out[k], phrasing));
        }
    }
    return out;
}

std::string instruction_alphabet() {
    static const std::string alphabet = [] {
        std::set<char> chars; // every generated text is ASCII: phrasings, words, digits, upper case
        for (const Family& f : families) {
            for (const std::string_view p : f.phrasings) {
                const std::string text = fill(p, {"", ""}); // the phrasing without its placeholders
                chars.insert(text.begin(), text.end());
            }
            const uint64_t n = instruction_instance_count(std::string(f.name));
            for (uint64_t i = 0; i < n; ++i) {
                const std::vector<std::string> in = instance_inputs(f, i);
                for (const std::string& s : in) chars.insert(s.begin(), s.end());
                const std::string r = response_of(f, in);
                chars.insert(r.begin(), r.end());
            }
        }
        return std::string(chars.begin(), chars.end());
    }();
    return alphabet;
}

bool instruction_correct(const Instruction& instruction, std::string_view generated, std::string_view end) {
    if (!end.empty()) generated = generated.substr(0, generated.find(end));
    if (instruction.response.find('\n') == std::string::npos) generated = generated.substr(0, generated.find('\n'));
    return generated == instruction.response;
}

namespace {

// Field `name` of Alpaca item `i` as a string; "" when it is optional and absent.
std::string alpaca_field(const nlohmann::json& item, const char* name, bool required, std::size_t i,
                         const std::string& what) {
    if (!item.contains(name)) {
        GPTBOOK_CHECK(!required, what << ": item " << i << " has no \"" << name
                                      << "\" field; every item needs \"instruction\" and \"output\" strings "
                                         "(\"input\" is optional)");
        return {};
    }
    const nlohmann::json& v = item.at(name);
    GPTBOOK_CHECK(v.is_string(), what << ": item " << i << ": field \"" << name << "\" is a " << v.type_name()
                                      << ", expected a string");
    return v.get<std::string>();
}

} // namespace

std::vector<Instruction> load_alpaca_json(const std::string& path) {
    const std::string what = "Alpaca file " + path;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        GPTBOOK_FAIL(what << " is not valid JSON (" << e.what()
                          << "); expected an array of {\"instruction\", \"input\", \"output\"} objects");
    }
    GPTBOOK_CHECK(j.is_array(), what << ": expected a JSON array of {\"instruction\", \"input\", \"output\"} objects, "
                                        "found a "
                                     << j.type_name());
    GPTBOOK_CHECK(!j.empty(), what << " holds an empty array; expected at least one instruction");
    std::vector<Instruction> out;
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        const nlohmann::json& item = j[i];
        GPTBOOK_CHECK(item.is_object(), what << ": item " << i << " is a " << item.type_name()
                                             << ", expected an object {\"instruction\", \"input\", \"output\"}");
        Instruction ins;
        ins.family = "alpaca";
        ins.prompt = alpaca_field(item, "instruction", true, i, what);
        GPTBOOK_CHECK(!ins.prompt.empty(),
                      what << ": item " << i
                           << " has an empty \"instruction\"; every item needs the request to answer");
        const std::string input = alpaca_field(item, "input", false, i, what);
        if (!input.empty()) ins.prompt.append("\n\n").append(input); // Alpaca: the input is its own paragraph
        ins.response = alpaca_field(item, "output", true, i, what);
        out.push_back(std::move(ins));
    }
    return out;
}

} // namespace gptbook
