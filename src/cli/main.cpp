// mecllm: compact LLMs on the edge and learned device/edge offloading.
//
//   mecllm <subcommand> [options]      (mecllm --help lists them; mecllm <cmd> --help details one)
//
// Thin by design: each subcommand parses, calls one library function and prints. Errors of any
// kind are caught here once and printed as "mecllm <cmd>: error: <message>", exit status 1.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/command.h"
#include "common/log.h"

namespace mecllm::cli {
std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace mecllm::cli

int main(int argc, char** argv) {
  using namespace mecllm;
  CLI::App app{"mecllm: compress LLMs for the edge and learn device/edge offloading"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mecllm 0.1.0");

  auto& registry = cli::command_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    spec.setup(*sub);
  }

  std::string command = "";
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    for (auto* sub : app.get_subcommands()) command = sub->get_name();
    std::fprintf(stderr, "mecllm %s: error: %s\n", command.c_str(), e.what());
    return 1;
  }
  return 0;
}
