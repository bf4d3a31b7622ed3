// factworld: the project's own deterministic synthetic world (see docs/llm.md and
// ../shared/design/ecld.md). Invented people with attributes are stated in many sentence
// templates; question-answer lines ask about them, including questions whose correct answer is
// the abstention "unknown" (a person who does not exist, or an attribute never stated).
//
// Splits (all written by generate_factworld):
//   train_bios.txt             one biography per line, train templates only
//   qa_train.jsonl             train question forms on the train share of (person, attribute)
//   qa_heldout.jsonl           the other facts, asked with held-out question forms (generalization)
//   qa_unanswerable.jsonl      unseen non-existent people and unstated attributes (hallucination)
//   text_heldout.txt           every stated fact in a held-out template (perplexity)
//   tokenizer.bin              BPE trained on the training text (llama2.c tokenizer layout)
//   manifest.json              seed, config, counts, files, difficulty definitions
// Plain C++ (no LibTorch), so the generator builds everywhere.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"

namespace mecllm::llm {

struct FactworldConfig {
  uint64_t seed = 1;              // every random choice derives from it
  int n_entities = 120;           // people who exist (stated in training text)
  int n_fake_entities = 80;       // invented names that never exist: half train QA, half eval
  double p_attribute_stated = 0.8;  // chance each attribute of a person is ever stated
  // 32 biographies per person and all 8 train question forms per train fact: with 8 and 4 (factworld
  // v2) the 1.1M base model answered 39% of held-out questions; bio augmentation is what lets a
  // model extract a fact for a question it never saw (docs/llm.md, "factworld v3").
  int bios_per_entity = 32;       // biographies per person (different templates and orders)
  double qa_train_share = 0.5;    // share of stated facts whose QA lines are in training
  int qa_forms_per_train_fact = 8;  // train question forms used per train fact
  int tokenizer_vocab = 1024;     // BPE vocabulary incl. 3 specials and 256 byte fallbacks

  template <class V>
  void visit(V& v) {
    v("seed", seed, "world seed; same seed gives byte-identical files");
    v("n_entities", n_entities, "people that exist (>= 4)");
    v("n_fake_entities", n_fake_entities, "non-existent names for abstention questions (>= 2)");
    v("p_attribute_stated", p_attribute_stated, "chance an attribute is ever stated, (0, 1]");
    v("bios_per_entity", bios_per_entity, "biographies per person in the training text (>= 1)");
    v("qa_train_share", qa_train_share, "share of facts with QA lines in training, (0, 1)");
    v("qa_forms_per_train_fact", qa_forms_per_train_fact, "train question forms per train fact (1..kTrainForms = 8)");
    v("tokenizer_vocab", tokenizer_vocab, "BPE vocabulary size, 300..8192");
  }
  void validate(const config::ConfigErrors& err) const;
};

// One question-answer line, as stored in the qa_*.jsonl files.
struct QaItem {
  std::string question;
  std::string answer;  // "unknown" when !answerable
  bool answerable = true;
  std::string difficulty;  // "easy" | "medium" | "hard"
  std::string split;       // "train" | "heldout" | "unanswerable"
  std::string attribute;   // "city", ..., or "mentor.city" for two-hop questions
  std::string entity;      // the person asked about
};

inline constexpr const char* kAbstain = "unknown";

// Sentence templates and question forms; {name} and {value} are the slots. The first
// kTrainTemplates / kTrainForms of each list are used for training, the rest are held out.
struct AttributeSpec {
  std::string name;  // "city", "profession", "instrument", "birth_year", "color", "mentor"
  std::vector<std::string> templates;
  std::vector<std::string> questions;
};
inline constexpr int kTrainTemplates = 9;
inline constexpr int kTrainForms = 8;
const std::vector<AttributeSpec>& factworld_attributes();

// Generates the whole world into out_dir (created) and returns the manifest it wrote.
nlohmann::json generate_factworld(const FactworldConfig& cfg, const std::filesystem::path& out_dir);

// The prompt the model sees for a question, and the full training document of a QA line.
std::string qa_prompt(const std::string& question);  // "Q: <question>\nA:"
std::string qa_document(const QaItem& item);         // qa_prompt + " " + answer

// Reads a qa_*.jsonl file; malformed lines throw InputError naming file and line.
std::vector<QaItem> read_qa_jsonl(const std::filesystem::path& path);
// Reads a text file as one document per non-empty line.
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace mecllm::llm
