// The parts of train_ppo that need no LibTorch: the loop state kept in the checkpoint (as JSON),
// the metrics truncation of a resumed run, and process settings made once per run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "rl/ppo.h"

namespace mecllm::rl {

// Everything of the loop that is not a tensor, for the checkpoint (JSON keeps doubles exact:
// nlohmann writes the shortest representation that round-trips).
struct LoopState {
  int64_t iteration = 0;  // iterations completed
  int64_t global_step = 0;
  double wall_s = 0;
  std::vector<double> ep_return;       // (E) running return of the current episode
  std::vector<uint8_t> prev_done;      // (A) the last step ended an episode
  double window_return_sum = 0;        // finished episodes since the last curve point
  int64_t window_episodes = 0;
  double last_episodic_return = std::numeric_limits<double>::quiet_NaN();
  std::vector<CurvePoint> curve;
};

nlohmann::json curve_to_json(const std::vector<CurvePoint>& c);
std::vector<CurvePoint> curve_from_json(const nlohmann::json& j);
// Keeps only metrics lines logged up to the checkpoint, so a resumed run's metrics.jsonl equals an
// uninterrupted run's.
void truncate_metrics(const std::filesystem::path& path, int64_t max_step);

// Large blocks served from the heap instead of fresh mmaps (see ppo_state.cpp).
void keep_large_allocations_in_heap();
// OpenBLAS's own thread pool limited to n (no-op with another BLAS; see ppo_state.cpp).
void limit_blas_threads(int n);

}  // namespace mecllm::rl
