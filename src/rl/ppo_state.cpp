#include "rl/ppo_state.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include "common/rundir.h"

namespace mecllm::rl {

nlohmann::json curve_to_json(const std::vector<CurvePoint>& c) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& p : c)
    j.push_back({{"step", p.step}, {"wall_s", p.wall_s},
                 {"ret", std::isfinite(p.episodic_return) ? nlohmann::json(p.episodic_return) : nlohmann::json()},
                 {"mean_reward", p.mean_reward}, {"costs", p.costs}, {"lambdas", p.lambdas}});
  return j;
}
std::vector<CurvePoint> curve_from_json(const nlohmann::json& j) {
  std::vector<CurvePoint> c;
  for (const auto& e : j) {
    CurvePoint p;
    p.step = e.at("step").get<int64_t>();
    p.wall_s = e.at("wall_s").get<double>();
    p.episodic_return = e.at("ret").is_null() ? std::numeric_limits<double>::quiet_NaN() : e.at("ret").get<double>();
    p.mean_reward = e.at("mean_reward").get<double>();
    p.costs = e.at("costs").get<std::vector<double>>();
    p.lambdas = e.at("lambdas").get<std::vector<double>>();
    c.push_back(std::move(p));
  }
  return c;
}

void truncate_metrics(const std::filesystem::path& path, int64_t max_step) {
  if (!std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("step").get<int64_t>() <= max_step) kept += line + "\n";
    } catch (const std::exception&) {
      // A line cut by the kill: dropped.
    }
  }
  write_file_atomic(path, kept);
}

// glibc serves allocations above 128 KiB by mmap and returns them at free, so every minibatch's
// (1280 x 64) activations and gradients were fresh pages: about a fifth of PPO's time went to
// page faults and zeroing in the kernel (perf). Keeping such blocks in the heap removes that.
void keep_large_allocations_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

// LibTorch's CPU matmuls go to OpenBLAS, whose own thread pool ignores torch::set_num_threads:
// with the default (one thread per core) its workers spin in sched_yield on these small matrices,
// which halved WM-PPO's throughput on the 2-core machine (measured). Looked up at run time, so a
// LibTorch built on another BLAS is unaffected.
void limit_blas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

}  // namespace mecllm::rl
