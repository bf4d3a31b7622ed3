// The vectorised MEC offloading environment: E independent environments x N users each,
// advanced together by one step() over contiguous arrays (gym-like, deterministic per seed).
//
// CONTRACT shared by src/mec (implements it) and src/rl (trains on it): members may be added,
// existing signatures and array layouts do not change without updating both sides.
//
// Layouts (row-major, outermost first):
//   observations  (num_envs, num_users, obs_dim)   float, normalised features (mec-model.md)
//   actions       (num_envs, num_users, act_dim)   float in [0,1]: [x_n] or [x_n, bandwidth logit-free share]
//   active        (num_envs, num_users)            1 if the user has a task this slot
//   rewards       (num_envs)                       r_t = -(mean latency over active users)/T_ref
//                                                  (team reward; the Lagrangian terms are the agent's)
//   costs         (num_envs, num_users, kNumCosts) per-user constraint costs in "<= 0" form:
//                                                  [E_n - Ebar_n (J), A_min - A_n, H_n - H_max];
//                                                  0 for inactive users in the quality terms
//   terminated    (num_envs)                       never set by the default scenario (no terminal state)
//   truncated     (num_envs)                       set on the last slot of an episode; the env auto-resets
//                                                  and final_observations() holds the pre-reset observation
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mecllm::mec {

struct Scenario;  // scenario.h: every default of mec-model.md, loaded from YAML

inline constexpr int kNumCosts = 3;
enum CostIndex : int { kCostEnergy = 0, kCostAccuracy = 1, kCostHallucination = 2 };

// Per-slot measurements for reporting, one row per environment (means over active users).
struct SlotInfo {
  double mean_latency_s = 0;
  double mean_energy_j = 0;
  double mean_accuracy = 0;
  double mean_hallucination = 0;
  int active_users = 0;
};

// Most (environment, user) pairs one VecEnv holds (N = 50 x 64 environments is 3,200).
inline constexpr int64_t kMaxEnvUsers = 1'000'000;

class VecEnv {
 public:
  VecEnv(const Scenario& scenario, int num_envs, int num_users, uint64_t seed);
  ~VecEnv();
  VecEnv(VecEnv&&) noexcept;
  VecEnv& operator=(VecEnv&&) noexcept;

  int num_envs() const;
  int num_users() const;
  int obs_dim() const;
  int act_dim() const;
  int horizon() const;  // slots per episode

  // Resets every environment; observations() then holds the first observation.
  void reset();
  // Advances every environment by one slot. actions: (num_envs, num_users, act_dim), clipped to [0,1].
  void step(std::span<const float> actions);

  std::span<const float> observations() const;
  std::span<const float> final_observations() const;  // valid where truncated()/terminated() is set
  std::span<const uint8_t> active() const;
  std::span<const float> rewards() const;
  std::span<const float> costs() const;
  std::span<const uint8_t> terminated() const;
  std::span<const uint8_t> truncated() const;
  std::span<const SlotInfo> slot_info() const;
  // Added by the simulator: (num_envs, num_users) users that had a task in the slot just stepped
  // (active() already shows the next slot's tasks).
  std::span<const uint8_t> acted() const;
  // (num_envs, kNumCosts) slot-level costs of the slot just stepped, "<= 0" form:
  // [mean_n E_n - mean_n Ebar_n, A_min - A_t, H_t - H_max] (quality terms 0 without active users).
  std::span<const float> slot_costs() const;
  // (num_envs, num_users) each user's own reward for the slot just stepped: -T_n / T_ref where the
  // user had a task, 0 otherwise (the per-user credit a shared-weight agent learns from; rewards()
  // stays the team mean).
  std::span<const float> user_rewards() const;

  const Scenario& scenario() const;

  struct Impl;  // defined in vec_env.cpp; baselines with full slot knowledge read it
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mecllm::mec
