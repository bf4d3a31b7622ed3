#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "common/log.h"
#include "common/rundir.h"
#include "llm/bpe_trainer.h"
#include "llm/factworld.h"
#include "runtime/tokenizer.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::llm;

namespace {

FactworldConfig small_world(uint64_t seed) {
  FactworldConfig c;
  c.seed = seed;
  c.n_entities = 30;
  c.n_fake_entities = 10;
  c.bios_per_entity = 2;
  c.tokenizer_vocab = 400;
  return c;
}

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mecllm_test_llm_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

const char* kFiles[] = {"train_bios.txt", "qa_train.jsonl", "qa_heldout.jsonl", "qa_unanswerable.jsonl",
                        "text_heldout.txt", "tokenizer.bin", "world.json", "manifest.json"};

}  // namespace

TEST(Factworld, same_seed_gives_identical_files_and_other_seed_differs) {
  set_log_sink(nullptr);
  const fs::path a = temp_dir("a"), b = temp_dir("b"), c = temp_dir("c");
  generate_factworld(small_world(7), a);
  generate_factworld(small_world(7), b);
  generate_factworld(small_world(8), c);
  for (const char* f : kFiles) {
    EXPECT_EQ(read_text_file(a / f), read_text_file(b / f)) << f;
  }
  EXPECT_NE(read_text_file(a / "train_bios.txt"), read_text_file(c / "train_bios.txt"));
  EXPECT_NE(read_text_file(a / "qa_heldout.jsonl"), read_text_file(c / "qa_heldout.jsonl"));
  for (const auto& p : {a, b, c}) fs::remove_all(p);
}

TEST(Factworld, heldout_templates_and_questions_never_appear_in_training_files) {
  set_log_sink(nullptr);
  const fs::path dir = temp_dir("split");
  generate_factworld(small_world(3), dir);
  const std::string bios = read_text_file(dir / "train_bios.txt");
  const auto train = read_qa_jsonl(dir / "qa_train.jsonl");
  const auto heldout = read_qa_jsonl(dir / "qa_heldout.jsonl");
  const auto unanswerable = read_qa_jsonl(dir / "qa_unanswerable.jsonl");
  ASSERT_FALSE(heldout.empty());
  ASSERT_FALSE(unanswerable.empty());

  // Held-out templates: no training sentence is an instance of a held-out template (slots as
  // wildcards). Shared phrases are fine ("... every evening." is in a train and a held-out
  // template): the held-out template as a whole is what training never shows.
  std::vector<std::string> sentences;
  for (const auto& bio : read_lines(dir / "train_bios.txt"))
    for (size_t start = 0; start < bio.size();) {
      size_t end = bio.find(". ", start);
      end = end == std::string::npos ? bio.size() : end + 1;
      sentences.push_back(bio.substr(start, end - start));
      start = end + 1;
    }
  ASSERT_GT(sentences.size(), 100u);
  auto pattern = [](const std::string& tmpl) {
    std::string re;
    for (size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl[i] == '{') {
        // A name is two capitalised words; a value one word, or a mentor's two-word name.
        const bool name = tmpl.compare(i, 6, "{name}") == 0;
        re += name ? "[A-Z][a-z]+ [A-Z][a-z]+" : "[A-Za-z0-9]+( [A-Z][a-z]+)?";
        i = tmpl.find('}', i);
      } else {
        if (std::string(".^$|()[]*+?\\{}").find(tmpl[i]) != std::string::npos) re += '\\';
        re += tmpl[i];
      }
    }
    return std::regex(re);
  };
  size_t train_matches = 0;
  for (const auto& spec : factworld_attributes())
    for (size_t t = 0; t < spec.templates.size(); ++t) {
      const std::regex re = pattern(spec.templates[t]);
      size_t hits = 0;
      for (const auto& sent : sentences) hits += std::regex_match(sent, re);
      if (t >= static_cast<size_t>(kTrainTemplates)) {
        EXPECT_EQ(hits, 0u) << "held-out template used in training: " << spec.templates[t];
      }
      train_matches += t < static_cast<size_t>(kTrainTemplates) ? hits : 0;
    }
  EXPECT_GE(train_matches, sentences.size());  // the matcher works: every sentence fits a train template
  for (const auto& line : read_lines(dir / "text_heldout.txt")) EXPECT_EQ(bios.find(line), std::string::npos) << line;

  // Held-out question forms and held-out facts are never asked in training.
  std::set<std::string> train_questions, train_pairs;
  for (const auto& q : train) {
    train_questions.insert(q.question);
    train_pairs.insert(q.entity + "|" + q.attribute);
    EXPECT_EQ(q.split, "train");
  }
  for (const auto& q : heldout) {
    EXPECT_TRUE(q.answerable);
    EXPECT_EQ(train_questions.count(q.question), 0u) << q.question;
    EXPECT_EQ(train_pairs.count(q.entity + "|" + q.attribute), 0u) << q.question;
    bool heldout_form = false;
    const bool two_hop = q.attribute.find('.') != std::string::npos;
    const std::string base = q.attribute.substr(q.attribute.find('.') + 1);
    const std::string subject = two_hop ? "the mentor of " + q.entity : q.entity;
    for (const auto& spec : factworld_attributes())
      if (spec.name == base)
        for (size_t f = kTrainForms; f < spec.questions.size(); ++f) {
          std::string form = spec.questions[f];
          form.replace(form.find("{name}"), 6, subject);
          heldout_form |= form == q.question;
        }
    EXPECT_TRUE(heldout_form) << "not a held-out form: " << q.question;
  }
  // Unanswerable: abstention answers, and the non-existent people never occur in training text.
  const std::string train_qa_text = read_text_file(dir / "qa_train.jsonl");
  const std::string world = read_text_file(dir / "world.json");
  for (const auto& q : unanswerable) {
    EXPECT_FALSE(q.answerable);
    EXPECT_EQ(q.answer, kAbstain);
    EXPECT_EQ(train_pairs.count(q.entity + "|" + q.attribute), 0u) << q.question;
    if (world.find("\"" + q.entity + "\"") == std::string::npos) {
      EXPECT_EQ(bios.find(q.entity), std::string::npos) << q.entity;
      EXPECT_EQ(train_qa_text.find(q.entity), std::string::npos) << q.entity;
    }
  }
  // Every difficulty class is represented in the evaluation splits.
  std::set<std::string> diffs;
  for (const auto& q : heldout) diffs.insert(q.difficulty);
  EXPECT_EQ(diffs, (std::set<std::string>{"easy", "medium", "hard"}));
  fs::remove_all(dir);
}

