// Task formats the evaluator reads, each loaded strictly: a malformed line names the file, the
// line (or item), the key, the value found and what was expected.
//
//  - factworld QA, JSONL, one object per line (the project's own benchmark, see ecld.md):
//      {"question": str, "answer": str, "answerable": bool,
//       "difficulty": "easy"|"medium"|"hard", "split": str, ["id": str]}
//  - HaluEval QA (Li et al., 2023, github.com/RUCAIBox/HaluEval data/qa_data.json): one object
//    per line (a JSON array is accepted too):
//      {"knowledge": str, "question": str, "right_answer": str, "hallucinated_answer": str}
//    Every HaluEval question is answerable; the knowledge paragraph becomes the item's context.
//  - multiple choice, JSONL in the lm-evaluation-harness spirit:
//      {"query" | "question": str, "choices": [str, ...], "gold": int, ["id": str]}
//  - TruthfulQA MC (Lin et al., 2022, data/mc_task.json): a JSON array of
//      {"question": str, "mc1_targets": {choice: 0|1, ...}, "mc2_targets": {choice: 0|1, ...}}
//    with exactly one true MC1 choice and at least one true and one false MC2 choice. The
//    order of the choices in the file is kept.
//  - perplexity: plain UTF-8 text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mecllm::eval {

struct QaItem {
  std::string id;          // "file:line" when the file has none
  std::string question;
  std::string answer;      // gold answer; for unanswerable items the expected abstention text
  std::string context;     // knowledge given with the question (HaluEval); "" for factworld
  std::string hallucinated_answer;  // HaluEval's known-false answer; "" when absent
  bool answerable = true;  // false: the only correct reply is an abstention
  std::string difficulty;  // "easy" | "medium" | "hard"; "" when the format has none
  std::string split;       // "train", "heldout_template", ...; "test" when the format has none
};

struct McItem {
  std::string id;
  std::string query;                 // the context the choices continue
  std::vector<std::string> choices;  // at least 2
  int gold = 0;                      // index into choices
};

struct TruthfulQaItem {
  std::string question;
  std::vector<std::string> mc1_choices;  // exactly one true
  std::vector<int> mc1_labels;           // 1 true, 0 false; same size as mc1_choices
  std::vector<std::string> mc2_choices;  // at least one true and one false
  std::vector<int> mc2_labels;
};

// The difficulty classes the simulator's profile uses, in order.
inline const std::vector<std::string>& difficulty_classes() {
  static const std::vector<std::string> k{"easy", "medium", "hard"};
  return k;
}

std::vector<QaItem> load_factworld_jsonl(const std::string& path);
std::vector<QaItem> load_halueval_qa(const std::string& path);
std::vector<McItem> load_mc_jsonl(const std::string& path);
std::vector<TruthfulQaItem> load_truthfulqa_mc(const std::string& path);
std::string load_text(const std::string& path);  // non-empty UTF-8 text

}  // namespace mecllm::eval
