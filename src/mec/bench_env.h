// Throughput of VecEnv::step in user-decisions per second (num_envs x num_users per step), one
// thread. Behind `mecllm bench env` and bench/bench_env.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "mec/scenario.h"

namespace mecllm::mec {

struct EnvBenchCase {
  int num_users = 0;
  int num_envs = 0;
  int64_t steps = 0;
  double seconds = 0;           // wall clock
  double cpu_seconds = 0;       // this thread's CPU time (the machine may be shared)
  double decisions_per_s = 0;   // num_envs * num_users * steps / seconds (wall)
  double decisions_per_cpu_s = 0;  // the same per CPU second: the per-core figure
};

struct EnvBenchResult {
  double target_decisions_per_s = 2e6;
  std::vector<EnvBenchCase> cases;
  nlohmann::json to_json() const;
};

// Steps each N for about `seconds_per_case` (after a short warm-up) with a constant action of
// 0.5, so both the local and the edge paths run. num_envs environments are stepped together.
EnvBenchResult bench_env(const Scenario& scenario, const std::vector<int>& users, int num_envs, double seconds_per_case);

}  // namespace mecllm::mec
