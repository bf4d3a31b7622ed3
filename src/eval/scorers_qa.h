// Generation QA scoring: exact match after normalisation, abstention detection, and the
// hallucination rule of ecld.md ("The four metrics").
//
// Per item, with p = the model's greedy answer:
//   answerable:   correct      = normalize(p) == normalize(gold)
//                 abstained    = !correct && is_abstention(p)
//                 hallucinated = !correct && !abstained        (asserted a wrong value)
//   unanswerable: abstained = correct = is_abstention(p)
//                 hallucinated = !abstained                     (asserted any value)
// An abstention is never a hallucination.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "eval/language_model.h"
#include "eval/tasks.h"

namespace mecllm::eval {

// SQuAD v1.1's normalisation (Rajpurkar et al., 2016, evaluate-v1.1.py): lower-case, drop
// ASCII punctuation, drop the articles a/an/the, collapse whitespace.
std::string normalize_answer(std::string_view text);

// The default abstention phrases, already normalised ("i dont know", "unknown", ...).
const std::vector<std::string>& default_abstention_phrases();

// True when the normalised answer is empty or contains one of `phrases` (normalised too) as a
// whole-word sequence: "I don't know." and "That is not stated." abstain; "Knowles" does not.
bool is_abstention(std::string_view answer, const std::vector<std::string>& phrases);

struct QaConfig {
  std::string prompt_template = "Q: {question}\nA:";  // {question} is replaced
  std::string context_template = "{context}\n";        // prepended when the item has context
  int max_tokens = 24;                                 // greedy answer length cap
  std::vector<std::string> stop{"\n"};                 // answer ends before the first of these
  std::vector<std::string> train_splits{"train"};      // every other split counts as held out
  std::vector<std::string> extra_abstention_phrases;   // added to the default list

  template <class V>
  void visit(V& v) {
    v("prompt_template", prompt_template, "prompt; {question} is replaced by the question");
    v("context_template", context_template, "prefix when an item has context ({context})");
    v("max_tokens", max_tokens, "maximum tokens of a greedy answer");
    v("stop", stop, "stop strings that end an answer");
    v("train_splits", train_splits, "splits seen in training; the others are held out");
    v("extra_abstention_phrases", extra_abstention_phrases, "more phrases that count as abstaining");
  }
  void validate(const config::ConfigErrors& err) const {
    err.require(prompt_template.find("{question}") != std::string::npos, "prompt_template",
                "must contain {question}");
    err.require(max_tokens > 0, "max_tokens", "must be > 0");
  }
};

struct QaPrediction {
  std::string id;
  std::string prediction;
  bool correct = false;
  bool abstained = false;
  bool hallucinated = false;
};

// Counts over a group of items; rates are shares of `n` (0 when n is 0).
struct QaStats {
  int64_t n = 0;
  int64_t n_correct = 0;
  int64_t n_abstained = 0;
  int64_t n_hallucinated = 0;
  int64_t n_answerable = 0;
  int64_t n_answerable_correct = 0;
  double accuracy() const { return n ? double(n_correct) / n : 0.0; }
  double hallucination_rate() const { return n ? double(n_hallucinated) / n : 0.0; }
  double abstention_rate() const { return n ? double(n_abstained) / n : 0.0; }
  double answerable_accuracy() const { return n_answerable ? double(n_answerable_correct) / n_answerable : 0.0; }
  void add(const QaItem& item, const QaPrediction& p);
};

struct QaResult {
  QaStats all;
  std::map<std::string, QaStats> by_difficulty;  // "easy"/"medium"/"hard" present in the data
  std::map<std::string, QaStats> by_split;
  // Generalization accuracy: answerable items of held-out splits (not in train_splits).
  QaStats heldout_answerable;
  std::vector<QaPrediction> predictions;  // one per item, in input order
};

// Judges one answer (pure function: the rules of this header's comment).
QaPrediction judge_answer(const QaItem& item, std::string prediction, const std::vector<std::string>& phrases);

// Builds the prompt of an item from the templates.
std::string qa_prompt(const QaItem& item, const QaConfig& cfg);

// Asks the model for every item (greedy) and judges the answers. show_progress draws a bar.
QaResult score_qa(LanguageModel& model, const std::vector<QaItem>& items, const QaConfig& cfg,
                  bool show_progress = false);

// Aggregates already judged predictions (predictions[i] belongs to items[i]).
QaResult aggregate_qa(const std::vector<QaItem>& items, std::vector<QaPrediction> predictions,
                      const QaConfig& cfg);

}  // namespace mecllm::eval
