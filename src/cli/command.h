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

// Validator of an integer option: "--flag: expected an integer >= lo, got -1" (CLI11's own
// NonNegativeNumber/Range messages print the bounds as doubles up to 1.8e308).
inline CLI::Validator at_least(long long lo) {
  return CLI::Validator(
      [lo](std::string& text) -> std::string {
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size()) return "expected an integer, got '" + text + "'";
        return v >= lo ? std::string() : "expected an integer >= " + std::to_string(lo) + ", got " + text;
      },
      "INT>=" + std::to_string(lo));
}

struct Registrar {
  Registrar(std::string name, std::string description, std::function<void(CLI::App&)> setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace mecllm::cli
