// The trainer of PPO, PPO-Lagrangian and WM-PPO (one loop, switches from RlConfig; see ppo.cpp).
// No LibTorch in this header, so the CLI and the experiments include it cheaply.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rl/env.h"
#include "rl/rl_config.h"

namespace mecllm::rl {

struct TrainOptions {
  std::filesystem::path out_dir;        // run directory (config.yaml, metrics, checkpoint, policy.json)
  uint64_t seed = 1;
  bool resume = false;                  // continue from out_dir/checkpoint.pt
  int64_t stop_after_iterations = -1;   // stop (as if killed) after this many iterations in total
  bool show_progress = true;
  std::string scenario_name;            // recorded in the exported policy
  std::string config_yaml;              // resolved config echo written first (empty: generated)
};

// One point of the learning curve per iteration.
struct CurvePoint {
  int64_t step = 0;              // environment slots so far
  double wall_s = 0;             // training seconds so far
  double episodic_return = 0;    // mean return of the episodes finished so far in this iteration window
  double mean_reward = 0;        // mean team reward per slot in this rollout (unscaled)
  std::vector<double> costs;     // mean raw cost per constraint in this rollout
  std::vector<double> lambdas;
};

// Wall-clock seconds of each phase of the loop, summed over the iterations of this call.
struct PhaseTimes {
  double act = 0;          // policy and value forward passes and action sampling of the rollout
  double env = 0;          // env.step and recording rewards, costs, episode ends, normalising observations
  double model_train = 0;  // world-model training (WM-PPO)
  double gae = 0;          // GAE per channel and the advantage combination
  double model_use = 0;    // posterior pass over the rollout, value expansion, imagination (WM-PPO)
  double update = 0;       // epochs x minibatches (= update_forward + update_backward + update_optim)
  double update_forward = 0, update_backward = 0, update_optim = 0;
  double log = 0;          // metrics, progress, checkpoint and policy export
  double total() const { return act + env + model_train + gae + model_use + update + log; }
};

struct TrainResult {
  int64_t global_step = 0;
  int64_t iterations = 0;
  bool finished = false;         // false when stopped by stop_after_iterations
  double wall_s = 0;
  double steps_per_s = 0;        // environment slots per second
  double decisions_per_s = 0;    // user decisions (slots x users) per second
  std::vector<CurvePoint> curve;
  std::filesystem::path policy_path;
  PhaseTimes phases;
};

// Trains on `env` (which it resets); writes the run directory; throws InputError for bad input
// (an existing checkpoint without --resume, a corrupt or mismatched checkpoint).
TrainResult train_ppo(const RlConfig& cfg, TrainEnv& env, const TrainOptions& opt);

}  // namespace mecllm::rl