TEST(Factworld, trained_tokenizer_round_trips_and_compresses_through_runtime_encoder) {
  set_log_sink(nullptr);
  const fs::path dir = temp_dir("tok");
  generate_factworld(small_world(5), dir);
  const auto tok = runtime::load_tokenizer((dir / "tokenizer.bin").string());
  EXPECT_EQ(tok->vocab_size(), 400);
  EXPECT_EQ(tok->bos_id(), kBpeBos);
  EXPECT_EQ(tok->eos_id(), kBpeEos);
  size_t bytes = 0, tokens = 0;
  std::vector<std::string> docs = read_lines(dir / "train_bios.txt");
  for (const auto& q : read_qa_jsonl(dir / "qa_heldout.jsonl")) docs.push_back(qa_document(q));
  for (const auto& d : docs) {
    auto ids = tok->encode(d, /*add_bos=*/true);
    ASSERT_EQ(ids.front(), kBpeBos);
    EXPECT_EQ(tok->decode(ids), d);
    bytes += d.size();
    tokens += ids.size() - 1;
  }
  // Learned merges must shorten the text well below one token per byte.
  EXPECT_LT(static_cast<double>(tokens), 0.7 * static_cast<double>(bytes));
  // Text outside the corpus alphabet still round-trips through byte fallback.
  const std::string odd = "Zürich ☃ {tab}\t!";
  EXPECT_EQ(tok->decode(tok->encode(odd, true)), odd);
  fs::remove_all(dir);
}

TEST(BpeTrainer, learns_frequent_pairs_first_and_is_deterministic) {
  std::vector<std::string> docs(50, "the cat sat on the mat");
  const BpeVocab a = train_bpe(docs, 300), b = train_bpe(docs, 300);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.tokens[kBpeUnk], "<unk>");
  EXPECT_EQ(a.tokens[kBpeFirstByte + 0x41], "<0x41>");
  EXPECT_EQ(a.types[kBpeFirstByte], 6);
  // " the" (twice per line) must be a piece, scored above any piece learned from single words.
  auto find = [&](const std::string& s) {
    for (size_t i = 0; i < a.tokens.size(); ++i)
      if (a.tokens[i] == s) return static_cast<int>(i);
    return -1;
  };
  ASSERT_GE(find(" the"), 0);
  ASSERT_GE(find(" cat"), 0);
  EXPECT_GT(a.scores[static_cast<size_t>(find(" the"))], a.scores[static_cast<size_t>(find(" cat"))]);
}

TEST(Factworld, rejects_bad_settings_and_malformed_qa_files) {
  FactworldConfig c;
  c.n_entities = 1;
  EXPECT_THROW(generate_factworld(c, temp_dir("bad")), InputError);
  const fs::path dir = temp_dir("badqa");
  fs::create_directories(dir);
  write_file_atomic(dir / "qa.jsonl", "{\"question\": \"x?\", \"answer\": \"y\"}\n{\"question\": 3}\n");
  try {
    read_qa_jsonl(dir / "qa.jsonl");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("qa.jsonl: line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("question"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "qa2.jsonl", "not json\n");
  EXPECT_THROW(read_qa_jsonl(dir / "qa2.jsonl"), InputError);
  EXPECT_THROW(read_qa_jsonl(dir / "missing.jsonl"), InputError);
  fs::remove_all(dir);
}
