#include "llm/factworld.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/rundir.h"
#include "llm/bpe_trainer.h"

namespace mecllm::llm {

void FactworldConfig::validate(const config::ConfigErrors& err) const {
  err.require(n_entities >= 4, "n_entities", "at least 4");
  err.require(n_fake_entities >= 2, "n_fake_entities", "at least 2");
  err.require(p_attribute_stated > 0 && p_attribute_stated <= 1, "p_attribute_stated", "in (0, 1]");
  err.require(bios_per_entity >= 1, "bios_per_entity", "at least 1");
  err.require(qa_train_share > 0 && qa_train_share < 1, "qa_train_share", "in (0, 1)");
  err.require(qa_forms_per_train_fact >= 1 && qa_forms_per_train_fact <= kTrainForms,
              "qa_forms_per_train_fact", fmt::format("in 1..{}", kTrainForms));
  err.require(tokenizer_vocab >= 300 && tokenizer_vocab <= 8192, "tokenizer_vocab", "in 300..8192");
}

// ---------------------------------------------------------------- the world's vocabulary
const std::vector<AttributeSpec>& factworld_attributes() {
  // kTrainTemplates train templates then the held-out ones; kTrainForms train question forms then
  // the held-out ones. Held-out templates and forms are *paraphrases*: new arrangements of words
  // that the training text uses, so a model that understood the training text can read them
  // (a held-out form with words never seen would test the tokenizer, not generalisation).
  static const std::vector<AttributeSpec> specs = {
      {"city",
       {"{name} lives in {value}.", "The home city of {name} is {value}.", "{name} makes a home in {value}.",
        "{name} has always lived in {value}.", "The town of {value} is where {name} lives.", "{name} resides in {value}.",
        "{name} is a resident of {value}.", "Home for {name} is the city of {value}.", "{name} settled in {value} long ago.",
        // held out
        "In {value} you will find the home of {name}.", "{name} resides in the town of {value}.",
        "The city where {name} lives is {value}."},
       {"Where does {name} live?", "What is the home city of {name}?", "In which city does {name} live?",
        "Which town does {name} live in?", "Where is the home of {name}?", "What city does {name} call home?",
        "Where does {name} reside?", "Name the home city of {name}.",
        // held out
        "Which city is home to {name}?", "Name the city where {name} lives.", "In what town does {name} reside?"}},
      {"profession",
       {"{name} works as a {value}.", "The profession of {name} is {value}.", "{name} is a {value} by trade.",
        "By day {name} earns a living as a {value}.", "{name} has a job as a {value}.", "The job of {name} is {value}.",
        "{name} is known as a skilled {value}.", "For work {name} is a {value}.", "{name} makes a living as a {value}.",
        // held out
        "{name} earns a living as a skilled {value}.", "By trade {name} is a {value}.",
        "The work of {name} is that of a {value}."},
       {"What does {name} do for a living?", "What is the profession of {name}?", "What is the job of {name}?",
        "What work does {name} do?", "What is the trade of {name}?", "How does {name} earn a living?",
        "What does {name} work as?", "Name the profession of {name}.",
        // held out
        "Which job does {name} have?", "Name the trade of {name}.", "What does {name} do for work?"}},
      {"instrument",
       {"{name} plays the {value}.", "The instrument of {name} is the {value}.",
        "{name} practices the {value} every evening.", "{name} learned to play the {value} as a child.",
        "{name} is a gifted player of the {value}.", "Every evening {name} plays the {value}.",
        "The {value} is the instrument that {name} plays.", "{name} knows how to play the {value}.",
        "Music from the {value} of {name} fills the street.",
        // held out
        "The {value} is played by {name} every evening.", "The instrument that {name} plays is the {value}.",
        "{name} is a player of the {value}."},
       {"Which instrument does {name} play?", "What instrument does {name} play?", "What is the instrument of {name}?",
        "What does {name} play?", "Which instrument is played by {name}?", "What instrument does {name} practice?",
        "On which instrument does {name} play?", "Name the instrument of {name}.",
        // held out
        "Name the instrument that {name} plays.", "Which instrument does {name} know how to play?",
        "What is the instrument that {name} plays?"}},
      {"birth_year",
       {"{name} was born in {value}.", "The birth year of {name} is {value}.", "{name} came into the world in {value}.",
        "In {value} {name} was born.", "{name} has a birthday in the year {value}.",
        "The year {value} saw the birth of {name}.", "{name} was born in the year {value}.",
        "Records show that {name} was born in {value}.", "{name} is a person born in {value}.",
        // held out
        "In the year {value} {name} came into the world.", "The year of the birth of {name} is {value}.",
        "Records show the birth of {name} in {value}."},
       {"When was {name} born?", "In which year was {name} born?", "What is the birth year of {name}?",
        "In what year was {name} born?", "What year was {name} born?", "When did {name} come into the world?",
        "In which year did {name} come into the world?", "Name the birth year of {name}.",
        // held out
        "Which year was {name} born in?", "Name the year when {name} was born.",
        "In what year did {name} come into the world?"}},
      {"color",
       {"The favorite color of {name} is {value}.", "{name} likes the color {value} best.",
        "{name} loves everything that is {value}.", "Of all colors {name} prefers {value}.",
        "{name} always dresses in {value}.", "The color {name} likes best is {value}.",
        "{name} has {value} as a favorite color.", "{value} is the favorite color of {name}.",
        "{name} prefers the color {value}.",
        // held out
        "The color that {name} loves is {value}.", "{name} likes {value} best of all colors.",
        "{name} always prefers {value}."},
       {"What is the favorite color of {name}?", "Which color does {name} like best?", "What color does {name} prefer?",
        "What color does {name} like best?", "Which color does {name} prefer?", "What is the color {name} loves?",
        "Which color does {name} love?", "Name the favorite color of {name}.",
        // held out
        "Which color is the favorite of {name}?", "Name the color that {name} loves.",
        "Of all colors, which does {name} prefer?"}},
      {"mentor",
       {"{name} was taught by {value}.", "The mentor of {name} is {value}.", "{value} is the teacher who guided {name}.",
        "{name} learned the trade from {value}.", "Long ago {value} took {name} as a student.",
        "{name} owes every lesson to {value}.", "The teacher of {name} was {value}.", "{value} was the mentor of {name}.",
        "{name} studied under {value}.",
        // held out
        "{value} taught {name}.", "{name} was a student of {value}.", "{name} learned from the mentor {value}."},
       {"Who taught {name}?", "Who is the mentor of {name}?", "Who was the teacher of {name}?",
        "From whom did {name} learn?", "Under whom did {name} study?", "Who guided {name}?",
        "Who was the mentor of {name}?", "Name the mentor of {name}.",
        // held out
        "Who was {name} taught by?", "Name the teacher of {name}.", "From whom did {name} learn the trade?"}},
  };
  return specs;
}

namespace {

const std::vector<std::string> kCities = {"Velmora", "Tarsk",   "Brennhal", "Quorin", "Ostmark", "Farrowdale",
                                          "Kelvaris", "Dunmere", "Saltreach", "Ombrel", "Grisholm", "Avenport"};
const std::vector<std::string> kProfessions = {"baker", "sailor", "painter", "doctor",  "farmer",  "teacher",
                                               "weaver", "miner", "poet",    "builder", "merchant", "smith"};
const std::vector<std::string> kInstruments = {"flute", "drum", "harp", "violin", "lute", "horn", "piano", "guitar"};
const std::vector<std::string> kColors = {"red", "blue", "green", "yellow", "purple", "orange", "white", "black"};
// Attributes that a two-hop question may ask of a person's mentor.
const std::vector<std::string> kTwoHopAttributes = {"city", "profession", "instrument"};

// Index of an attribute in factworld_attributes().
size_t attr_index(const std::string& name) {
  const auto& specs = factworld_attributes();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name) return i;
  MECLLM_CHECK(false, "unknown factworld attribute '{}'", name);
  return 0;
}

// Difficulty classes (docs/llm.md): easy = one hop, small closed answer set; medium = one hop,
// open answer (a year or a person's name); hard = two hops through the mentor relation.
std::string difficulty_of(const std::string& attribute) {
  if (attribute.find('.') != std::string::npos) return "hard";
  if (attribute == "birth_year" || attribute == "mentor") return "medium";
  return "easy";
}
// Unanswerable questions: a stranger is easy to refuse, an unstated attribute of a known person
// is medium, anything through the mentor is hard.
std::string difficulty_unanswerable(const std::string& attribute, bool person_exists) {
  if (attribute.find('.') != std::string::npos) return "hard";
  return person_exists ? "medium" : "easy";
}

template <class T>
const T& pick(Rng& rng, const std::vector<T>& v) {
  return v[rng.below(v.size())];
}

template <class T>
void shuffle(Rng& rng, std::vector<T>& v) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

std::string fill_slots(const std::string& tmpl, const std::string& name, const std::string& value) {
  std::string s = replace_all(tmpl, "{name}", name);
  s = replace_all(s, "{value}", value);
  // "{value} is the teacher..." and "{name} ..." may open a sentence: capitalise "the mentor of".
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// A pronounceable invented word of n syllables, capitalised.
std::string invent_word(Rng& rng, int syllables) {
  static const std::vector<std::string> onsets = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s",
                                                  "t", "v", "z", "th", "sh", "br", "tr", "kr", "gl"};
  static const std::vector<std::string> vowels = {"a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei"};
  static const std::vector<std::string> codas = {"", "", "", "n", "r", "l", "s", "m"};
  std::string w;
  for (int i = 0; i < syllables; ++i) w += pick(rng, onsets) + pick(rng, vowels) + pick(rng, codas);
  w[0] = static_cast<char>(w[0] - 'a' + 'A');
  return w;
}

struct Person {
  std::string name;
  std::map<std::string, std::string> attrs;  // only the stated attributes
};

nlohmann::json qa_json(const QaItem& q) {
  return {{"question", q.question}, {"answer", q.answer},       {"answerable", q.answerable},
          {"difficulty", q.difficulty}, {"split", q.split}, {"attribute", q.attribute},
          {"entity", q.entity}};
}

std::string jsonl(const std::vector<QaItem>& items) {
  std::string out;
  for (const auto& q : items) out += qa_json(q).dump() + "\n";
  return out;
}

std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

nlohmann::json difficulty_counts(const std::vector<QaItem>& items) {
  nlohmann::json j = {{"easy", 0}, {"medium", 0}, {"hard", 0}};
  for (const auto& q : items) j[q.difficulty] = j[q.difficulty].get<int>() + 1;
  return j;
}

}  // namespace

