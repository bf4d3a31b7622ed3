// `mecllm bench train`: end-to-end training throughput on the simulator. Figures are ratios
// against references measured in the same run: the environment alone (random actions, the
// ceiling of any trainer), and PPO for WM-PPO's wall-clock per environment step.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/ppo.h"

namespace mecllm::rl {

struct BenchTrainOptions {
  std::string scenario = "default";
  int users = 10;
  int64_t steps = 16384;               // environment slots per trainer measured
  std::vector<std::string> configs;    // rl presets
  std::vector<std::string> sets;
  int threads = 0;                     // rl.ppo.worker_threads (1 or 2) for both trainers (0: the config's)
};

struct BenchTrainResult {
  double env_decisions_per_s = 0;      // VecEnv::step with fixed actions, same num_envs
  double ppo_decisions_per_s = 0;      // train_ppo end to end (collect + GAE + updates)
  double wm_decisions_per_s = 0;
  double ppo_s_per_step = 0, wm_s_per_step = 0;  // wall-clock per environment slot
  double target_ppo_decisions_per_s = 50000;
  double target_wm_over_ppo = 3.0;
  int threads = 1;                     // rl.ppo.worker_threads the trainers ran with
  int torch_threads = 1;               // rl.ppo.torch_threads (LibTorch intra-op and OpenBLAS)
  int64_t ppo_steps = 0, wm_steps = 0; // environment slots each trainer ran
  PhaseTimes ppo_phases, wm_phases;    // per-phase seconds of each trainer
  std::string table;
  nlohmann::json to_json() const;
};

BenchTrainResult bench_train(const BenchTrainOptions& opt);

}  // namespace mecllm::rl
