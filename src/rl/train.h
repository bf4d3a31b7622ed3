// Run-directory artifacts of a training run, and the `mecllm train` entry point on the simulator.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "rl/ppo.h"

namespace mecllm::rl {

// metrics.csv (one row per iteration) and learning_curve.png (+ .dat/.gp) in `dir`.
void write_curve_artifacts(const std::filesystem::path& dir, const std::vector<CurvePoint>& curve,
                           const std::string& label);

struct TrainRequest {
  std::string algo = "ppo";            // --algo
  bool no_value_targets = false;       // --no-value-targets
  bool no_imagination = false;         // --no-imagination
  std::string scenario;                // --scenario (name or path)
  int users = 10;                      // --users
  int64_t steps = -1;                  // --steps (environment slots; < 0: config value)
  uint64_t seed = 1;                   // --seed
  std::filesystem::path out;           // --out
  std::vector<std::string> configs;    // --config presets (configs/rl/<name>.yaml)
  std::vector<std::string> sets;       // --set key=value
  bool resume = false;                 // --resume
  bool show_progress = true;
};

// Resolves the config layers (defaults in code, then presets, then flags), builds the simulator
// environment and trains. Throws InputError for bad input (unknown algorithm, scenario, flags).
RlConfig resolve_train_config(const TrainRequest& req);
TrainResult run_train(const TrainRequest& req);

}  // namespace mecllm::rl
