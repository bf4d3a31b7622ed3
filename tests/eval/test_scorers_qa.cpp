#include <gtest/gtest.h>

#include "eval/scorers_qa.h"
#include "fake_model.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

TEST(ScorersQa, normalisation_drops_case_punctuation_articles_and_spaces) {
  EXPECT_EQ(normalize_answer("  The Violin! "), "violin");
  EXPECT_EQ(normalize_answer("An apple, a day"), "apple day");
  EXPECT_EQ(normalize_answer("I don't   know."), "i dont know");
  EXPECT_EQ(normalize_answer("Theater"), "theater");  // only whole-word articles go
}

TEST(ScorersQa, abstention_phrases_match_whole_words_only) {
  const auto& p = default_abstention_phrases();
  EXPECT_TRUE(is_abstention("Unknown.", p));
  EXPECT_TRUE(is_abstention("I don't know", p));
  EXPECT_TRUE(is_abstention("That is not stated in the text.", p));
  EXPECT_TRUE(is_abstention("", p));
  EXPECT_FALSE(is_abstention("Knowles", p));
  EXPECT_FALSE(is_abstention("Paris", p));
  EXPECT_FALSE(is_abstention("unknowns", p));
}

TEST(ScorersQa, abstention_on_answerable_is_not_a_hallucination_but_a_wrong_value_is) {
  QaItem q;
  q.answer = "baker";
  auto p = default_abstention_phrases();
  QaPrediction abstain = judge_answer(q, "I don't know.", p);
  EXPECT_FALSE(abstain.correct);
  EXPECT_TRUE(abstain.abstained);
  EXPECT_FALSE(abstain.hallucinated);
  QaPrediction wrong = judge_answer(q, "a carpenter", p);
  EXPECT_FALSE(wrong.correct);
  EXPECT_FALSE(wrong.abstained);
  EXPECT_TRUE(wrong.hallucinated);
  EXPECT_TRUE(judge_answer(q, "A Baker.", p).correct);
}

TEST(ScorersQa, any_value_on_unanswerable_is_a_hallucination) {
  QaItem q;
  q.answer = "unknown";
  q.answerable = false;
  auto p = default_abstention_phrases();
  EXPECT_TRUE(judge_answer(q, "Paris", p).hallucinated);
  QaPrediction ok = judge_answer(q, "unknown", p);
  EXPECT_TRUE(ok.correct);
  EXPECT_TRUE(ok.abstained);
  EXPECT_FALSE(ok.hallucinated);
}

// The fixture, answered by a fake model; every figure below is counted by hand in the
// comments (item numbers are the fixture's lines, blank line skipped).
TEST(ScorersQa, fixture_reproduces_hand_counts_overall_per_difficulty_and_heldout) {
  auto items = load_factworld_jsonl(fixture("factworld_qa.jsonl"));
  FakeModel m;
  QaConfig cfg;
  const char* replies[] = {
      "Tallen.",              // 1 easy heldout: correct
      "the Violin",           // 2 medium heldout: correct (article, case)
      "1875",                 // 3 hard heldout: wrong value -> hallucination
      "I don't know.",        // 4 medium heldout: abstained, not a hallucination
      "unknown",              // 5 hard unanswerable: correct abstention
      "Paris",                // 6 easy unanswerable: hallucination
      "red",                  // 7 easy train: correct (not held out)
      "That is not stated.",  // 8 medium unanswerable: correct abstention
  };
  for (size_t i = 0; i < items.size(); ++i) m.answers[qa_prompt(items[i], cfg)] = replies[i];
  QaResult r = score_qa(m, items, cfg);
  EXPECT_EQ(r.all.n, 8);
  EXPECT_DOUBLE_EQ(r.all.accuracy(), 5.0 / 8);            // 1,2,5,7,8
  EXPECT_DOUBLE_EQ(r.all.hallucination_rate(), 2.0 / 8);  // 3,6
  EXPECT_DOUBLE_EQ(r.all.abstention_rate(), 3.0 / 8);     // 4,5,8
  EXPECT_EQ(r.heldout_answerable.n, 4);                   // 1,2,3,4
  EXPECT_DOUBLE_EQ(r.heldout_answerable.accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("easy").accuracy(), 2.0 / 3);  // 1,7 of 1,6,7
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("easy").hallucination_rate(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("medium").accuracy(), 2.0 / 3);  // 2,8 of 2,4,8
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("medium").hallucination_rate(), 0.0);
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("hard").accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(r.by_difficulty.at("hard").hallucination_rate(), 0.5);
  EXPECT_EQ(r.by_split.at("unanswerable").n, 3);
  EXPECT_DOUBLE_EQ(r.by_split.at("unanswerable").hallucination_rate(), 1.0 / 3);
  ASSERT_EQ(r.predictions.size(), 8u);
  EXPECT_EQ(r.predictions[2].prediction, "1875");
  EXPECT_TRUE(r.predictions[2].hallucinated);
}

TEST(ScorersQa, halueval_prompt_carries_the_knowledge) {
  auto items = load_halueval_qa(fixture("halueval_qa.jsonl"));
  QaConfig cfg;
  std::string prompt = qa_prompt(items[0], cfg);
  EXPECT_EQ(prompt, items[0].context + "\nQ: Which river does Tallen lie on?\nA:");
  FakeModel m;
  m.answers[prompt] = "The river Vane.";
  m.answers[qa_prompt(items[1], cfg)] = "1910";  // HaluEval's hallucinated answer
  QaResult r = score_qa(m, items, cfg);
  EXPECT_DOUBLE_EQ(r.all.accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(r.all.hallucination_rate(), 0.5);
}

TEST(ScorersQa, config_requires_question_slot) {
  QaConfig cfg;
  std::string msg = input_error_of([&] { mecllm::config::load_layers(cfg, {}, {"prompt_template=hello"}); });
  EXPECT_NE(msg.find("prompt_template"), std::string::npos) << msg;
  EXPECT_NE(msg.find("{question}"), std::string::npos) << msg;
}
