// A lower bound on the mean task latency that any offloading policy can reach on given seeds.
//
// Arrivals, task sizes, mobility and fading are drawn independently of the actions (the
// simulator's random stream never depends on them), so every policy evaluated on a seed serves
// the same tasks. Each task is at its fastest when it has the cell to itself: an idle device, an
// empty edge server (batch of its own prompts only), the whole uplink, and the best offload share
// for those conditions. Queueing, batching with other users and a shared uplink can only add
// time, so the mean of these per-task optima bounds every policy's mean latency from below,
// constraints or not. The gap between the best baseline and this bound is the most a learned
// policy could gain over it (docs/mec.md "No-contention bound").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "mec/evaluate.h"
#include "mec/scenario.h"
#include "mec/vec_env_impl.h"

namespace mecllm::mec {

// Least latency of user i's current task with the cell to itself, over the offload share:
// exact over every whole-prompt split when the scenario rounds to prompts (the default), else a
// 101-point grid plus a bisection on the crossing of the local path (falls with x) and the edge
// path (grows with x, with small steps down), within ~1e-4 relative of the least latency.
// `edge_scratch` is resized to one env's edge block.
double isolated_min_latency(const VecEnv::Impl& env, int i, std::vector<double>& edge_scratch);

struct LatencyBound {
  int num_users = 0;
  int slots = 0;
  MetricCi latency_s;             // mean over seeds of the per-task mean
  std::vector<double> per_seed;
};

// The bound for options.num_users on the seeds and slots of `options` (the tasks every policy
// evaluated with the same options serves).
LatencyBound no_contention_bound(const Scenario& scenario, const EvalOptions& options);

// The lowest-latency cell at N = n among `candidates` that meets every long-run constraint
// (nullptr when none does).
const EvalSummary* best_meeting_all(const std::vector<EvalSummary>& cells, int n,
                                    const std::vector<std::string>& candidates);

// Per N: the bound, the best constraint-meeting candidate and the largest latency reduction any
// policy could have against it (1 - bound / best). Text for the report and JSON (N -> fields).
struct Headroom {
  std::string table;
  nlohmann::json json;
};
Headroom headroom_vs_best(const std::vector<LatencyBound>& bounds, const std::vector<EvalSummary>& cells,
                          const std::vector<std::string>& candidates);

}  // namespace mecllm::mec
