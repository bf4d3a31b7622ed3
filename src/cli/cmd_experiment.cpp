// mecllm experiment <name> [options]: multi-run experiments (seeds x configurations) that write
// one run directory with a table, JSON and plots. Experiments register through
// cli/experiment_registry.h (e.g. cmd_experiment_convergence.cpp).
#include <algorithm>

#include "cli/command.h"
#include "cli/experiment_registry.h"

namespace {

void setup_experiment(CLI::App& app) {
  auto& registry = mecllm::cli::experiment_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& spec : registry) spec.setup(*app.add_subcommand(spec.name, spec.description));
  app.require_subcommand(1);
}

}  // namespace

static const mecllm::cli::Registrar reg{"experiment", "multi-seed experiments (experiment convergence, ...)",
                                        &setup_experiment};
