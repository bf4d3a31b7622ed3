// Analytic load figures of a scenario (mec-model.md "Calibration of the defaults"): device
// utilisation and energy under always-local, edge utilisation under always-offload for a given N,
// and the quality of each pure strategy. `mecllm sim calibrate` prints them; docs/mec.md quotes
// them and tests/mec/test_baselines.cpp (Calibration.*) checks the default scenario against the targets.
#pragma once

#include <string>
#include <vector>

#include "mec/scenario.h"

namespace mecllm::mec {

struct GroupLoad {
  std::string name;
  double users_share = 0;       // fraction of the N users
  double local_task_s = 0;      // mean local service time of a whole task
  double local_util = 0;        // p * local_task_s / slot_s under always-local
  double local_energy_j = 0;    // mean energy per slot under always-local
  double energy_budget_j = 0;   // Ebar of the group
};

struct EdgeLoad {
  int num_users = 0;
  double sequences_per_s = 0;   // offered prompts per second under always-offload
  double decode_util = 0;       // offered decode work / saturated batch capacity (server 0)
  double prefill_util = 0;      // offered prefill work / prefill rate
};

struct CalibrationReport {
  double mean_prompts = 0, mean_input_tokens = 0, mean_output_tokens = 0, mean_context_bytes = 0;
  std::vector<GroupLoad> groups;
  double local_accuracy = 0, local_hallucination = 0;  // difficulty-mix averages (user-share weighted)
  double edge_accuracy = 0, edge_hallucination = 0;    // server 0
  double edge_capacity_tok_s = 0;                      // saturated decode throughput of server 0
  std::vector<EdgeLoad> edge;                          // one per requested N
  std::string to_text() const;
};

CalibrationReport calibrate(const Scenario& scenario, const std::vector<int>& users);

}  // namespace mecllm::mec
