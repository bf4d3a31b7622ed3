// Subcommand registry. Each src/cli/cmd_<name>.cpp defines one subcommand and registers it with
//   static const mecllm::cli::Registrar reg{"name", "one-line description", &setup_fn};
// where setup_fn(CLI::App& sub) declares the options and sets sub.callback. main() catches
// every exception once and prints "mecllm <cmd>: error: ...".
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mecllm::cli {

struct CommandSpec {
  std::string name;
  std::string description;
  std::function<void(CLI::App&)> setup;
};

std::vector<CommandSpec>& command_registry();

struct Registrar {
  Registrar(std::string name, std::string description, std::function<void(CLI::App&)> setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace mecllm::cli
