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

// Pruning and GPTQ/AWQ calibrate on this reference forward, so it must rotate exactly as the
// runtime does when a checkpoint stretches its context (Llama 3.1, linear scaling).
TEST(ForwardRef, applies_rope_scaling_like_the_runtime) {
  for (auto scaling : {runtime::RopeScaling::linear, runtime::RopeScaling::llama3}) {
    auto c = testing::tiny_config();
    c.rope_theta = 500000.0f;
    c.rope_scaling = scaling;
    c.rope_factor = 8.0f;
    if (scaling == runtime::RopeScaling::llama3) {
      c.rope_low_freq_factor = 1.0f;
      c.rope_high_freq_factor = 4.0f;
      c.rope_original_context = 8;
      c.rope_freq_factors = runtime::llama3_rope_freq_factors(c.rope_theta, c.head_size(), 8.0f, 1.0f, 4.0f, 8);
    }
    auto m = testing::random_model(c);
    auto dir = testing::temp_dir("fwd_rope");
    save_dense_model(m, (dir / "m.gguf").string());
    auto engine = runtime::Transformer::load((dir / "m.gguf").string());
    ASSERT_EQ(engine.config().rope_scaling, scaling);
    auto ids = testing::random_windows(1, 20, c.vocab_size)[0];
    auto want = engine.forward(ids, 0, true);
    auto scaled = forward_trace(m, ids);
    auto unscaled_model = m;
    unscaled_model.config.rope_scaling = runtime::RopeScaling::none;
    auto unscaled = forward_trace(unscaled_model, ids);
    double max_diff = 0, scaling_effect = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(double(want[i]) - scaled.logits[i]));
      scaling_effect = std::max(scaling_effect, std::fabs(double(scaled.logits[i]) - unscaled.logits[i]));
    }
    EXPECT_LT(max_diff, 1e-3) << runtime::rope_scaling_name(scaling);
    EXPECT_GT(scaling_effect, 1e-3) << "the scaling must change the logits of a 20-token window";
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
