// Small environments with closed-form optima for the trainer tests (they follow rl::TrainEnv).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "common/rng.h"
#include "rl/env.h"

namespace mecllm::rl::test {

// One task per slot per user; the user splits it between local execution (time a (1-x)) and the
// edge (time b x), running in parallel, so latency = max(a (1-x), b x), minimised at
// x* = a / (a + b). Observations [a, b, noise]; reward = -mean latency; costs
// [(1-x) e - budget, -0.1, -0.1] (energy of the local share against a budget). With arrival < 1 a
// user has a task in a slot with that probability (the observation's last feature is the noise
// then, the task flag is active()); users without a task get reward 0 and their action is ignored.
class ToyOffloadEnv : public TrainEnv {
 public:
  ToyOffloadEnv(int num_envs, int num_users, uint64_t seed, double a = 2.0, double b = 1.0, int horizon = 16,
                double budget = 10.0, double arrival = 1.0);
  int num_envs() const override { return E_; }
  int num_users() const override { return N_; }
  int obs_dim() const override { return 3; }
  int act_dim() const override { return 1; }
  int num_costs() const override { return 3; }
  std::string name() const override { return "toy-offload"; }
  void reset() override;
  void step(std::span<const float> actions) override;
  std::span<const float> observations() const override { return obs_; }
  std::span<const float> final_observations() const override { return final_obs_; }
  std::span<const uint8_t> active() const override { return active_; }
  std::span<const float> rewards() const override { return rew_; }
  std::span<const float> user_rewards() const override { return user_rew_; }
  std::span<const float> costs() const override { return cost_; }
  std::span<const uint8_t> terminated() const override { return term_; }
  std::span<const uint8_t> truncated() const override { return trunc_; }
  std::string save_state() const override;
  void load_state(std::string_view bytes, const std::string& source) override;

  double optimum() const { return a_ / (a_ + b_); }

 private:
  void observe();
  int E_, N_, horizon_;
  double a_, b_, budget_, arrival_;
  Rng rng_;
  int slot_ = 0;
  std::vector<float> obs_, final_obs_, rew_, user_rew_, cost_;
  std::vector<uint8_t> active_, term_, trunc_;
};

}  // namespace mecllm::rl::test
