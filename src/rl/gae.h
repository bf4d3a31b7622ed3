// Generalised advantage estimation (Schulman et al. 2016) over a rollout, with truncation handled
// as in CleanRL/SB3: a truncated step is not a terminal state, so its TD target bootstraps from the
// value of the pre-reset observation, while the recursion still stops at the episode boundary.
#pragma once

#include <cstdint>
#include <span>

namespace mecllm::rl {

struct GaeInput {
  int num_steps = 0;   // T
  int num_agents = 0;  // A (environments x users)
  std::span<const float> rewards;       // (T, A)
  std::span<const float> values;        // (T, A) V(s_t)
  std::span<const uint8_t> terminated;  // (T, A) 1 where s_{t+1} is terminal (no bootstrap)
  std::span<const uint8_t> truncated;   // (T, A) 1 where the episode was cut after step t
  std::span<const float> final_values;  // (T, A) V(pre-reset observation), read where truncated
  std::span<const float> next_values;   // (A) V(s_T) for the observation after the rollout
  double gamma = 0.99;
  double lambda = 0.95;
};

// Writes advantages and returns (= advantages + values), each (T, A).
void compute_gae(const GaeInput& in, std::span<float> advantages, std::span<float> returns);

}  // namespace mecllm::rl
