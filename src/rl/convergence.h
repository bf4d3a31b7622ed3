// `mecllm experiment convergence`: PPO, PPO-Lagrangian, WM-PPO and its two ablations on one
// scenario over several seeds; learning curves with 95% bands, steps to 95% of PPO's final
// return, final returns and the WM-PPO/PPO ratios (wm-ppo.md, "Evaluation protocol").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mecllm::rl {

struct ConvergenceOptions {
  std::string scenario = "default";
  int users = 10;
  int seeds = 5;
  uint64_t first_seed = 1;
  // Environment slots per run (< 0: the config's total_steps). 20,480: PPO's curve has flattened
  // by then (it reaches 95% of its final return at about 14,000, docs/rl.md); the 25 runs took
  // 14.5 minutes of wall-clock at load average 5-9 on the shared 2-core machine.
  int64_t steps = 20480;
  std::vector<std::string> configs;   // rl presets
  std::vector<std::string> sets;      // rl overrides
  bool show_progress = true;
};

struct ConvergenceResult {
  nlohmann::json json;   // also written as convergence.json
  std::string table;     // also written as table.txt
  std::filesystem::path out_dir;
};

// The five configurations in report order: {label, algo, extra --set flags}.
struct ConvergenceArm {
  std::string label, algo;
  std::vector<std::string> sets;
};
const std::vector<ConvergenceArm>& convergence_arms();

// Curve analysis, separated for tests. Returns are negative (latency), so "95% of PPO's final
// return" is measured as 95% of the way from the initial return r0 to PPO's final return:
// threshold = r0 + 0.95 (final_ppo - r0). The smoothed return is a trailing mean over `window`
// points. Returns the first step reaching the threshold, or -1.
int64_t steps_to_threshold(const std::vector<int64_t>& steps, const std::vector<double>& returns, double threshold,
                           int window = 5);
// Mean of the last 10% of the points (at least one).
double final_return(const std::vector<double>& returns);

ConvergenceResult run_convergence(const ConvergenceOptions& opt, const std::filesystem::path& out_dir);

}  // namespace mecllm::rl
