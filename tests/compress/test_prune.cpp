#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "compress/forward_ref.h"
#include "compress/prune.h"
#include "runtime/transformer.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

namespace fs = std::filesystem;

TEST(Prune, ratio_zero_is_the_identity) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  auto calib = testing::random_windows(2, 16, c.vocab_size);
  auto res = prune_model(m, calib, PruneConfig{});
  EXPECT_EQ(res.model.config, m.config);
  auto ids = calib[0];
  EXPECT_EQ(forward_trace(res.model, ids).logits, forward_trace(m, ids).logits);
}

TEST(Prune, pruned_model_has_consistent_shapes_and_runs_in_the_runtime) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  PruneConfig cfg;
  cfg.heads = 0.5;
  cfg.ffn = 0.5;
  cfg.hidden = 0.5;
  cfg.layers = 1;
  auto res = prune_model(m, testing::random_windows(2, 16, c.vocab_size), cfg);
  const auto& p = res.model.config;
  EXPECT_EQ(p.n_layers, 2);
  EXPECT_EQ(p.n_heads, 2);
  EXPECT_EQ(p.n_kv_heads, 2);
  EXPECT_EQ(p.hidden_dim, 64);
  EXPECT_EQ(p.dim, 32);
  EXPECT_EQ(p.head_size(), c.head_size());
  EXPECT_NO_THROW(res.model.check_consistent());
  auto dir = testing::temp_dir("prune_rt");
  save_dense_model(res.model, (dir / "p.gguf").string());
  auto engine = runtime::Transformer::load((dir / "p.gguf").string());
  auto ids = testing::random_windows(1, 12, c.vocab_size)[0];
  auto got = engine.forward(ids, 0, true);
  auto want = forward_trace(res.model, ids).logits;
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-3);
}

TEST(Prune, removes_exactly_the_least_important_layer_and_heads) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  // Crafted: layer 1 is a near no-op (tiny output projections), head 3 writes nothing.
  for (auto* t : {"blk.1.attn_output.weight", "blk.1.ffn_down.weight"})
    for (auto& x : m.at(t)) x *= 1e-4f;
  const int hs = c.head_size();
  for (int l = 0; l < c.n_layers; ++l) {
    auto& wo = m.at("blk." + std::to_string(l) + ".attn_output.weight");
    for (int r = 0; r < c.dim; ++r)
      for (int i = 0; i < hs; ++i) wo[r * c.q_dim() + 3 * hs + i] = 0.0f;
  }
  auto imp = compute_importance(m, testing::random_windows(2, 16, c.vocab_size));
  PruneConfig cfg;
  cfg.layers = 1;
  cfg.heads = 0.5;  // one of the two heads in each KV group
  auto plan = plan_pruning(c, imp, cfg);
  EXPECT_EQ(plan.keep_layers, (std::vector<int>{0, 2}));
  // Group 1 holds heads 2 and 3: head 3 (silent) goes.
  for (int l : {0, 2}) {
    ASSERT_EQ(plan.keep_heads[l].size(), 2u);
    EXPECT_EQ(plan.keep_heads[l][1], 2) << "layer " << l;
  }
  EXPECT_DOUBLE_EQ(imp.heads[0][3], 0.0);
}

TEST(Prune, rejects_bad_ratios_and_too_few_heads_writing_nothing) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  auto dir = testing::temp_dir("prune_bad");
  save_dense_model(m, (dir / "m.gguf").string());
  fs::path calib = dir / "calib.txt";
  {
    std::ofstream f(calib);
    for (int i = 0; i < 50; ++i) f << "some calibration text number " << i << "\n";
  }
  auto run = [&](PruneConfig cfg) {
    return run_prune((dir / "m.gguf").string(), calib.string(), cfg, (dir / "out.gguf").string());
  };
  PruneConfig cfg;
  cfg.calib_sequences = 2;
  cfg.calib_seq_len = 32;
  auto bad = cfg;
  bad.ffn = 1.0;
  EXPECT_THROW(
      {
        try {
          run(bad);
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("ffn"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  bad = cfg;
  bad.heads = -0.1;
  EXPECT_THROW(run(bad), InputError);
  bad = cfg;
  bad.heads = 0.9;  // 2 heads per group -> 0
  EXPECT_THROW(
      {
        try {
          run(bad);
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("per KV group"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  // Calibration too short for one window.
  {
    std::ofstream f(dir / "short.txt");
    f << "hi\n";
  }
  EXPECT_THROW(
      {
        try {
          run_prune((dir / "m.gguf").string(), (dir / "short.txt").string(), cfg, (dir / "out.gguf").string());
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("too short"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  EXPECT_FALSE(fs::exists(dir / "out.gguf"));
  EXPECT_FALSE(fs::exists(dir / "out.prune.json"));
  // And a good run writes both.
  auto good = cfg;
  good.ffn = 0.5;
  auto rep = run(good);
  EXPECT_TRUE(fs::exists(dir / "out.gguf"));
  EXPECT_TRUE(fs::exists(dir / "out.prune.json"));
  EXPECT_EQ(runtime::ModelFile::open((dir / "out.gguf").string()).config().hidden_dim, 64);
}

TEST(Prune, byte_budget_picks_ratios_that_fit) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  PruneConfig cfg;
  const uint64_t full = model_bytes(c, runtime::QuantType::Q4_K);
  cfg.budget_bytes = static_cast<int64_t>(full * 0.7);
  auto res = prune_model(m, testing::random_windows(2, 16, c.vocab_size), cfg);
  const uint64_t got = model_bytes(res.model.config, runtime::QuantType::Q4_K);
  EXPECT_LE(got, static_cast<uint64_t>(cfg.budget_bytes));
  EXPECT_LT(res.model.config.hidden_dim, c.hidden_dim);
  cfg.budget_bytes = 10;  // impossible
  EXPECT_THROW(prune_model(m, testing::random_windows(2, 16, c.vocab_size), cfg), InputError);
}

}  // namespace
}  // namespace mecllm::compress
