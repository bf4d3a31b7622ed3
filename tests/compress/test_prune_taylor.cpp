// The first-order Taylor head score (LibTorch: it needs dL/dw).
#include <gtest/gtest.h>

#include "common/errors.h"
#include "compress/prune.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

TEST(PruneTaylor, silent_head_scores_zero_and_is_the_one_removed) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  // Crafted: head 3 writes nothing (its attn_output columns are zero), so neither its q rows nor its
  // output columns can change the loss: |w * dL/dw| is exactly 0 for it and positive elsewhere.
  const int hs = c.head_size();
  for (int l = 0; l < c.n_layers; ++l) {
    auto& wo = m.at("blk." + std::to_string(l) + ".attn_output.weight");
    for (int r = 0; r < c.dim; ++r)
      for (int i = 0; i < hs; ++i) wo[r * c.q_dim() + 3 * hs + i] = 0.0f;
  }
  const auto calib = testing::random_windows(3, 16, c.vocab_size);
  const auto norm = compute_importance(m, calib, "norm");
  const auto taylor = compute_importance(m, calib, "taylor");
  for (int l = 0; l < c.n_layers; ++l) {
    EXPECT_EQ(taylor.heads[l][3], 0.0) << "layer " << l;
    for (int h = 0; h < 3; ++h) EXPECT_GT(taylor.heads[l][h], 0.0) << "layer " << l << " head " << h;
    EXPECT_NE(taylor.heads[l][0], norm.heads[l][0]);  // a different score, not the norm renamed
  }
  PruneConfig cfg;
  cfg.heads = 0.5;
  cfg.head_score = "taylor";
  auto res = prune_model(m, calib, cfg);
  EXPECT_EQ(res.report["ratios"]["head_score"], "taylor");
  for (int l = 0; l < c.n_layers; ++l) {
    const auto kept = res.report["plan"]["keep_heads"][l].get<std::vector<int>>();
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_EQ(kept[1], 2) << "group 1 holds heads 2 and 3: the silent head 3 goes (layer " << l << ")";
  }
}

TEST(PruneTaylor, unknown_head_score_is_rejected) {
  auto c = testing::tiny_config();
  PruneConfig cfg;
  cfg.head_score = "magic";
  EXPECT_THROW(prune_model(testing::random_model(c), testing::random_windows(1, 8, c.vocab_size), cfg), InputError);
}

}  // namespace
}  // namespace mecllm::compress
