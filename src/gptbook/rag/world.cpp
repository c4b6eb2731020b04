// Shapes: P people, A attributes, k passages.
#include "gptbook/rag/world.hpp"

#include "gptbook/core/error.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <unordered_set>

namespace gptbook {

namespace {

// One attribute: its values, the templates of its passages and the phrasings of its questions.
// "{n}" stands for the name, "{v}" for the value.
struct Attribute {
    std::string name;
    std::vector<std::string> values;
    std::array<std::string_view, 3> passages;
    std::array<std::string_view, 4> questions;
};

const std::array<Attribute, world_attributes>& attributes() {
    static const std::array<Attribute, world_attributes> all = {{
        {"city",
         {"Oslo",   "Lima",   "Paris",   "Cairo",  "Dublin",  "Madrid",  "Rome",    "Vienna", "Prague",  "Lisbon",
          "Athens", "Berlin", "Warsaw",  "Quito",  "Tokyo",   "Seoul",   "Delhi",   "Dakar",  "Nairobi", "Havana",
          "Bogota", "Boston", "Denver",  "Austin", "Toronto", "Sydney",  "Perth",   "Geneva", "Zurich",  "Milan",
          "Naples", "Porto",  "Seville", "Bergen", "Riga",    "Tallinn", "Vilnius", "Krakow", "Sofia",   "Belgrade"},
         {"{n} was born in {v}.", "{n} comes from {v}.", "{n} grew up in {v}."},
         {"Where was {n} born?", "What city is {n} from?", "Where is the home of {n}?", "Which town is {n} from?"}},
        {"job",
         {"baker",  "sailor",  "farmer",    "tailor", "potter",   "doctor",   "lawyer", "painter", "miner",
          "weaver", "butcher", "carpenter", "fisher", "hunter",   "singer",   "dancer", "teacher", "nurse",
          "pilot",  "soldier", "smith",     "cook",   "gardener", "merchant", "banker"},
         {"{n} works as a {v}.", "{n} is a {v} by trade.", "{n} earns a living as a {v}."},
         {"What is the job of {n}?", "What does {n} do for a living?", "What is the trade of {n}?",
          "What work does {n} do?"}},
        {"pet",
         {"cat",  "dog",    "parrot", "rabbit", "goat", "horse", "hamster", "turtle", "snake", "ferret",
          "pony", "canary", "lizard", "mouse",  "pig",  "duck",  "goose",   "frog",   "crow",  "toad"},
         {"{n} has a pet {v}.", "{n} keeps a {v} at home.", "A {v} lives with {n}."},
         {"What pet does {n} have?", "What animal does {n} keep?", "Which animal lives with {n}?",
          "What pet is owned by {n}?"}},
        {"colour",
         {"red", "blue", "green", "yellow", "purple", "orange", "black", "white", "grey", "pink", "brown", "gold",
          "silver", "violet", "teal", "crimson"},
         {"{n} likes {v} best.", "{n} loves anything {v}.", "{n} always wears {v}."},
         {"What colour does {n} like?", "Which colour does {n} love?", "What is the colour of {n}?",
          "What colour does {n} wear?"}},
        {"instrument",
         {"piano", "violin", "flute", "drum", "harp", "guitar", "cello", "trumpet", "oboe", "banjo", "lute", "organ",
          "horn", "tuba", "fiddle", "bagpipe"},
         {"{n} plays the {v}.", "{n} is a fine {v} player.", "{n} practises the {v}."},
         {"What does {n} play?", "Which instrument is {n} good at?", "What does {n} practise?",
          "What music does {n} make?"}},
    }};
    return all;
}

const Attribute& attribute(int a) {
    GPTBOOK_CHECK(a >= 0 && a < world_attributes,
                  "attribute " << a << " is out of range; expected 0.." << world_attributes - 1);
    return attributes()[static_cast<size_t>(a)];
}

std::string fill(std::string_view templ, const std::string& name, const std::string& value) {
    std::string out;
    for (size_t i = 0; i < templ.size(); ++i) {
        if (templ[i] == '{' && i + 2 < templ.size() && templ[i + 2] == '}') {
            out += templ[i + 1] == 'n' ? name : value;
            i += 2;
        } else {
            out += templ[i];
        }
    }
    return out;
}

// Every lowercase word of the templates, phrasings and values: no name may be one of them, or a
// retriever matching words would find a name in another fact's sentence.
const std::unordered_set<std::string>& reserved_words() {
    static const std::unordered_set<std::string> words = [] {
        std::unordered_set<std::string> w;
        auto add = [&](std::string_view text) {
            std::string word;
            for (const char c : text) {
                if (std::isalpha(static_cast<unsigned char>(c))) {
                    word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                } else {
                    if (!word.empty()) w.insert(word);
                    word.clear();
                }
            }
            if (!word.empty()) w.insert(word);
        };
        for (const Attribute& a : attributes()) {
            for (const std::string& v : a.values) add(v);
            for (std::string_view t : a.passages) add(t);
            for (std::string_view q : a.questions) add(q);
        }
        add(unknown_answer);
        return w;
    }();
    return words;
}

// One word of a name: syllables of a consonant and a vowel, and a final consonant or none.
std::string name_word(uint64_t h, int syllables, bool coda) {
    static constexpr std::string_view onsets = "bdfghjklmnprstvz";
    static constexpr std::string_view vowels = "aeiou";
    static constexpr std::string_view codas = "nrls";
    std::string w;
    for (int s = 0; s < syllables; ++s) {
        w += onsets[h % onsets.size()];
        h /= onsets.size();
        w += vowels[h % vowels.size()];
        h /= vowels.size();
    }
    if (coda && h % 2 == 1) w += codas[(h / 2) % codas.size()];
    w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    return w;
}

// Candidate name number i: the same sequence on every machine. A first name of 2 syllables (6,400
// of them) and a family name of 2 or 3 and maybe a final consonant: at most 4 + 1 + 7 characters,
// so that passages stay short in a character model's context.
std::string candidate_name(uint64_t i) {
    const uint64_t h = rng_hash(0x5eed0fac75ULL, i);
    const int last_syllables = 2 + static_cast<int>((h >> 62) & 1);
    return name_word(h, 2, false) + " " + name_word(rng_hash(h, 1), last_syllables, true);
}

bool name_allowed(const std::string& name) {
    const size_t space = name.find(' ');
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    return !reserved_words().contains(lower(name.substr(0, space))) &&
           !reserved_words().contains(lower(name.substr(space + 1)));
}

WorldSplit split_of(const std::string& name) { return text_hash(name) % 5 == 0 ? WorldSplit::test : WorldSplit::train; }

// Which template (or phrasing) a hash of the fact picks.
uint64_t fact_hash(const std::string& name, int attribute, const char* what) {
    return text_hash(name + "/" + std::to_string(attribute) + "/" + what);
}

} // namespace

std::string to_string(WorldSplit s) { return s == WorldSplit::train ? "train" : "test"; }

WorldSplit world_split_from_string(const std::string& s) {
    if (s == "train") return WorldSplit::train;
    if (s == "test") return WorldSplit::test;
    GPTBOOK_FAIL("world '" << s << "' is unknown; expected 'train' (the people the reader learns on) or 'test' "
                           << "(people it never saw)");
}

const std::array<std::string, world_attributes>& attribute_names() {
    static const std::array<std::string, world_attributes> names = [] {
        std::array<std::string, world_attributes> n;
        for (int a = 0; a < world_attributes; ++a)
            n[static_cast<size_t>(a)] = attributes()[static_cast<size_t>(a)].name;
        return n;
    }();
    return names;
}

const std::vector<std::string>& attribute_values(int a) { return attribute(a).values; }

std::vector<Person> make_world(WorldSplit split, int people) {
    constexpr int most = 1'000'000;
    GPTBOOK_CHECK(people >= 1 && people <= most,
                  "a world of " << people << " people was asked for; expected 1.." << most);
    std::vector<Person> out;
    out.reserve(static_cast<size_t>(people));
    std::unordered_set<std::string> seen; // names of both worlds: a name is never reused
    for (uint64_t i = 0; static_cast<int>(out.size()) < people; ++i) {
        std::string name = candidate_name(i);
        if (!seen.insert(name).second || !name_allowed(name) || split_of(name) != split) continue;
        Person p;
        p.name = std::move(name);
        for (int a = 0; a < world_attributes; ++a)
            p.values[static_cast<size_t>(a)] =
                static_cast<int>(fact_hash(p.name, a, "value") % attribute(a).values.size());
        out.push_back(std::move(p));
    }
    return out;
}

Passage world_passage(const Person& person, int a, int templ) {
    const Attribute& at = attribute(a);
    GPTBOOK_CHECK(templ < static_cast<int>(at.passages.size()),
                  "template " << templ << " of " << at.name << " is out of range; expected < " << at.passages.size());
    const size_t t =
        templ >= 0 ? static_cast<size_t>(templ) : fact_hash(person.name, a, "passage") % at.passages.size();
    return {person.name + "/" + at.name,
            fill(at.passages[t], person.name, at.values[static_cast<size_t>(person.values[static_cast<size_t>(a)])])};
}

std::vector<Passage> world_passages(const std::vector<Person>& people) {
    std::vector<Passage> out;
    out.reserve(people.size() * world_attributes);
    for (const Person& p : people)
        for (int a = 0; a < world_attributes; ++a) out.push_back(world_passage(p, a));
    return out;
}

int question_phrasings(int a) { return static_cast<int>(attribute(a).questions.size()); }

WorldQuestion world_question(const Person& person, int a, int phrasing) {
    const Attribute& at = attribute(a);
    GPTBOOK_CHECK(phrasing >= 0 && phrasing < question_phrasings(a), "phrasing " << phrasing << " of " << at.name
                                                                                 << " is out of range; expected 0.."
                                                                                 << question_phrasings(a) - 1);
    WorldQuestion q;
    q.text = fill(at.questions[static_cast<size_t>(phrasing)], person.name, "");
    q.answer = at.values[static_cast<size_t>(person.values[static_cast<size_t>(a)])];
    q.passage_id = person.name + "/" + at.name;
    q.attribute = a;
    return q;
}

std::vector<WorldQuestion> world_questions(const std::vector<Person>& people, int n) {
    GPTBOOK_CHECK(n >= 1 && static_cast<size_t>(n) <= people.size() * world_attributes,
                  n << " questions were asked for about " << people.size() << " people; expected 1.."
                    << people.size() * world_attributes << " (one per fact)");
    std::vector<WorldQuestion> out;
    for (int i = 0; i < n; ++i) {
        const Person& p = people[static_cast<size_t>(i / world_attributes)];
        const int a = i % world_attributes;
        out.push_back(world_question(p, a, static_cast<int>(fact_hash(p.name, a, "question") % 4)));
    }
    return out;
}

std::string reader_prompt(const std::vector<std::string>& passages, const std::string& question) {
    std::string out = question;
    for (const std::string& p : passages) out += "\n" + p;
    return out;
}

Person random_person(WorldSplit split, Rng& rng) {
    Person p;
    do {
        p.name = candidate_name(rng.below(uint64_t{1} << 40));
    } while (!name_allowed(p.name) || split_of(p.name) != split);
    for (int a = 0; a < world_attributes; ++a)
        p.values[static_cast<size_t>(a)] = static_cast<int>(rng.below(attribute(a).values.size()));
    return p;
}

ReaderExample random_reader_example(const std::vector<Person>& known, WorldSplit split, int k, Rng& rng,
                                    std::string_view kind) {
    GPTBOOK_CHECK(k >= 1, "a reader example needs k >= 1 passages, got " << k);
    GPTBOOK_CHECK(!known.empty(), "a reader example needs a world to ask closed-book questions about");
    GPTBOOK_CHECK(kind.empty() || kind == "closed" || kind == "open" || kind == "absent",
                  "reader example kind '" << kind << "' is unknown; expected closed, open or absent");
    const float u = rng.uniform();
    ReaderExample ex;
    ex.kind = !kind.empty() ? std::string(kind) : u < 0.10f ? "closed" : (u < 0.80f ? "open" : "absent");
    const int a = static_cast<int>(rng.below(world_attributes));
    auto any_template = [&](const Person& p, int attr) {
        return world_passage(p, attr, static_cast<int>(rng.below(3))).text;
    };
    if (ex.kind == "closed") {
        const Person& person = known[rng.below(known.size())];
        const WorldQuestion q = world_question(person, a, static_cast<int>(rng.below(4)));
        ex.prompt = q.text;
        ex.answer = q.answer;
        ex.response = q.answer; // what a model that knows the fact would say
        return ex;
    }
    const Person person = random_person(split, rng);
    const WorldQuestion q = world_question(person, a, static_cast<int>(rng.below(4)));
    ex.answer = ex.kind == "absent" ? unknown_answer : q.answer;
    ex.response = unknown_answer;
    const int n = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(k))); // 1..k passages
    std::vector<std::string> passages;
    if (ex.kind == "open") {
        passages.push_back(any_template(person, a));
        ex.response = q.answer; // copied from the passage
    }
    const int distractors = n - static_cast<int>(passages.size());
    // Same person, other attributes: 0 to min(4, distractors), in random order.
    std::vector<int> others;
    for (int b = 0; b < world_attributes; ++b)
        if (b != a) others.push_back(b);
    for (size_t i = others.size(); i > 1; --i) std::swap(others[i - 1], others[rng.below(i)]);
    const int same = static_cast<int>(rng.below(static_cast<uint64_t>(std::min<int>(4, distractors)) + 1));
    for (int i = 0; i < same; ++i) passages.push_back(any_template(person, others[static_cast<size_t>(i)]));
    // Other people, the same attribute.
    while (static_cast<int>(passages.size()) < n) {
        Person other = random_person(split, rng);
        if (other.name != person.name) passages.push_back(any_template(other, a));
    }
    for (size_t i = passages.size(); i > 1; --i) std::swap(passages[i - 1], passages[rng.below(i)]);
    ex.prompt = reader_prompt(passages, q.text);
    return ex;
}

AnswerKind judge_answer(const std::string& answer, const std::string& expected) {
    const std::string line = answer.substr(0, answer.find('\n'));
    if (line == expected) return AnswerKind::correct;
    if (line == unknown_answer) return AnswerKind::abstained;
    auto letter = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (size_t at = line.find(expected); !expected.empty() && at != std::string::npos;
         at = line.find(expected, at + 1)) {
        const size_t end = at + expected.size();
        if ((at == 0 || !letter(line[at - 1])) && (end == line.size() || !letter(line[end])))
            return AnswerKind::correct;
    }
    return AnswerKind::hallucinated;
}

std::string world_alphabet() {
    std::set<char> chars = {'.', '?', '\'', ' ', '\n'};
    for (char c = 'a'; c <= 'z'; ++c) chars.insert(c);
    for (char c = 'A'; c <= 'Z'; ++c) chars.insert(c);
    return {chars.begin(), chars.end()};
}

} // namespace gptbook
