// Google Benchmark of VecEnv::step on the default scenario: items/s = user-decisions per second
// (num_envs x num_users per step), one thread. `mecllm bench env` reports the same figure with
// CPU time and JSON output; this program is for profiling and A/B comparisons of the step code.
//
//   build/bin/bench_env --benchmark_filter=Step
#include <benchmark/benchmark.h>

#include <vector>

#include "mec/scenario.h"
#include "mec/vec_env.h"

namespace {

const mecllm::mec::Scenario& default_scenario() {
  static const auto s = mecllm::mec::load_scenario({std::string(MECLLM_SOURCE_DIR) + "/configs/scenarios/default.yaml"});
  return s;
}

// args: (num_users, num_envs, action x)
void BM_Step(benchmark::State& state) {
  const int n = int(state.range(0)), e = int(state.range(1));
  mecllm::mec::VecEnv env(default_scenario(), e, n, 1);
  std::vector<float> actions(size_t(e) * n * env.act_dim(), float(state.range(2)) / 100.f);
  for (auto _ : state) {
    env.step(actions);
    benchmark::DoNotOptimize(env.rewards().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(n) * e);
}
BENCHMARK(BM_Step)->ArgNames({"users", "envs", "x%"})->Args({10, 1, 50})->Args({50, 1, 50})->Args({50, 1, 100})->Args({10, 16, 50});

// Reference measured in the same run: filling the action array alone (the cheapest possible "step").
void BM_FillActions(benchmark::State& state) {
  std::vector<float> actions(size_t(state.range(0)), 0.f);
  for (auto _ : state) {
    std::fill(actions.begin(), actions.end(), 0.5f);
    benchmark::DoNotOptimize(actions.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FillActions)->Arg(50);

}  // namespace

BENCHMARK_MAIN();
