// `mecllm bench <what>`: the parent command lives in cmd_bench.cpp; each benchmark registers
// itself from its own cmd_*.cpp, like the top-level subcommands do:
//
//   #include "cli/bench_registry.h"
//   static void setup_bench_train(CLI::App& sub) { /* options; sub.callback(...) */ }
//   static const mecllm::cli::BenchRegistrar bench_train{"train", "PPO/WM-PPO updates per second",
//                                                        &setup_bench_train};
//
// Conventions for every benchmark: one thread unless a flag says otherwise, results printed to
// stdout as ratios against a reference measured in the same run, and a JSON file written to
// --out DIR (bench_<name>.json). Never assert timings in tests.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mecllm::cli {

struct BenchSpec {
  std::string name;
  std::string description;
  std::function<void(CLI::App&)> setup;
};

// One registry for the whole binary (an inline function's static is unique across files).
inline std::vector<BenchSpec>& bench_registry() {
  static std::vector<BenchSpec> registry;
  return registry;
}

struct BenchRegistrar {
  BenchRegistrar(std::string name, std::string description, std::function<void(CLI::App&)> setup) {
    bench_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace mecllm::cli
