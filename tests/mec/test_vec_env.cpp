#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "mec/baselines.h"
#include "mec/vec_env.h"
#include "mec/evaluate.h"
#include "mec/vec_env_impl.h"
#include "test_helpers.h"

namespace mecllm::mec {
namespace {

std::vector<float> run_trajectory(const Scenario& s, uint64_t seed, int steps) {
  VecEnv env(s, 2, 5, seed);
  std::vector<float> actions(size_t(2) * 5 * env.act_dim(), 0.5f), trace;
  for (int t = 0; t < steps; ++t) {
    env.step(actions);
    trace.insert(trace.end(), env.observations().begin(), env.observations().end());
    trace.insert(trace.end(), env.rewards().begin(), env.rewards().end());
    trace.insert(trace.end(), env.costs().begin(), env.costs().end());
  }
  return trace;
}

TEST(VecEnv, same_seed_same_trajectory_different_seed_differs) {
  Scenario s = testing::load("tiny");
  auto a = run_trajectory(s, 7, 50), b = run_trajectory(s, 7, 50), c = run_trajectory(s, 8, 50);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(VecEnv, shapes_follow_the_contract) {
  Scenario s = testing::load("tiny");
  VecEnv env(s, 3, 4, 1);
  EXPECT_EQ(env.observations().size(), size_t(3 * 4 * env.obs_dim()));
  EXPECT_EQ(env.act_dim(), 1);
  std::vector<float> actions(12, 1.f);
  env.step(actions);
  EXPECT_EQ(env.rewards().size(), 3u);
  EXPECT_EQ(env.costs().size(), size_t(3 * 4 * kNumCosts));
  EXPECT_EQ(env.active().size(), 12u);
  std::vector<float> wrong(5, 0.f);
  EXPECT_THROW(env.step(wrong), InternalError);
}

TEST(VecEnv, truncates_at_the_horizon_and_resets) {
  Scenario s = testing::load("tiny", {"horizon=5"});
  VecEnv env(s, 2, 3, 3);
  std::vector<float> actions(6, 0.f);
  for (int t = 1; t <= 5; ++t) {
    env.step(actions);
    EXPECT_EQ(env.truncated()[0], t == 5 ? 1 : 0) << "slot " << t;
    EXPECT_EQ(env.terminated()[0], 0);
  }
  // After the reset the slot feature is back at 0; the final observation held the last slot.
  EXPECT_FLOAT_EQ(env.observations()[kObsSlot], 0.f);
  EXPECT_FLOAT_EQ(env.final_observations()[kObsSlot], 1.f);
}

}  // namespace
}  // namespace mecllm::mec

namespace mecllm::mec {
namespace {

// One user, no fading/shadowing/motion, a task every slot of J fixed-length prompts. The
// hand-written profiles are used because the expected values below are hand-computed from them.
Scenario hand_scenario(int prompts) {
  return testing::load("tiny", {"profiles=profiles/handwritten.json",
                                "edge_servers=[{device_class: edge-server-h200, variant: ecld-12b-distilled-fp16, "
                                "max_batch: 2, batch_kappa: 0.05}]",
                                "channel.fading=none", "channel.shadowing_sigma_db=0", "mobility.speed_max_mps=0",
                                "workload.tokens_sigma=0", "workload.context_sigma=0",
                                fmt::format("workload.prompts_min={}", prompts), fmt::format("workload.prompts_max={}", prompts),
                                "user_groups=[{device_class: jetson-nano-4gb, variant: ecld-1b-q4, arrival_prob: 1, energy_budget_j: 3.4}]"});
}

TEST(VecEnv, single_user_latency_and_energy_follow_the_hand_formula) {
  Scenario s = hand_scenario(2);
  const Profile& dev = s.group_profiles[0];
  const Profile& edge = s.edge_profiles[0];
  const auto& ch = s.channel;
  const double L_in = 128, L_out = 96, ctx_bits = 100e3 * 8, overhead_bits = 2048 * 8, beta = 32;

  // x = 0: the whole bundle runs locally, nothing queued before.
  {
    VecEnv env(s, 1, 1, 11);
    ASSERT_EQ(env.active()[0], 1);
    std::vector<float> a = {0.f};
    env.step(a);
    const UserOutcome& o = env.impl().outcome[0];
    double t_loc = 2 * (L_in / dev.prefill_tok_s + L_out / dev.decode_tok_s);
    EXPECT_NEAR(o.latency_s, t_loc, 1e-9);
    EXPECT_NEAR(o.energy_j, dev.active_power_w * t_loc, 1e-9);
    // the next task waits for the device backlog (t_loc - 1 slot)
    env.step(a);
    EXPECT_NEAR(env.impl().outcome[0].latency_s, (t_loc - s.slot_s) + t_loc, 1e-9);
  }
  // x = 1: upload, two sequences batched at the edge, download.
  {
    VecEnv env(s, 1, 1, 11);
    double d = env.impl().dist[0];
    double gain = db_to_linear(-pathloss_db(d, ch.pathloss_intercept_db, ch.pathloss_slope_db, ch.min_distance_m));
    double n0 = dbm_to_w(ch.noise_psd_dbm_hz + ch.noise_figure_db);
    double r_up = ch.bandwidth_hz * std::log2(1 + dbm_to_w(ch.tx_power_dbm) * gain / (n0 * ch.bandwidth_hz));
    double r_down = ch.bandwidth_hz * std::log2(1 + dbm_to_w(ch.bs_tx_power_dbm) * gain / (n0 * ch.bandwidth_hz));
    double t_up = 2 * (L_in * beta + ctx_bits + overhead_bits) / r_up;
    double t_down = 2 * L_out * beta / r_down;
    double prefill = L_in / edge.prefill_tok_s;
    double t1 = 1.0 / edge.decode_tok_s, kappa = s.edge_servers[0].batch_kappa;
    double done = t_up + prefill + L_out * t1 * (1 + kappa);  // second sequence decodes beside the first
    std::vector<float> a = {1.f};
    int difficulty = env.impl().difficulty[0];  // step() draws the next task
    env.step(a);
    const UserOutcome& o = env.impl().outcome[0];
    EXPECT_NEAR(o.t_up_s, t_up, 1e-9);
    EXPECT_NEAR(o.latency_s, done + t_down, 1e-9);
    EXPECT_NEAR(o.energy_j, (dbm_to_w(ch.tx_power_dbm) + ch.circuit_power_w) * t_up + ch.rx_power_w * t_down, 1e-9);
    EXPECT_NEAR(o.accuracy, edge.accuracy[difficulty], 1e-12);
  }
}

TEST(VecEnv, rounding_flag_rounds_to_whole_prompts_or_keeps_the_share) {
  Scenario s = hand_scenario(4);
  VecEnv env(s, 1, 1, 5);
  EXPECT_DOUBLE_EQ(env.impl().effective_x(0, 0.3), 0.25);   // 1.2 prompts -> 1
  EXPECT_DOUBLE_EQ(env.impl().effective_x(0, 0.4), 0.5);    // 1.6 prompts -> 2
  EXPECT_DOUBLE_EQ(env.impl().effective_x(0, 1.7), 1.0);    // clipped
  s.workload.round_to_prompts = false;
  VecEnv fluid(s, 1, 1, 5);
  EXPECT_DOUBLE_EQ(fluid.impl().effective_x(0, 0.3), 0.3);
}

// Alternates always-local (odd calls) and always-offload (even calls).
class AlternatingPolicy : public Policy {
 public:
  std::string name() const override { return "alternating"; }
  void reset(const VecEnv&) override { calls_ = 0; }
  void act(const VecEnv&, std::span<float> actions) override {
    std::fill(actions.begin(), actions.end(), calls_++ % 2 == 0 ? 0.f : 1.f);
  }

