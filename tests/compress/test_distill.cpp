#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/rundir.h"
#include "compress/distill.h"
#include "compress/prune.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

namespace fs = std::filesystem;

struct DistillSetup {
  fs::path dir;
  std::string teacher, student, data;
  explicit DistillSetup(const std::string& name) {
    auto c = testing::tiny_config();
    c.seq_len = 32;
    auto files = testing::model_and_text(name, c, 5, 60, [](int i) {
      return fmt::format("alpha beta {} gamma delta epsilon {}", (i * 7) % 13, i % 5);
    });
    dir = files.dir;
    teacher = files.model;
    data = files.text;
    PruneConfig pc;
    pc.ffn = 0.5;
    pc.heads = 0.5;
    auto pruned = prune_model(testing::random_model(c, 5), testing::random_windows(2, 16, c.vocab_size), pc);
    student = (dir / "student.gguf").string();
    save_dense_model(pruned.model, student);
  }
  DistillConfig cfg() const { return testing::short_distill_config(1); }
};

TEST(Distill, lowers_heldout_kl_to_the_teacher_in_a_short_seeded_run) {
  DistillSetup s("kd");
  auto sum = run_distill(s.teacher, s.student, s.data, s.cfg(), s.dir / "run", false);
  EXPECT_LT(sum["heldout_kl_after"].get<double>(), 0.8 * sum["heldout_kl_before"].get<double>()) << sum.dump();
  EXPECT_TRUE(fs::exists(s.dir / "run" / "model.gguf"));
  EXPECT_TRUE(fs::exists(s.dir / "run" / "metrics.jsonl"));
  EXPECT_EQ(runtime::ModelFile::open((s.dir / "run" / "model.gguf").string()).config(),
            runtime::ModelFile::open(s.student).config());
}

TEST(Distill, resume_reproduces_an_uninterrupted_run) {
  DistillSetup s("kd_resume");
  auto cfg = s.cfg();
  cfg.steps = 20;
  run_distill(s.teacher, s.student, s.data, cfg, s.dir / "full", false);
  auto stop = cfg;
  stop.stop_at_step = 10;
  auto part = run_distill(s.teacher, s.student, s.data, stop, s.dir / "split", false);
  EXPECT_TRUE(part.value("stopped_early", false));
  EXPECT_THROW(run_distill(s.teacher, s.student, s.data, cfg, s.dir / "split", false), InputError);
  run_distill(s.teacher, s.student, s.data, cfg, s.dir / "split", true);
  EXPECT_EQ(read_text_file(s.dir / "full" / "model.gguf"), read_text_file(s.dir / "split" / "model.gguf"));
}

TEST(Distill, rejects_a_student_with_another_vocabulary_writing_nothing) {
  DistillSetup s("kd_vocab");
  auto c = testing::tiny_config();
  c.vocab_size = 320;
  std::string other = (s.dir / "other.gguf").string();
  save_dense_model(testing::random_model(c), other);
  try {
    run_distill(s.teacher, other, s.data, s.cfg(), s.dir / "bad", false);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(s.dir / "bad"));
  // Data shorter than the held-out windows plus one training window.
  std::ofstream(s.dir / "short.txt") << "tiny\n";
  EXPECT_THROW(run_distill(s.teacher, s.student, (s.dir / "short.txt").string(), s.cfg(), s.dir / "bad", false), InputError);
  EXPECT_FALSE(fs::exists(s.dir / "bad"));
}

}  // namespace
}  // namespace mecllm::compress
