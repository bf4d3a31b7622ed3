// Wall-clock helpers for timing phases, progress and benchmarks: one steady clock for the project.
#pragma once

#include <chrono>

namespace mecllm {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_between(SteadyClock::time_point t0, SteadyClock::time_point t1) {
  return std::chrono::duration<double>(t1 - t0).count();
}

inline double seconds_since(SteadyClock::time_point t0) { return seconds_between(t0, SteadyClock::now()); }

}  // namespace mecllm
