// The simulator (mec::VecEnv) behind rl::TrainEnv.
//
// VecEnv exposes no state serialisation, so exact resume replays: the adapter logs every action
// it passes to step() and load_state() rebuilds the environment from the scenario and seed and
// replays the log. The simulator is deterministic per seed, and replay runs at the simulator's
// speed (millions of user decisions per second), so a resume costs about a second per 10^6
// logged decisions; the log costs 4 bytes per user decision in the checkpoint.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mec/scenario.h"
#include "mec/vec_env.h"
#include "rl/env.h"

namespace mecllm::rl {

class MecTrainEnv : public TrainEnv {
 public:
  MecTrainEnv(const mec::Scenario& scenario, int num_envs, int num_users, uint64_t seed);
  int num_envs() const override { return env_.num_envs(); }
  int num_users() const override { return env_.num_users(); }
  int obs_dim() const override { return env_.obs_dim(); }
  int act_dim() const override { return env_.act_dim(); }
  int num_costs() const override { return mec::kNumCosts; }
  std::string name() const override { return scenario_.name; }
  void reset() override;
  void step(std::span<const float> actions) override;
  std::span<const float> observations() const override { return env_.observations(); }
  std::span<const float> final_observations() const override { return env_.final_observations(); }
  std::span<const uint8_t> active() const override { return env_.active(); }
  std::span<const float> rewards() const override { return env_.rewards(); }
  std::span<const float> user_rewards() const override { return env_.user_rewards(); }
  std::span<const float> costs() const override { return env_.costs(); }
  std::span<const uint8_t> terminated() const override { return env_.terminated(); }
  std::span<const uint8_t> truncated() const override { return env_.truncated(); }
  std::string save_state() const override;
  void load_state(std::string_view bytes, const std::string& source) override;

  mec::VecEnv& vec_env() { return env_; }

 private:
  mec::Scenario scenario_;
  uint64_t seed_;
  mec::VecEnv env_;
  bool was_reset_ = false;
  std::vector<float> log_;  // every action passed to step() since reset, (steps, E, N, act_dim)
};

}  // namespace mecllm::rl
