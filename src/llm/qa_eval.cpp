#include "llm/qa_eval.h"

#include <algorithm>
#include <cctype>

namespace mecllm::llm {

std::string normalize_answer(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == '.' || out.back() == '!')) out.pop_back();
  return out;
}

bool is_abstention(const std::string& answer) {
  const std::string a = normalize_answer(answer);
  for (const char* phrase : {"unknown", "i don't know", "i do not know", "not known", "no answer"})
    if (a.find(phrase) != std::string::npos) return true;
  return false;
}

nlohmann::json QaCounts::to_json() const {
  return {{"n", n},
          {"correct", correct},
          {"abstained", abstained},
          {"hallucinated", hallucinated},
          {"accuracy", accuracy()},
          {"abstention_rate", abstention_rate()},
          {"hallucination_rate", hallucination_rate()}};
}

nlohmann::json QaReport::to_json() const {
  nlohmann::json j = all.to_json();
  for (const auto& [d, c] : by_difficulty) j["by_difficulty"][d] = c.to_json();
  j["samples"] = nlohmann::json::array();
  for (size_t i = 0; i < std::min<size_t>(verdicts.size(), 8); ++i)
    j["samples"].push_back({{"question", verdicts[i].item.question}, {"answer", verdicts[i].answer}});
  return j;
}

nlohmann::json QaVerdict::to_json() const {
  return {{"split", item.split},           {"difficulty", item.difficulty}, {"attribute", item.attribute},
          {"entity", item.entity},         {"question", item.question},     {"reference", item.answer},
          {"answer", answer},               {"correct", correct},             {"abstained", abstained},
          {"hallucinated", hallucinated}};
}

QaReport evaluate_qa(const std::vector<QaItem>& items, const AnswerFn& answer, int max_items) {
  QaReport report;
  const size_t n = max_items > 0 ? std::min(items.size(), static_cast<size_t>(max_items)) : items.size();
  for (size_t i = 0; i < n; ++i) {
    const QaItem& item = items[i];
    const std::string got = answer(qa_prompt(item.question));
    const bool abstained = is_abstention(got);
    const bool correct = item.answerable ? (!abstained && normalize_answer(got) == normalize_answer(item.answer))
                                         : abstained;
    const bool hallucinated = !abstained && !correct;
    for (QaCounts* c : {&report.all, &report.by_difficulty[item.difficulty.empty() ? "all" : item.difficulty]}) {
      ++c->n;
      c->correct += correct;
      c->abstained += abstained;
      c->hallucinated += hallucinated;
    }
    report.verdicts.push_back({item, got, correct, abstained, hallucinated});
  }
  return report;
}

}  // namespace mecllm::llm
