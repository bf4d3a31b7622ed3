// Scoring of question answering on factworld-style QA lines, independent of the model: the
// caller passes a function from prompt to generated answer (the LibTorch model here, the
// deployment runtime or a remote server in eval/). Definitions (docs/llm.md):
//   correct       answerable and the normalised answer equals the reference;
//   abstained     the answer is an abstention ("unknown", "I don't know", ...);
//   hallucinated  a value asserted where it is wrong: a wrong non-abstaining answer to an
//                 answerable question, or any non-abstaining answer to an unanswerable one.
//   accuracy      correct / answerable; on unanswerable questions "correct" = abstained.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llm/factworld.h"

namespace mecllm::llm {

// Lower case, trimmed, trailing '.' removed, inner whitespace collapsed.
std::string normalize_answer(const std::string& s);
bool is_abstention(const std::string& answer);

struct QaCounts {
  int n = 0;
  int correct = 0;       // for unanswerable questions: abstained
  int abstained = 0;
  int hallucinated = 0;
  double accuracy() const { return n ? static_cast<double>(correct) / n : 0.0; }
  double abstention_rate() const { return n ? static_cast<double>(abstained) / n : 0.0; }
  double hallucination_rate() const { return n ? static_cast<double>(hallucinated) / n : 0.0; }
  nlohmann::json to_json() const;
};

// One asked question and how it was scored, for `--answers` files.
struct QaVerdict {
  QaItem item;
  std::string answer;  // generated
  bool correct = false, abstained = false, hallucinated = false;
  nlohmann::json to_json() const;
};

struct QaReport {
  QaCounts all;
  std::map<std::string, QaCounts> by_difficulty;  // "easy", "medium", "hard"
  std::vector<QaVerdict> verdicts;  // every asked question, in order
  nlohmann::json to_json() const;   // the counts and the first few (question, answer) as "samples"
};

using AnswerFn = std::function<std::string(const std::string& prompt)>;

// Asks every item (the first max_items when > 0) through `answer(qa_prompt(question))`.
QaReport evaluate_qa(const std::vector<QaItem>& items, const AnswerFn& answer, int max_items = 0);

}  // namespace mecllm::llm
