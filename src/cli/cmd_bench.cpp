// mecllm bench <what> [options]: performance benchmarks. This file holds the parent command and
// `bench env`; other areas add theirs through cli/bench_registry.h (see the comment there).
//
//   mecllm bench env [--scenario default] [--users 10,50] [--envs 1] [--seconds 2] [--out DIR]
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "cli/bench_registry.h"
#include "cli/command.h"
#include "common/rundir.h"
#include "mec/bench_env.h"
#include "mec/report.h"

namespace {

void setup_bench_env(CLI::App& sub) {
  struct Args {
    std::string scenario = "default", users = "10,50", out;
    int envs = 1;
    double seconds = 2.0;
    std::vector<std::string> sets;
  };
  auto args = std::make_shared<Args>();
  sub.add_option("--scenario", args->scenario, "scenario name or YAML path")->capture_default_str();
  sub.add_option("--users", args->users, "comma-separated user counts N")->capture_default_str();
  sub.add_option("--envs", args->envs, "environments stepped together (num_envs)")->capture_default_str();
  sub.add_option("--seconds", args->seconds, "measuring time per case (s)")->capture_default_str();
  sub.add_option("--set", args->sets, "scenario override key=value (repeatable)");
  sub.add_option("--out", args->out, "directory for bench_env.json");
  sub.callback([args] {
    auto scenario = mecllm::mec::load_scenario({args->scenario}, args->sets);
    auto users = mecllm::mec::parse_user_list(args->users, "--users");
    auto res = mecllm::mec::bench_env(scenario, users, args->envs, args->seconds);
    fmt::print("bench env: VecEnv::step, one thread, scenario {}, {} env(s) per step\n", scenario.name, args->envs);
    fmt::print("{:>6} {:>10} {:>16} {:>16} {:>8} {:>12} {:>12}\n", "N", "steps", "decisions/CPU-s", "decisions/wall-s",
               "CPU/wall", "x target 2M", "x first N");
    for (const auto& c : res.cases)
      fmt::print("{:>6} {:>10} {:>16.0f} {:>16.0f} {:>8.2f} {:>12.2f} {:>12.2f}\n", c.num_users, c.steps,
                 c.decisions_per_cpu_s, c.decisions_per_s, c.cpu_seconds / c.seconds,
                 c.decisions_per_cpu_s / res.target_decisions_per_s,
                 c.decisions_per_cpu_s / res.cases.front().decisions_per_cpu_s);
    fmt::print("per-core figure = decisions per CPU second of this thread (the machine may be shared)\n");
    if (!args->out.empty()) {
      mecllm::RunDir dir(args->out);
      dir.write_json("bench_env.json", res.to_json());
      fmt::print("wrote {}\n", dir.file("bench_env.json").string());
    }
  });
}

const mecllm::cli::BenchRegistrar bench_env_reg{"env", "MEC simulator throughput (user-decisions/s)", &setup_bench_env};

void setup_bench(CLI::App& app) {
  auto& registry = mecllm::cli::bench_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& spec : registry) spec.setup(*app.add_subcommand(spec.name, spec.description));
  app.require_subcommand(1);
}

}  // namespace

static const mecllm::cli::Registrar reg{"bench", "performance benchmarks (bench env, ...)", &setup_bench};
