// What the trainers need from an environment: mec::VecEnv's array contract (src/mec/vec_env.h)
// behind a virtual interface, so the algorithms are unit-tested on small toy environments with
// closed-form optima (tests/rl) and trained on the simulator through MecTrainEnv (mec_env.h).
//
// Layouts are those of VecEnv: observations (num_envs, num_users, obs_dim), actions
// (num_envs, num_users, act_dim) in [0,1], active (num_envs, num_users), rewards (num_envs),
// costs (num_envs, num_users, num_costs), terminated/truncated (num_envs). active() describes the
// current observation (read it before step()); rewards/costs describe the step just taken.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mecllm::rl {

class TrainEnv {
 public:
  virtual ~TrainEnv() = default;
  virtual int num_envs() const = 0;
  virtual int num_users() const = 0;
  virtual int obs_dim() const = 0;
  virtual int act_dim() const = 0;
  virtual int num_costs() const = 0;
  virtual std::string name() const = 0;

  virtual void reset() = 0;
  virtual void step(std::span<const float> actions) = 0;

  virtual std::span<const float> observations() const = 0;
  virtual std::span<const float> final_observations() const = 0;
  virtual std::span<const uint8_t> active() const = 0;
  virtual std::span<const float> rewards() const = 0;
  // (num_envs, num_users) each user's own reward of the step just taken (0 without a task).
  virtual std::span<const float> user_rewards() const = 0;
  virtual std::span<const float> costs() const = 0;
  virtual std::span<const uint8_t> terminated() const = 0;
  virtual std::span<const uint8_t> truncated() const = 0;

  // The complete state as bytes, so a resumed run continues exactly; load_state throws
  // InputError naming `source` when the bytes do not fit this environment.
  virtual std::string save_state() const = 0;
  virtual void load_state(std::string_view bytes, const std::string& source) = 0;
};

}  // namespace mecllm::rl
