// The evaluation harness: run any Policy on fresh environments over several seeds and aggregate
// with 95% confidence intervals. Used by `mecllm sim run/compare` and by `mecllm evaluate` (rl).
//
// Definitions (docs/mec.md "Metrics"):
//   latency_s, energy_j, accuracy, hallucination  means over tasks (a task = an active user-slot)
//   violation_<c>     share of busy slots (>= 1 task) whose slot-level cost c is > 0:
//                     energy: mean_n E_n,t > mean_n Ebar_n; accuracy: A_t < A_min;
//                     hallucination: H_t > H_max
//   violation         share of busy slots violating any of the three
//   energy_ratio      long-run energy / long-run budget (all users, all slots); <= 1 meets it
//   long-run accuracy/hallucination: slot means averaged over busy slots (the constraint's form)
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mec/policy.h"
#include "mec/scenario.h"

namespace mecllm::mec {

struct EvalOptions {
  int num_users = 10;  // N
  int slots = 1000;    // slots simulated per seed (episodes auto-reset at the horizon)
  int seeds = 5;       // independent runs
  uint64_t first_seed = 1;
  bool show_progress = true;
};

// One seed's numbers.
struct EvalRun {
  uint64_t seed = 0;
  int64_t tasks = 0;
  int64_t busy_slots = 0;
  double latency_s = 0, energy_j = 0, accuracy = 0, hallucination = 0;  // per task
  double slot_latency_s = 0;       // objective form: mean over busy slots of the slot mean
  double slot_accuracy = 0;        // constraint form (mean over busy slots of A_t)
  double slot_hallucination = 0;   // constraint form (mean over busy slots of H_t)
  double energy_ratio = 0;         // total energy / total budget
  double violation_energy = 0, violation_accuracy = 0, violation_hallucination = 0, violation = 0;
  double mean_reward = 0;          // mean per-slot reward r_t
  double offload_share = 0;        // mean effective x over tasks
  bool meets_energy = false, meets_accuracy = false, meets_hallucination = false;
};

struct MetricCi {
  double mean = 0;
  double ci95 = 0;  // half-width over seeds
};

struct EvalSummary {
  std::string policy;
  int num_users = 0;
  int slots = 0;
  std::vector<EvalRun> runs;
  MetricCi latency_s, energy_j, accuracy, hallucination, slot_latency_s, slot_accuracy, slot_hallucination;
  MetricCi energy_ratio, violation_energy, violation_accuracy, violation_hallucination, violation;
  MetricCi mean_reward, offload_share;
  // Long-run constraints met on the seed-averaged figures.
  bool meets_energy = false, meets_accuracy = false, meets_hallucination = false;
  bool meets_all() const { return meets_energy && meets_accuracy && meets_hallucination; }
  // Tasks over all seeds; 0 means every metric is an empty mean, not a result.
  int64_t tasks() const {
    int64_t n = 0;
    for (const auto& r : runs) n += r.tasks;
    return n;
  }

  nlohmann::json to_json() const;
};

// Throws InputError naming the bad option (users, slots, seeds < 1).
void check_eval_options(const EvalOptions& options);

// Runs `policy` on one environment per seed (seeds first_seed, first_seed+1, ...).
// `on_run` (optional) is called after each seed, e.g. to log metrics.
EvalSummary evaluate_policy(const Scenario& scenario, Policy& policy, const EvalOptions& options,
                            const std::function<void(const EvalRun&)>& on_run = {});

// The metrics of one run as a flat table row / JSON, shared by the CLI and reports.
nlohmann::json run_to_json(const EvalRun& run);

}  // namespace mecllm::mec
