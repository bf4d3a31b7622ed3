// `mecllm evaluate`: learned policies (policy.json) next to every heuristic baseline on the same
// seeds and user counts, through the simulator's evaluation harness (mec/evaluate.h), with the
// table, results.csv and summary.json keys of `sim compare`, the latency-vs-N plot, and the
// comparison against the best baseline that meets every constraint.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mecllm::rl {

struct EvaluateOptions {
  std::vector<std::filesystem::path> policies;  // run directories or policy.json files
  std::string scenario = "default";
  std::vector<int> users = {5, 10, 20, 30, 50};
  int seeds = 5;
  uint64_t first_seed = 1001;   // evaluation seeds differ from training seeds by default
  int slots = 1000;
  bool baselines = true;        // also evaluate every heuristic baseline
  bool show_progress = true;
};

struct EvaluateResult {
  std::string table;
  nlohmann::json summary;       // policy -> N -> metrics (sim compare's keys)
  nlohmann::json vs_best;       // per learned policy and N: the best constraint-meeting baseline and the gain
  std::filesystem::path out_dir;
  bool plot_written = false;
};

EvaluateResult run_evaluate(const EvaluateOptions& opt, const std::filesystem::path& out_dir);

}  // namespace mecllm::rl
