// `mecllm experiment <name>`: the parent command lives in cmd_experiment.cpp; each experiment
// registers itself from its own cmd_experiment_<name>.cpp, like bench entries do:
//
//   #include "cli/experiment_registry.h"
//   static void setup_convergence(CLI::App& sub) { /* options; sub.callback(...) */ }
//   static const mecllm::cli::ExperimentRegistrar reg{"convergence", "one-line description", &setup_convergence};
//
// Every experiment writes a run directory (config.yaml first, per-run subdirectories, a JSON
// summary, a table and plots) and prints the table.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mecllm::cli {

struct ExperimentSpec {
  std::string name;
  std::string description;
  std::function<void(CLI::App&)> setup;
};

inline std::vector<ExperimentSpec>& experiment_registry() {
  static std::vector<ExperimentSpec> registry;
  return registry;
}

struct ExperimentRegistrar {
  ExperimentRegistrar(std::string name, std::string description, std::function<void(CLI::App&)> setup) {
    experiment_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace mecllm::cli
