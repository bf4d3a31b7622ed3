// RoPE scaling in the LibTorch module against the runtime engine: the same tiny random model
// with linear and with Llama 3.1 (llama3) scaling, written as GGUF, gives the same logits in both
// (and different ones from the unscaled model, so the check can fail).
#include <gtest/gtest.h>

#include <cmath>

#include "../runtime/test_formats_util.h"
#include "llm/torch_lm.h"
#include "runtime/transformer.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// max |a - b| over max |b|
double rel_diff(std::span<const float> a, std::span<const float> b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    num = std::max(num, static_cast<double>(std::fabs(a[i] - b[i])));
    den = std::max(den, static_cast<double>(std::fabs(b[i])));
  }
  return num / den;
}

// Head size 8 against an original context of 64: one pair kept, one blended, two divided.
ModelConfig scaled(RopeScaling s) {
  ModelConfig c = mecllm::runtime::testing::small_config("llama", 32);
  c.rope_scaling = s;
  c.rope_factor = s == RopeScaling::none ? 1.0f : 8.0f;
  if (s == RopeScaling::llama3) c.rope_freq_factors = llama3_rope_freq_factors(c.rope_theta, c.head_size(), 8.0f, 1.0f, 4.0f, 64);
  return c;
}

}  // namespace

TEST(RopeScalingTorch, libtorch_module_agrees_with_the_runtime_under_linear_and_llama3_scaling) {
  const mecllm::runtime::testing::TempDir dir;
  const std::vector<int32_t> ids = {1, 7, 30, 2, 9, 9, 41, 5, 17, 60, 3, 22, 8, 50};
  const auto weights = mecllm::runtime::testing::random_model(scaled(RopeScaling::none), 42, 0.3, 0.2);
  std::vector<float> unscaled;
  for (RopeScaling s : {RopeScaling::none, RopeScaling::linear, RopeScaling::llama3}) {
    const std::string path = dir.file(std::string(rope_scaling_name(s)) + ".gguf");
    write_gguf(path, scaled(s), views_of(weights));
    const auto torch_logits = llm::TorchLm::open(path).logits(ids);
    Transformer tr = Transformer::load(path, LoadOptions{});
    ASSERT_EQ(tr.config().rope_scaling, s);
    const auto rt = tr.forward(ids, 0, true);
    const std::vector<float> runtime_logits(rt.begin(), rt.end());
    EXPECT_LE(rel_diff(torch_logits, runtime_logits), 1e-4) << rope_scaling_name(s);
    if (s == RopeScaling::none) unscaled = runtime_logits;
    else EXPECT_GT(rel_diff(runtime_logits, unscaled), 1e-3) << rope_scaling_name(s) << " changed nothing";
  }
}
