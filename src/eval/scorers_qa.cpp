#include "eval/scorers_qa.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/errors.h"
#include "common/progress.h"

namespace mecllm::eval {

namespace {
bool is_ascii_punct(unsigned char c) { return c < 128 && std::ispunct(c); }

std::string replace_all(std::string s, std::string_view key, std::string_view value) {
  size_t pos = 0;
  while ((pos = s.find(key, pos)) != std::string::npos) {
    s.replace(pos, key.size(), value);
    pos += value.size();
  }
  return s;
}
}  // namespace

std::string normalize_answer(std::string_view text) {
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    if (word != "a" && word != "an" && word != "the") {
      if (!out.empty()) out += ' ';
      out += word;
    }
    word.clear();
  };
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (is_ascii_punct(c)) continue;  // removed, not a word break: "don't" -> "dont"
    if (c < 128 && std::isspace(c)) {
      flush();
      continue;
    }
    word += c < 128 ? static_cast<char>(std::tolower(c)) : ch;
  }
  flush();
  return out;
}

const std::vector<std::string>& default_abstention_phrases() {
  // Normalised forms (see normalize_answer). Kept short and explicit: a phrase here must not
  // be a plausible factual answer in the benchmarks we run.
  static const std::vector<std::string> k{
      "unknown",        "i dont know",         "i do not know",      "dont know",
      "do not know",    "not known",           "not stated",         "never stated",
      "not mentioned",  "not specified",       "no information",     "not enough information",
      "cannot be determined", "cant be determined", "cannot answer", "cant answer",
      "unanswerable",   "no answer",           "not sure",           "unsure",
      "no idea",        "i cannot say",        "i cant say",         "there is no such",
      "does not exist", "doesnt exist",        "no such person",     "n/a"};
  return k;
}

bool is_abstention(std::string_view answer, const std::vector<std::string>& phrases) {
  std::string norm = normalize_answer(answer);
  if (norm.empty()) return true;  // saying nothing asserts nothing
  std::string padded = " " + norm + " ";
  for (const auto& phrase : phrases) {
    std::string p = normalize_answer(phrase);
    if (p.empty()) continue;
    if (padded.find(" " + p + " ") != std::string::npos) return true;
  }
  return false;
}

QaPrediction judge_answer(const QaItem& item, std::string prediction, const std::vector<std::string>& phrases) {
  QaPrediction p;
  p.id = item.id;
  if (item.answerable) {
    p.correct = normalize_answer(prediction) == normalize_answer(item.answer);
    p.abstained = !p.correct && is_abstention(prediction, phrases);
    p.hallucinated = !p.correct && !p.abstained;
  } else {
    p.abstained = is_abstention(prediction, phrases);
    p.correct = p.abstained;
    p.hallucinated = !p.abstained;
  }
  p.prediction = std::move(prediction);
  return p;
}

void QaStats::add(const QaItem& item, const QaPrediction& p) {
  ++n;
  n_correct += p.correct;
  n_abstained += p.abstained;
  n_hallucinated += p.hallucinated;
  if (item.answerable) {
    ++n_answerable;
    n_answerable_correct += p.correct;
  }
}

std::string qa_prompt(const QaItem& item, const QaConfig& cfg) {
  std::string prompt = replace_all(cfg.prompt_template, "{question}", item.question);
  if (!item.context.empty()) prompt = replace_all(cfg.context_template, "{context}", item.context) + prompt;
  return prompt;
}

QaResult aggregate_qa(const std::vector<QaItem>& items, std::vector<QaPrediction> predictions,
                      const QaConfig& cfg) {
  MECLLM_CHECK(items.size() == predictions.size(), "{} items, {} predictions", items.size(), predictions.size());
  QaResult r;
  for (size_t i = 0; i < items.size(); ++i) {
    const QaItem& item = items[i];
    const QaPrediction& p = predictions[i];
    r.all.add(item, p);
    if (!item.difficulty.empty()) r.by_difficulty[item.difficulty].add(item, p);
    r.by_split[item.split].add(item, p);
    bool heldout = std::find(cfg.train_splits.begin(), cfg.train_splits.end(), item.split) == cfg.train_splits.end();
    if (heldout && item.answerable) r.heldout_answerable.add(item, p);
  }
  r.predictions = std::move(predictions);
  return r;
}

QaResult score_qa(LanguageModel& model, const std::vector<QaItem>& items, const QaConfig& cfg, bool show_progress) {
  std::vector<std::string> phrases = default_abstention_phrases();
  phrases.insert(phrases.end(), cfg.extra_abstention_phrases.begin(), cfg.extra_abstention_phrases.end());
  std::vector<QaPrediction> predictions;
  predictions.reserve(items.size());
  std::unique_ptr<Progress> bar;
  if (show_progress) bar = std::make_unique<Progress>("qa", static_cast<int64_t>(items.size()), "questions");
  int64_t n_correct = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    std::string answer = model.generate_greedy(qa_prompt(items[i], cfg), cfg.max_tokens, cfg.stop);
    predictions.push_back(judge_answer(items[i], std::move(answer), phrases));
    n_correct += predictions.back().correct;
    if (bar) bar->update(static_cast<int64_t>(i + 1), fmt::format("acc {:.3f}", double(n_correct) / double(i + 1)));
  }
  if (bar) bar->finish();
  return aggregate_qa(items, std::move(predictions), cfg);
}

}  // namespace mecllm::eval
