// Smoke tests of `mecllm sim` and `mecllm bench env`: the real binary, tiny budgets.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "common/rundir.h"

namespace {

namespace fs = std::filesystem;

using Result = mecllm::testing::CliResult;

Result run(const std::string& args) { return mecllm::testing::run_mecllm(args); }

fs::path out_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / "mecllm_test_mec_cli" / name;
  fs::remove_all(d);
  return d;
}

TEST(SimCli, compare_quick_writes_csv_summary_and_plot) {
  fs::path out = out_dir("compare");
  Result r = run("sim compare --quick --users 5,10 --seeds 2 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("greedy-constrained"), std::string::npos);
  auto summary = mecllm::read_json_file(out / "summary.json");
  for (const char* p : {"always-local", "always-offload", "random", "greedy-latency", "greedy-constrained", "threshold", "lyapunov"})
    for (const char* key : {"latency_s", "energy_j", "accuracy", "hallucination", "violation"})
      EXPECT_TRUE(summary[p]["10"].contains(key)) << p << " " << key;
  EXPECT_TRUE(fs::exists(out / "results.csv"));
  EXPECT_TRUE(fs::exists(out / "config.yaml"));
  EXPECT_TRUE(fs::exists(out / "latency_vs_users.dat"));
  // The no-contention bound per N, below the best constraint-meeting baseline it is compared with.
  EXPECT_NE(r.output.find("no-contention bound"), std::string::npos) << r.output;
  auto bound = mecllm::read_json_file(out / "latency_bound.json");
  for (const char* n : {"5", "10"}) {
    ASSERT_TRUE(bound.contains(n)) << bound.dump();
    EXPECT_GT(bound[n]["latency_s"].get<double>(), 0.0);
    if (!bound[n]["best_baseline"].is_null()) {
      EXPECT_LE(bound[n]["latency_s"].get<double>(), bound[n]["best_latency_s"].get<double>());
      EXPECT_GE(bound[n]["largest_possible_reduction"].get<double>(), 0.0);
    }
  }
}

TEST(SimCli, run_prints_the_table_and_writes_the_summary) {
  fs::path out = out_dir("run");
  Result r = run("sim run --scenario tiny --policy lyapunov --users 3 --slots 100 --seeds 2 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("latency s (95%CI)"), std::string::npos);
  auto summary = mecllm::read_json_file(out / "summary.json");
  EXPECT_EQ(summary["policy"], "lyapunov");
  EXPECT_EQ(summary["per_seed"].size(), 2u);
}

TEST(SimCli, run_without_any_task_says_so_instead_of_printing_zero_latency) {
  fs::path out = out_dir("no_tasks");
  Result r = run("sim run --scenario default --users 1 --slots 1 --seeds 2 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  auto summary = mecllm::read_json_file(out / "summary.json");
  if (summary["tasks"].get<int64_t>() > 0) GTEST_SKIP() << "a task arrived in the first slot; nothing to check";
  EXPECT_NE(r.output.find("no tasks arrived"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("0.000 ±0.000"), std::string::npos) << r.output;
}

TEST(SimCli, bad_config_exits_nonzero_naming_key_or_file) {
  struct Case {
    std::string args, needle;
  } cases[] = {
      {"sim run --scenario tiny --set channel.bandwidth_hz=-1", "channel.bandwidth_hz"},
      {"sim run --scenario tiny --set channel.bandwith_hz=1", "unknown key 'channel.bandwith_hz'"},
      {"sim run --scenario tiny --set profiles=missing_profiles.json", "missing_profiles.json"},
      {"sim run --scenario tiny --users 0 --slots 5", "users"},
      {"sim run --scenario no_such_scenario", "no_such_scenario"},
      {"sim run --scenario /tmp", "/tmp: is a directory"},
      {"sim run --scenario tiny --policy nope", "valid baselines"},
      {"sim compare --scenario tiny --users 5,x", "--users"},
  };
  for (const auto& c : cases) {
    Result r = run(c.args + " --out " + out_dir("bad").string());
    EXPECT_EQ(r.status, 1) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find("mecllm sim: error:"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(CliValidation, negative_or_empty_counts_are_errors_naming_the_flag) {
  // These once fell back silently to a default ("all windows", the config's steps, ...).
  struct Case {
    std::string args, needle;
  } cases[] = {
      {"sim compare --scenario tiny --users ''", "--users"},
      {"perplexity -m missing.gguf -f missing.txt --chunks -1", "--chunks"},
      {"eval -m missing.gguf --threads -1", "--threads"},
      {"train --algo ppo --steps -1", "--steps"},
      {"factworld eval --model missing.gguf --world missing --max -1", "--max"},
  };
  const std::string help = run("--help").output;
  for (const auto& c : cases) {
    const std::string sub = c.args.substr(0, c.args.find(' '));
    if (help.find(sub) == std::string::npos) continue;  // subcommand not in this build (LibTorch off)
    Result r = run(c.args + " --out " + out_dir("validation").string());
    EXPECT_NE(r.status, 0) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(BenchCli, env_benchmark_writes_json) {
  fs::path out = out_dir("bench");
  Result r = run("bench env --users 4 --seconds 0.05 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = mecllm::read_json_file(out / "bench_env.json");
  EXPECT_EQ(j["cases"].size(), 1u);
  EXPECT_GT(j["cases"][0]["decisions_per_cpu_s"].get<double>(), 0.0);
}

}  // namespace
