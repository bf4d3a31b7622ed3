#include <gtest/gtest.h>

#include <cmath>

#include "compress/forward_ref.h"
#include "runtime/transformer.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

TEST(ForwardRef, matches_runtime_engine_logits) {
  for (bool qk : {false, true}) {
    auto c = testing::tiny_config();
    c.qk_norm = qk;
    if (qk) {
      c.arch = "qwen3";
      c.rope_style = runtime::RopeStyle::neox;
    }
    auto m = testing::random_model(c);
    auto dir = testing::temp_dir("fwd");
    save_dense_model(m, (dir / "m.gguf").string());
    auto engine = runtime::Transformer::load((dir / "m.gguf").string());
    auto ids = testing::random_windows(1, 20, c.vocab_size)[0];
    auto want = engine.forward(ids, 0, true);
    auto tr = forward_trace(m, ids);
    ASSERT_EQ(tr.logits.size(), want.size());
    double max_diff = 0;
    for (size_t i = 0; i < want.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(want[i]) - tr.logits[i]));
    EXPECT_LT(max_diff, 1e-3) << "qk_norm " << qk;
  }
}

TEST(ForwardRef, keeps_layer_taps_with_consistent_shapes) {
  auto c = testing::tiny_config();
  auto m = testing::random_model(c);
  auto tr = forward_trace(m, testing::random_windows(1, 10, c.vocab_size)[0]);
  ASSERT_EQ(tr.layers.size(), 3u);
  EXPECT_EQ(tr.layers[0].attn_out.size(), 10u * c.q_dim());
  EXPECT_EQ(tr.layers[0].ffn_act.size(), 10u * c.hidden_dim);
  // The residual stream leaving a block enters the next one.
  EXPECT_EQ(tr.layers[0].x_out, tr.layers[1].x_in);
}

}  // namespace
}  // namespace mecllm::compress