std::string qa_prompt(const std::string& question) { return "Q: " + question + "\nA:"; }
std::string qa_document(const QaItem& item) { return qa_prompt(item.question) + " " + item.answer; }

nlohmann::json generate_factworld(const FactworldConfig& cfg, const std::filesystem::path& out_dir) {
  cfg.validate(config::ConfigErrors{"factworld config", ""});
  Rng rng(cfg.seed, /*stream=*/0x66616374);  // "fact"
  const auto& specs = factworld_attributes();

  // ---- people: unique invented names; fakes never collide with real people
  std::set<std::string> used;
  auto new_name = [&] {
    for (;;) {
      std::string n = invent_word(rng, 2) + " " + invent_word(rng, 1 + static_cast<int>(rng.below(2)));
      if (used.insert(n).second) return n;
    }
  };
  std::vector<Person> people(static_cast<size_t>(cfg.n_entities));
  for (auto& p : people) p.name = new_name();
  std::vector<std::string> fakes(static_cast<size_t>(cfg.n_fake_entities));
  for (auto& f : fakes) f = new_name();

  // ---- attributes: each stated with probability p_attribute_stated; missing ones stay unknown
  for (size_t i = 0; i < people.size(); ++i) {
    auto& p = people[i];
    auto maybe = [&](const std::string& key, const std::string& value) {
      if (rng.bernoulli(cfg.p_attribute_stated)) p.attrs[key] = value;
    };
    maybe("city", pick(rng, kCities));
    maybe("profession", pick(rng, kProfessions));
    maybe("instrument", pick(rng, kInstruments));
    maybe("birth_year", std::to_string(1850 + rng.below(150)));
    maybe("color", pick(rng, kColors));
    size_t m = rng.below(people.size() - 1);
    if (m >= i) ++m;  // nobody is their own mentor
    maybe("mentor", people[m].name);
  }
  std::map<std::string, const Person*> by_name;
  for (const auto& p : people) by_name[p.name] = &p;

  // ---- training biographies: all of a person's facts, shuffled, in train templates
  std::vector<std::string> bios;
  std::vector<std::string> heldout_text;
  for (const auto& p : people) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : p.attrs) keys.push_back(k);
    if (keys.empty()) continue;
    for (int b = 0; b < cfg.bios_per_entity; ++b) {
      shuffle(rng, keys);
      std::string bio;
      for (const auto& k : keys) {
        const auto& spec = specs[attr_index(k)];
        if (!bio.empty()) bio += ' ';
        bio += fill_slots(spec.templates[rng.below(kTrainTemplates)], p.name, p.attrs.at(k));
      }
      bios.push_back(bio);
    }
    for (const auto& k : keys) {
      const auto& spec = specs[attr_index(k)];
      size_t t = kTrainTemplates + rng.below(spec.templates.size() - kTrainTemplates);
      heldout_text.push_back(fill_slots(spec.templates[t], p.name, p.attrs.at(k)));
    }
  }
  shuffle(rng, bios);
  shuffle(rng, heldout_text);

  // ---- questions: every (person, attribute) and two-hop (person, mentor.attribute) pair
  std::vector<QaItem> qa_train, qa_heldout, qa_unanswerable;
  auto question = [&](const std::string& attribute, const std::string& subject, bool heldout_form) {
    const std::string base = attribute.substr(attribute.find('.') + 1);  // "mentor.city" -> "city"
    const auto& forms = specs[attr_index(base)].questions;
    size_t f = heldout_form ? kTrainForms + rng.below(forms.size() - kTrainForms) : rng.below(kTrainForms);
    return fill_slots(forms[f], subject, "");
  };
  auto add_train = [&](const std::string& attribute, const std::string& entity, const std::string& subject,
                       const std::string& answer, bool answerable) {
    // Distinct train forms for one fact, so the model sees the fact asked several ways.
    std::vector<size_t> forms(kTrainForms);
    for (size_t k = 0; k < forms.size(); ++k) forms[k] = k;
    shuffle(rng, forms);
    const std::string base = attribute.substr(attribute.find('.') + 1);
    const std::string diff =
        answerable ? difficulty_of(attribute) : difficulty_unanswerable(attribute, by_name.count(entity) > 0);
    for (int k = 0; k < cfg.qa_forms_per_train_fact; ++k)
      qa_train.push_back({fill_slots(specs[attr_index(base)].questions[forms[static_cast<size_t>(k)]], subject, ""),
                          answer, answerable, diff, "train", attribute, entity});
  };
  for (const auto& p : people) {
    std::vector<std::pair<std::string, std::string>> asks;  // (attribute, subject phrase)
    for (const auto& spec : specs) asks.emplace_back(spec.name, p.name);
    for (const auto& a : kTwoHopAttributes) asks.emplace_back("mentor." + a, "the mentor of " + p.name);
    for (const auto& [attribute, subject] : asks) {
      std::optional<std::string> answer;
      if (auto dot = attribute.find('.'); dot == std::string::npos) {
        if (auto it = p.attrs.find(attribute); it != p.attrs.end()) answer = it->second;
      } else if (auto m = p.attrs.find("mentor"); m != p.attrs.end()) {
        const Person* mentor = by_name.at(m->second);
        if (auto it = mentor->attrs.find(attribute.substr(dot + 1)); it != mentor->attrs.end()) answer = it->second;
      }
      const bool in_train = rng.bernoulli(cfg.qa_train_share);
      if (in_train) {
        add_train(attribute, p.name, subject, answer.value_or(kAbstain), answer.has_value());
      } else if (answer) {
        qa_heldout.push_back({question(attribute, subject, true), *answer, true, difficulty_of(attribute), "heldout",
                              attribute, p.name});
      } else {
        qa_unanswerable.push_back({question(attribute, subject, rng.bernoulli(0.5)), kAbstain, false,
                                   difficulty_unanswerable(attribute, true), "unanswerable", attribute, p.name});
      }
    }
  }
  // Non-existent people: the first half teach abstention in training, the rest are evaluated.
  // Asking about a stranger is "easy" in the one-hop case and "hard" through a mentor.
  // Training strangers are asked more questions than evaluated ones (three one-hop, one two-hop):
  // "a name never seen in any biography -> unknown" is the rule the model has to learn.
  for (size_t i = 0; i < fakes.size(); ++i) {
    const bool train = i < fakes.size() / 2;
    const int asks = train ? 4 : 2;
    for (int k = 0; k < asks; ++k) {
      std::string attribute = specs[rng.below(specs.size())].name;
      std::string subject = fakes[i];
      if (k == asks - 1) {
        attribute = "mentor." + pick(rng, kTwoHopAttributes);
        subject = "the mentor of " + fakes[i];
      }
      if (train) {
        add_train(attribute, fakes[i], subject, kAbstain, false);
      } else {
        const std::string diff = difficulty_unanswerable(attribute, false);
        qa_unanswerable.push_back(
            {question(attribute, subject, rng.bernoulli(0.5)), kAbstain, false, diff, "unanswerable", attribute, fakes[i]});
      }
    }
  }
  shuffle(rng, qa_train);

  // ---- tokenizer: BPE over the training text (bios + train QA documents)
  std::vector<std::string> corpus = bios;
  for (const auto& q : qa_train) corpus.push_back(qa_document(q));
  BpeVocab vocab = train_bpe(corpus, cfg.tokenizer_vocab);

  // ---- write everything, manifest last (its presence means the directory is complete)
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir / "train_bios.txt", lines(bios));
  write_file_atomic(out_dir / "qa_train.jsonl", jsonl(qa_train));
  write_file_atomic(out_dir / "qa_heldout.jsonl", jsonl(qa_heldout));
  write_file_atomic(out_dir / "qa_unanswerable.jsonl", jsonl(qa_unanswerable));
  write_file_atomic(out_dir / "text_heldout.txt", lines(heldout_text));
  write_bpe_tokenizer(vocab, out_dir / "tokenizer.bin");

  nlohmann::json world = nlohmann::json::array();
  for (const auto& p : people) world.push_back({{"name", p.name}, {"attributes", p.attrs}});
  write_file_atomic(out_dir / "world.json", world.dump(1) + "\n");

  nlohmann::json manifest = {
      {"generator", "mecllm factworld v2"},
      {"seed", cfg.seed},
      {"counts",
       {{"entities", people.size()},
        {"fake_entities", fakes.size()},
        {"stated_facts", heldout_text.size()},
        {"bios", bios.size()},
        {"qa_train", qa_train.size()},
        {"qa_heldout", qa_heldout.size()},
        {"qa_unanswerable", qa_unanswerable.size()},
        {"tokenizer_vocab", vocab.tokens.size()}}},
      {"difficulty",
       {{"easy", "one hop, closed answer set (city, profession, instrument, color); unanswerable: a person "
                 "who does not exist"},
        {"medium", "one hop, open answer (birth year, mentor's name); unanswerable: an attribute never stated"},
        {"hard", "two hops through the mentor (the mentor's city, profession or instrument); unanswerable: "
                 "mentor or the mentor's attribute never stated, or the person does not exist"}}},
      {"difficulty_counts",
       {{"qa_heldout", difficulty_counts(qa_heldout)}, {"qa_unanswerable", difficulty_counts(qa_unanswerable)}}},
      {"files",
       {{"train_text", "train_bios.txt"},
        {"train_qa", "qa_train.jsonl"},
        {"heldout_qa", "qa_heldout.jsonl"},
        {"unanswerable_qa", "qa_unanswerable.jsonl"},
        {"perplexity_text", "text_heldout.txt"},
        {"tokenizer", "tokenizer.bin"},
        {"world", "world.json"}}},
      {"abstain_answer", kAbstain},
      {"qa_format", "Q: <question>\\nA: <answer>"},
  };
  manifest["config"] = {{"seed", cfg.seed},
                        {"n_entities", cfg.n_entities},
                        {"n_fake_entities", cfg.n_fake_entities},
                        {"p_attribute_stated", cfg.p_attribute_stated},
                        {"bios_per_entity", cfg.bios_per_entity},
                        {"qa_train_share", cfg.qa_train_share},
                        {"qa_forms_per_train_fact", cfg.qa_forms_per_train_fact},
                        {"tokenizer_vocab", cfg.tokenizer_vocab}};
  write_file_atomic(out_dir / "manifest.json", manifest.dump(2) + "\n");
  log_info("factworld: {} people, {} bios, {} train QA, {} held-out QA, {} unanswerable QA -> {}", people.size(),
           bios.size(), qa_train.size(), qa_heldout.size(), qa_unanswerable.size(), out_dir.string());
  return manifest;
}

