#include "mec/bench_env.h"

#include <time.h>

#include <chrono>

#include <algorithm>

#include "common/clock.h"
#include "common/errors.h"
#include "mec/vec_env.h"

namespace mecllm::mec {

namespace {
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
}  // namespace

EnvBenchResult bench_env(const Scenario& scenario, const std::vector<int>& users, int num_envs, double seconds_per_case) {
  if (num_envs < 1) throw InputError(fmt::format("bench env: --envs must be >= 1, got {}", num_envs));
  if (!(seconds_per_case > 0)) throw InputError(fmt::format("bench env: --seconds must be > 0, got {}", seconds_per_case));
  EnvBenchResult res;
  for (int n : users) {
    if (n < 1) throw InputError(fmt::format("bench env: user counts must be >= 1, got {}", n));
    VecEnv env(scenario, num_envs, n, 12345);
    std::vector<float> actions(size_t(num_envs) * n * env.act_dim(), 0.5f);
    for (int t = 0; t < 200; ++t) env.step(actions);  // warm-up: caches, first episode
    EnvBenchCase c;
    c.num_users = n;
    c.num_envs = num_envs;
    auto start = SteadyClock::now();
    double cpu_start = thread_cpu_seconds();
    double elapsed = 0;
    // Check the clock every 64 steps so timing does not weigh on small steps.
    while (elapsed < seconds_per_case) {
      for (int t = 0; t < 64; ++t) env.step(actions);
      c.steps += 64;
      elapsed = mecllm::seconds_since(start);
    }
    c.seconds = elapsed;
    c.cpu_seconds = thread_cpu_seconds() - cpu_start;
    c.decisions_per_s = double(c.steps) * num_envs * n / elapsed;
    c.decisions_per_cpu_s = double(c.steps) * num_envs * n / std::max(c.cpu_seconds, 1e-9);
    res.cases.push_back(c);
  }
  return res;
}

nlohmann::json EnvBenchResult::to_json() const {
  nlohmann::json j = {{"benchmark", "env"}, {"unit", "user-decisions/s"}, {"threads", 1},
                      {"target_decisions_per_s", target_decisions_per_s}};
  nlohmann::json cs = nlohmann::json::array();
  for (const auto& c : cases)
    cs.push_back({{"num_users", c.num_users}, {"num_envs", c.num_envs}, {"steps", c.steps}, {"seconds", c.seconds},
                  {"cpu_seconds", c.cpu_seconds},
                  {"decisions_per_s", c.decisions_per_s}, {"decisions_per_cpu_s", c.decisions_per_cpu_s},
                  {"ratio_to_target", c.decisions_per_cpu_s / target_decisions_per_s},
                  {"ratio_to_first_case", cases.empty() ? 0.0 : c.decisions_per_cpu_s / cases.front().decisions_per_cpu_s}});
  j["cases"] = cs;
  return j;
}

}  // namespace mecllm::mec
