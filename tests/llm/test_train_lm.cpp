// The training path, kept honest with a tiny model (seconds): loss falls, a killed and resumed
// run reproduces the uninterrupted one exactly, and the exported GGUF loads back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "common/rundir.h"
#include "llm/factworld.h"
#include "llm/torch_lm.h"
#include "llm/train_lm.h"
#include "shared_dir.h"
#include "tiny_world.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::llm;

namespace {

fs::path temp_dir(const std::string& name) { return mecllm::llm::testing::fresh_temp_dir("mecllm_test_trainlm_", name); }

const fs::path& world_dir() { return mecllm::llm::testing::tiny_world_dir(); }

TrainLmConfig tiny(int steps) {
  const std::string dir = std::string(MECLLM_SOURCE_DIR) + "/configs/lm/";
  auto cfg = load_train_lm_config({dir + "defaults.yaml", dir + "tiny.yaml"},
                                  {"steps=" + std::to_string(steps), "log_every=1", "threads=2",
                                   "eval_max_questions=3", "data.factworld_dir=" + world_dir().string()});
  return cfg;
}

std::vector<nlohmann::json> metrics(const fs::path& dir) { return mecllm::testing::read_json_lines(dir / "metrics.jsonl"); }

}  // namespace

TEST(TrainLm, tiny_run_lowers_loss_and_exports_a_loadable_gguf) {
  set_log_sink(nullptr);
  const fs::path out = temp_dir("loss");
  auto summary = train_lm(tiny(40), out, /*resume=*/false);
  auto m = metrics(out);
  ASSERT_EQ(m.size(), 40u);
  const double first = m.front()["losses/train"].get<double>(), last = m.back()["losses/train"].get<double>();
  EXPECT_GT(first, 5.0);  // about ln(320) at random init
  EXPECT_LT(last, first - 1.5) << "first " << first << " last " << last;
  for (const char* f : {"config.yaml", "summary.json", "model-f32.gguf", "tokenizer.bin", "checkpoint.pt"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_TRUE(summary.contains("eval"));
  EXPECT_EQ(summary["eval"]["qa"]["heldout"]["n"].get<int>(), 3);
  // answers.jsonl: one scored line per asked question of every split.
  const auto answers = mecllm::testing::read_json_lines(out / "answers.jsonl");
  int asked = 0;
  for (const char* split : {"train", "heldout", "unanswerable"}) asked += summary["eval"]["qa"][split]["n"].get<int>();
  ASSERT_EQ(static_cast<int>(answers.size()), asked);
  EXPECT_TRUE(answers.back().contains("reference"));
  EXPECT_EQ(answers.back()["split"], "unanswerable");
  // The export is a model the transformer reads back with the same shape.
  auto lm = TorchLm::open((out / "model-f32.gguf").string());
  EXPECT_EQ(lm.config().dim, 64);
  EXPECT_EQ(lm.config().n_layers, 2);
  fs::remove_all(out);
}

TEST(TrainLm, killed_and_resumed_run_reproduces_uninterrupted_run_exactly) {
  set_log_sink(nullptr);
  const fs::path straight = temp_dir("straight"), resumed = temp_dir("resumed");
  auto cfg = tiny(12);
  cfg.checkpoint_every = 4;
  train_lm(cfg, straight, false);

  // Run to step 4 (checkpoint), keep that checkpoint, run on to step 6, then put the step-4
  // checkpoint back: the state of a process killed after logging steps 5-6 but before its next
  // checkpoint. Resuming must drop the orphan metrics lines and replay 5..12 exactly.
  auto killed = cfg;
  killed.stop_at_step = 4;
  train_lm(killed, resumed, false);
  fs::copy_file(resumed / "checkpoint.pt", resumed / "step4.pt");
  killed.stop_at_step = 6;
  train_lm(killed, resumed, true);
  EXPECT_EQ(metrics(resumed).size(), 6u);
  fs::rename(resumed / "step4.pt", resumed / "checkpoint.pt");
  EXPECT_THROW(train_lm(cfg, resumed, /*resume=*/false), InputError);  // refuses to overwrite
  train_lm(cfg, resumed, /*resume=*/true);

  auto a = metrics(straight), b = metrics(resumed);
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    EXPECT_EQ(a[i]["losses/train"].get<double>(), b[i]["losses/train"].get<double>()) << "step " << i + 1;
    EXPECT_EQ(a[i]["charts/grad_norm"].get<double>(), b[i]["charts/grad_norm"].get<double>()) << "step " << i + 1;
  }
  EXPECT_EQ(read_text_file(straight / "model-f32.gguf"), read_text_file(resumed / "model-f32.gguf"));
  fs::remove_all(straight);
  fs::remove_all(resumed);
}

TEST(TrainLm, resume_refuses_a_changed_config_or_missing_checkpoint) {
  set_log_sink(nullptr);
  const fs::path out = temp_dir("changed");
  auto cfg = tiny(6);
  cfg.stop_at_step = 3;
  train_lm(cfg, out, false);
  auto changed = tiny(6);
  changed.optim.lr = 0.001;
  EXPECT_THROW(train_lm(changed, out, true), InputError);
  EXPECT_THROW(train_lm(tiny(6), temp_dir("nothing"), true), InputError);
  fs::remove_all(out);
}
