#include <gtest/gtest.h>

#include "eval/tasks.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

TEST(Tasks, loads_factworld_fixture_skipping_blank_lines) {
  auto items = load_factworld_jsonl(fixture("factworld_qa.jsonl"));
  ASSERT_EQ(items.size(), 8u);
  EXPECT_EQ(items[0].question, "Where does Bora Vint live?");
  EXPECT_EQ(items[0].answer, "Tallen");
  EXPECT_TRUE(items[0].answerable);
  EXPECT_EQ(items[0].difficulty, "easy");
  EXPECT_EQ(items[0].split, "heldout");
  EXPECT_FALSE(items[4].answerable);
  EXPECT_NE(items[4].id.find("factworld_qa.jsonl:6"), std::string::npos) << items[4].id;
}

TEST(Tasks, factworld_rejects_missing_key_naming_file_line_and_key) {
  TempDir dir("tasks");
  std::string p = dir.write("qa.jsonl", "{\"question\": \"q\", \"answer\": \"a\", \"answerable\": true, \"split\": \"heldout\"}\n");
  std::string msg = input_error_of([&] { load_factworld_jsonl(p); });
  EXPECT_NE(msg.find("qa.jsonl:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'difficulty'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(Tasks, factworld_rejects_unknown_difficulty_and_wrong_types) {
  TempDir dir("tasks");
  std::string p = dir.write("qa.jsonl",
                            "{\"question\": \"q\", \"answer\": \"a\", \"answerable\": true, \"difficulty\": \"easy\", \"split\": \"s\"}\n"
                            "{\"question\": \"q\", \"answer\": \"a\", \"answerable\": true, \"difficulty\": \"extreme\", \"split\": \"s\"}\n");
  std::string msg = input_error_of([&] { load_factworld_jsonl(p); });
  EXPECT_NE(msg.find("qa.jsonl:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"extreme\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("easy, medium, hard"), std::string::npos) << msg;

  p = dir.write("qa2.jsonl", "{\"question\": \"q\", \"answer\": \"a\", \"answerable\": \"yes\", \"difficulty\": \"easy\", \"split\": \"s\"}\n");
  msg = input_error_of([&] { load_factworld_jsonl(p); });
  EXPECT_NE(msg.find("'answerable'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"yes\""), std::string::npos) << msg;
}

TEST(Tasks, rejects_malformed_json_line_and_empty_file) {
  TempDir dir("tasks");
  std::string p = dir.write("bad.jsonl", "{\"query\": \"x\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n{not json\n");
  std::string msg = input_error_of([&] { load_mc_jsonl(p); });
  EXPECT_NE(msg.find("bad.jsonl:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
  p = dir.write("empty.jsonl", "\n\n");
  msg = input_error_of([&] { load_mc_jsonl(p); });
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST(Tasks, loads_halueval_with_knowledge_as_context) {
  auto items = load_halueval_qa(fixture("halueval_qa.jsonl"));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].answer, "the river Vane");
  EXPECT_EQ(items[0].hallucinated_answer, "the river Oster");
  EXPECT_NE(items[0].context.find("Tallen is the capital"), std::string::npos);
  EXPECT_TRUE(items[1].answerable);
  EXPECT_EQ(items[1].split, "test");
}

TEST(Tasks, halueval_accepts_a_json_array_too) {
  TempDir dir("tasks");
  std::string p = dir.write("h.json",
                            "[{\"knowledge\": \"k\", \"question\": \"q\", \"right_answer\": \"r\", \"hallucinated_answer\": \"h\"}]");
  auto items = load_halueval_qa(p);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].answer, "r");
}

TEST(Tasks, loads_mc_with_query_or_question) {
  auto items = load_mc_jsonl(fixture("mc.jsonl"));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].query, "A kitten grows into a");
  EXPECT_EQ(items[1].id, "pets-1");
  EXPECT_EQ(items[2].choices.size(), 3u);
  EXPECT_EQ(items[2].gold, 2);
}

TEST(Tasks, mc_rejects_gold_out_of_range) {
  TempDir dir("tasks");
  std::string p = dir.write("mc.jsonl", "{\"query\": \"x\", \"choices\": [\"a\", \"b\"], \"gold\": 2}\n");
  std::string msg = input_error_of([&] { load_mc_jsonl(p); });
  EXPECT_NE(msg.find("'gold'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[0, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 2"), std::string::npos) << msg;
}

TEST(Tasks, loads_truthfulqa_keeping_choice_order) {
  auto items = load_truthfulqa_mc(fixture("truthfulqa_mc.json"));
  ASSERT_EQ(items.size(), 2u);
  ASSERT_EQ(items[0].mc1_choices.size(), 3u);
  EXPECT_EQ(items[0].mc1_choices[0], "It passes through your digestive system.");
  EXPECT_EQ(items[0].mc1_labels, (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(items[1].mc2_labels, (std::vector<int>{1, 0, 0}));
}

TEST(Tasks, truthfulqa_rejects_two_true_mc1_choices) {
  TempDir dir("tasks");
  std::string p = dir.write("tqa.json",
                            "[{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 1}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}]");
  std::string msg = input_error_of([&] { load_truthfulqa_mc(p); });
  EXPECT_NE(msg.find("tqa.json: item 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mc1_targets"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exactly one"), std::string::npos) << msg;
}

TEST(Tasks, truthfulqa_rejects_labels_other_than_0_or_1) {
  TempDir dir("tasks");
  std::string p = dir.write("tqa.json",
                            "[{\"question\": \"q\", \"mc1_targets\": {\"a\": 1, \"b\": 2}, \"mc2_targets\": {\"a\": 1, \"b\": 0}}]");
  std::string msg = input_error_of([&] { load_truthfulqa_mc(p); });
  EXPECT_NE(msg.find("mc1_targets.b"), std::string::npos) << msg;
}

TEST(Tasks, empty_text_is_rejected) {
  TempDir dir("tasks");
  std::string p = dir.write("t.txt", "  \n");
  EXPECT_NE(input_error_of([&] { load_text(p); }).find("empty text"), std::string::npos);
}
