// The simulator's two report jobs behind `mecllm sim run` and `mecllm sim compare`: run policies
// through the evaluation harness and write a run directory (config.yaml first, metrics.jsonl,
// summary.json, CSV, table, plot). The CLI only parses flags and prints the returned table.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rundir.h"
#include "mec/evaluate.h"
#include "mec/latency_bound.h"
#include "mec/scenario.h"

namespace mecllm::mec {

struct SimRunOptions {
  std::string policy = "greedy-constrained";
  EvalOptions eval;
};

struct SimRunResult {
  EvalSummary summary;
  std::string table;  // human-readable, for stdout
  std::filesystem::path out_dir;
};

// Evaluates one baseline; writes config.yaml, metrics.jsonl (one line per seed), summary.json.
SimRunResult run_sim(const Scenario& scenario, const SimRunOptions& options, const std::filesystem::path& out_dir);

struct CompareOptions {
  std::vector<int> users = {5, 10, 20, 30, 50};
  std::vector<std::string> policies;  // empty: every baseline
  int slots = 2000;
  int seeds = 5;
  uint64_t first_seed = 1;
  bool quick = false;  // a few hundred slots, 2 seeds: a smoke run in seconds
};

struct CompareResult {
  std::vector<EvalSummary> cells;  // policy-major, then users
  std::vector<LatencyBound> bounds;  // one per user count, on the same seeds
  std::string table;
  std::filesystem::path out_dir, csv, summary_json, plot_png;
  bool plot_written = false;
};

// Every policy at every N. Writes config.yaml, results.csv, summary.json
// (policy -> N -> {latency_s, energy_j, accuracy, hallucination, violation, ...}),
// latency_bound.json (N -> the no-contention bound and the headroom below the best
// constraint-meeting policy), table.txt and latency_vs_users.png (+ .dat/.gp).
CompareResult compare_baselines(const Scenario& scenario, const CompareOptions& options,
                                const std::filesystem::path& out_dir);

// One row per summary: latency with CI, energy, accuracy, hallucination, violation shares.
std::string format_table(const std::vector<EvalSummary>& rows, const Scenario& scenario);

// results.csv (one row per cell) in `dir`; returns summary.json's content (policy -> N -> metrics).
nlohmann::json write_cells_csv(const RunDir& dir, const std::vector<EvalSummary>& cells);

// latency_vs_users.png: one line per policy in `policies` (95% CI bars) and the no-contention bound.
bool plot_latency_vs_users(const Scenario& scenario, const std::vector<EvalSummary>& cells,
                           const std::vector<std::string>& policies, const std::vector<LatencyBound>& bounds,
                           int seeds, int slots, const RunDir& dir);

// "5,10,20" -> {5,10,20}; InputError naming the flag for anything else.
std::vector<int> parse_user_list(const std::string& text, const std::string& flag);

}  // namespace mecllm::mec
