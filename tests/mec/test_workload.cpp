#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "mec/workload.h"

namespace mecllm::mec {
namespace {

TEST(Workload, task_bundles_follow_the_configured_distributions) {
  WorkloadConfig wl;  // J ~ U{1..8}, medians 128 / 96 tokens, 100 KB context, mix 0.5/0.3/0.2
  Rng rng(3);
  PolarNormal z;
  std::vector<double> in(wl.prompts_max), out(wl.prompts_max), ctx(wl.prompts_max), all_in;
  const int n = 40000;
  double prompts = 0, diff[3] = {0, 0, 0};
  for (int k = 0; k < n; ++k) {
    TaskSums t = sample_task(wl, rng, z, in.data(), out.data(), ctx.data());
    ASSERT_GE(t.prompts, wl.prompts_min);
    ASSERT_LE(t.prompts, wl.prompts_max);
    prompts += t.prompts;
    diff[t.difficulty] += 1;
    for (int j = 0; j < t.prompts; ++j) {
      ASSERT_GE(in[j], wl.tokens_min);
      ASSERT_LE(out[j], wl.tokens_max);
      ASSERT_LE(ctx[j], 8.0 * wl.context_bytes_max);
      all_in.push_back(in[j]);
    }
  }
  EXPECT_NEAR(prompts / n, 4.5, 0.05);
  for (int d = 0; d < 3; ++d) EXPECT_NEAR(diff[d] / n, wl.difficulty_mix[d], 0.01);
  std::nth_element(all_in.begin(), all_in.begin() + all_in.size() / 2, all_in.end());
  EXPECT_NEAR(all_in[all_in.size() / 2], wl.input_tokens_median, 2.0);
}

TEST(Workload, clipping_bounds_every_length) {
  WorkloadConfig wl;
  wl.tokens_sigma = 3.0;  // wide enough that both clip ends are hit
  wl.tokens_min = 50, wl.tokens_max = 200;
  Rng rng(4);
  PolarNormal z;
  std::vector<double> in(8), out(8), ctx(8);
  double lo = 1e9, hi = 0;
  for (int k = 0; k < 2000; ++k) {
    TaskSums t = sample_task(wl, rng, z, in.data(), out.data(), ctx.data());
    for (int j = 0; j < t.prompts; ++j) lo = std::min(lo, in[j]), hi = std::max(hi, in[j]);
  }
  EXPECT_EQ(lo, 50.0);
  EXPECT_EQ(hi, 200.0);
}

}  // namespace
}  // namespace mecllm::mec