 private:
  int calls_ = 0;
};

TEST(VecEnv, virtual_queues_and_violation_shares_match_a_hand_computed_run) {
  // Two users, every task hard, one prompt of fixed length. Local: A = 0.34, H = 0.20; edge:
  // A = 0.66, H = 0.09 (profiles). A_min 0.65, H_max 0.10.
  Scenario s = hand_scenario(1);
  s.workload.difficulty_mix = {0, 0, 1};
  s.user_groups.push_back(s.user_groups[0]);
  s.user_groups[1].device_class = "snapdragon-865";
  s.user_groups[1].energy_budget_j = 2.0;
  resolve_profiles(s, "");
  const double a_loc = 0.34, h_loc = 0.20, a_edge = 0.66, h_edge = 0.09, a_min = 0.65, h_max = 0.10;
  VecEnv env(s, 1, 2, 3);
  const auto& im = env.impl();
  double qa = 0, qh = 0, qe[2] = {0, 0};
  AlternatingPolicy pol;
  std::vector<float> act(2);
  for (int t = 0; t < 4; ++t) {
    pol.act(env, act);
    env.step(act);
    bool local = t % 2 == 0;
    qa = std::max(qa + a_min - (local ? a_loc : a_edge), 0.0);
    qh = std::max(qh + (local ? h_loc : h_edge) - h_max, 0.0);
    EXPECT_NEAR(im.q_acc[0], qa, 1e-12) << "slot " << t;
    EXPECT_NEAR(im.q_hal[0], qh, 1e-12) << "slot " << t;
    for (int n = 0; n < 2; ++n) {
      const Profile& p = s.group_profiles[n];
      double e = local ? p.active_power_w * (128 / p.prefill_tok_s + 96 / p.decode_tok_s) : im.outcome[n].energy_j;
      EXPECT_NEAR(im.outcome[n].energy_j, e, 1e-9);
      qe[n] = std::max(qe[n] + e - s.user_groups[n].energy_budget_j, 0.0);
      EXPECT_NEAR(im.q_energy[n], qe[n], 1e-9) << "user " << n << " slot " << t;
    }
  }
  // By hand: after L, O, L, O: Q^A = 0.31, 0.30, 0.61, 0.60; Q^H = 0.10, 0.09, 0.19, 0.18.
  EXPECT_NEAR(qa, 0.60, 1e-12);
  EXPECT_NEAR(qh, 0.18, 1e-12);

  // The same run through the harness: half the busy slots violate each constraint (the local ones).
  EvalOptions opt;
  opt.num_users = 2, opt.slots = 4, opt.seeds = 1, opt.first_seed = 3, opt.show_progress = false;
  EvalSummary sum = evaluate_policy(s, pol, opt);
  EXPECT_EQ(sum.runs[0].busy_slots, 4);
  EXPECT_DOUBLE_EQ(sum.violation_accuracy.mean, 0.5);
  EXPECT_DOUBLE_EQ(sum.violation_hallucination.mean, 0.5);
  EXPECT_DOUBLE_EQ(sum.violation_energy.mean, 0.5);
  EXPECT_DOUBLE_EQ(sum.violation.mean, 0.5);
  EXPECT_NEAR(sum.slot_accuracy.mean, (a_loc + a_edge) / 2, 1e-12);
  EXPECT_FALSE(sum.meets_accuracy);  // 0.50 < 0.65
}

TEST(VecEnv, costs_are_in_le_zero_form_and_zero_for_inactive_quality) {
  Scenario s = testing::load("tiny");
  VecEnv env(s, 2, 4, 9);
  std::vector<float> a(8, 1.f);
  for (int t = 0; t < 30; ++t) {
    env.step(a);
    const auto& im = env.impl();
    for (int i = 0; i < 8; ++i) {
      const float* c = &env.costs()[size_t(i) * kNumCosts];
      EXPECT_NEAR(c[kCostEnergy], im.outcome[i].energy_j - im.budget_j[i], 1e-4);
      if (!env.acted()[i]) {
        EXPECT_EQ(c[kCostAccuracy], 0.f);
        EXPECT_EQ(c[kCostHallucination], 0.f);
      } else {
        EXPECT_NEAR(c[kCostAccuracy], s.constraints.accuracy_min - im.outcome[i].accuracy, 1e-6);
      }
    }
  }
}

}  // namespace
}  // namespace mecllm::mec