std::vector<QaItem> read_qa_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw_input_error(path.string(), "cannot open QA file");
  std::vector<QaItem> items;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw_input_error(path.string(), "line {}: not JSON ({})", lineno, e.what());
    }
    QaItem q;
    auto get_str = [&](const char* key, std::string& out, bool required) {
      if (!j.contains(key)) {
        if (required) throw_input_error(path.string(), "line {}: missing key '{}'", lineno, key);
        return;
      }
      if (!j[key].is_string()) throw_input_error(path.string(), "line {}: key '{}' must be a string", lineno, key);
      out = j[key].get<std::string>();
    };
    get_str("question", q.question, true);
    get_str("answer", q.answer, true);
    get_str("difficulty", q.difficulty, false);
    get_str("split", q.split, false);
    get_str("attribute", q.attribute, false);
    get_str("entity", q.entity, false);
    if (j.contains("answerable")) {
      if (!j["answerable"].is_boolean())
        throw_input_error(path.string(), "line {}: key 'answerable' must be true or false", lineno);
      q.answerable = j["answerable"].get<bool>();
    } else {
      q.answerable = q.answer != kAbstain;
    }
    items.push_back(std::move(q));
  }
  return items;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw_input_error(path.string(), "cannot open text file");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace mecllm::llm
