// The no-contention latency bound (mec/latency_bound.h): its premise (tasks do not depend on the
// actions), its per-task optimum, and that no baseline beats it.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "mec/evaluate.h"
#include "mec/latency_bound.h"
#include "mec/policy.h"
#include "mec/vec_env_impl.h"
#include "test_helpers.h"

namespace mecllm::mec {
namespace {

TEST(NoContentionBound, tasks_and_channels_do_not_depend_on_the_actions) {
  Scenario s = testing::load("default");
  const int N = 8;
  VecEnv local(s, 1, N, 7), offload(s, 1, N, 7);
  std::vector<float> zeros(size_t(N) * local.act_dim(), 0.f), ones(zeros.size(), 1.f);
  for (int t = 0; t < 300; ++t) {
    const auto &a = local.impl(), &b = offload.impl();
    for (int n = 0; n < N; ++n) {
      ASSERT_EQ(a.active[n], b.active[n]) << "slot " << t;
      ASSERT_EQ(a.prompts[n], b.prompts[n]) << "slot " << t;
      ASSERT_EQ(a.sum_in[n], b.sum_in[n]) << "slot " << t;
      ASSERT_EQ(a.gain_db[n], b.gain_db[n]) << "slot " << t;
    }
    local.step(zeros);
    offload.step(ones);
  }
}

TEST(NoContentionBound, fluid_optimum_matches_the_least_latency_over_a_fine_grid) {
  Scenario s = testing::load("default");
  s.workload.round_to_prompts = false;
  VecEnv env(s, 1, 6, 3);
  const auto& impl = env.impl();
  std::vector<float> half(size_t(6) * env.act_dim(), 0.5f);
  std::vector<double> edge, empty(size_t(impl.edge_block), 0.0);
  int checked = 0;
  for (int t = 0; t < 400 && checked < 20; ++t) {
    for (int n = 0; n < 6; ++n) {
      if (!impl.active[n]) continue;
      double grid_min = std::numeric_limits<double>::infinity();
      for (int c = 0; c <= 2000; ++c) {
        std::vector<double> e = empty;
        UserOutcome o = impl.prepare(n, c / 2000.0, 1.0);
        impl.finish(n, o, e.data(), 0.0);
        grid_min = std::min(grid_min, o.latency_s);
      }
      const double best = isolated_min_latency(impl, n, edge);
      // Not above the fine grid beyond 1e-4 (the edge path has small steps down that a finite
      // search can miss), and below it only by what the grid's 1/2000 spacing can hide.
      EXPECT_LE(best, grid_min * (1 + 1e-4)) << "slot " << t << " user " << n;
      EXPECT_GE(best, grid_min - 0.01) << "slot " << t << " user " << n;
      ++checked;
    }
    env.step(half);
  }
  EXPECT_GE(checked, 20);
}

TEST(NoContentionBound, no_baseline_averages_below_it) {
  Scenario s = testing::load("default");
  for (int users : {5, 30}) {
    EvalOptions opt;
    opt.num_users = users, opt.slots = 400, opt.seeds = 2, opt.show_progress = false;
    const LatencyBound bound = no_contention_bound(s, opt);
    EXPECT_GT(bound.latency_s.mean, 0.0);
    for (const auto& name : baseline_names()) {
      auto policy = make_baseline(name, s, 1);
      EvalSummary sum = evaluate_policy(s, *policy, opt);
      for (size_t k = 0; k < sum.runs.size(); ++k)
        EXPECT_LE(bound.per_seed[k], sum.runs[k].latency_s) << name << " N=" << users;
    }
  }
}

TEST(NoContentionBound, headroom_names_the_best_constraint_meeting_policy) {
  EvalSummary fast_bad, slow_ok, slower_ok;
  fast_bad.policy = "a", slow_ok.policy = "b", slower_ok.policy = "c";
  for (auto* c : {&fast_bad, &slow_ok, &slower_ok}) c->num_users = 5, c->meets_energy = c->meets_accuracy = c->meets_hallucination = true;
  fast_bad.meets_hallucination = false;
  fast_bad.latency_s.mean = 2, slow_ok.latency_s.mean = 4, slower_ok.latency_s.mean = 8;
  LatencyBound b;
  b.num_users = 5, b.latency_s.mean = 3;
  Headroom h = headroom_vs_best({b}, {fast_bad, slow_ok, slower_ok}, {"a", "b", "c"});
  EXPECT_EQ(h.json["5"]["best_baseline"], "b");
  EXPECT_DOUBLE_EQ(h.json["5"]["largest_possible_reduction"].get<double>(), 0.25);
  EXPECT_EQ(best_meeting_all({fast_bad}, 5, {"a"}), nullptr);
}

}  // namespace
}  // namespace mecllm::mec
