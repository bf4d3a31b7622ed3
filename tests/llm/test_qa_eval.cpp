#include <gtest/gtest.h>

#include "llm/qa_eval.h"

using namespace mecllm::llm;

TEST(QaEval, normalises_and_detects_abstentions) {
  EXPECT_EQ(normalize_answer("  Baker. "), "baker");
  EXPECT_EQ(normalize_answer("Old   Town"), "old town");
  EXPECT_TRUE(is_abstention("Unknown."));
  EXPECT_TRUE(is_abstention("I don't know"));
  EXPECT_FALSE(is_abstention("baker"));
}

TEST(QaEval, counts_correct_abstained_and_hallucinated_per_difficulty) {
  std::vector<QaItem> items = {
      {"Q1?", "baker", true, "easy", "heldout", "profession", "A"},
      {"Q2?", "1900", true, "medium", "heldout", "birth_year", "A"},
      {"Q3?", "red", true, "easy", "heldout", "color", "B"},
      {"Q4?", "unknown", false, "easy", "unanswerable", "city", "C"},
      {"Q5?", "unknown", false, "hard", "unanswerable", "mentor.city", "D"},
  };
  // Right, wrong value, abstains, abstains (right), asserts a value (hallucination).
  std::map<std::string, std::string> replies = {{"Q1?", "Baker"}, {"Q2?", "1901"}, {"Q3?", "unknown"},
                                                {"Q4?", "unknown"}, {"Q5?", "Velmora"}};
  auto r = evaluate_qa(items, [&](const std::string& prompt) {
    EXPECT_EQ(prompt.rfind("Q: ", 0), 0u);
    EXPECT_EQ(prompt.substr(prompt.size() - 3), "\nA:");
    return replies.at(prompt.substr(3, 3));
  });
  EXPECT_EQ(r.all.n, 5);
  EXPECT_EQ(r.all.correct, 2);
  EXPECT_EQ(r.all.abstained, 2);
  EXPECT_EQ(r.all.hallucinated, 2);
  EXPECT_EQ(r.by_difficulty.at("easy").n, 3);
  EXPECT_EQ(r.by_difficulty.at("easy").correct, 2);
  EXPECT_EQ(r.by_difficulty.at("hard").hallucinated, 1);
  EXPECT_EQ(r.by_difficulty.at("medium").hallucinated, 1);
  ASSERT_EQ(r.verdicts.size(), 5u);
  EXPECT_TRUE(r.verdicts[0].correct);
  EXPECT_TRUE(r.verdicts[2].abstained);
  const auto v4 = r.verdicts[4].to_json();
  EXPECT_EQ(v4["question"], "Q5?");
  EXPECT_EQ(v4["answer"], "Velmora");
  EXPECT_EQ(v4["attribute"], "mentor.city");
  EXPECT_TRUE(v4["hallucinated"].get<bool>());
  EXPECT_FALSE(v4["correct"].get<bool>());
  const auto j = r.to_json();  // the first answers also appear as "samples"
  ASSERT_EQ(j["samples"].size(), 5u);
  EXPECT_EQ(j["samples"][1]["question"], "Q2?");
  EXPECT_EQ(j["samples"][1]["answer"], "1901");
  auto first2 = evaluate_qa(items, [](const std::string&) { return std::string("baker"); }, 2);
  EXPECT_EQ(first2.all.n, 2);
}
