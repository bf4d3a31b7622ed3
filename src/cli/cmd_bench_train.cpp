// mecllm bench train [--scenario default] [--users 10] [--steps S] [--config P] [--out DIR]
// PPO user-decisions/s end to end and WM-PPO wall-clock per env step relative to PPO.
#include <fmt/format.h>

#include "cli/bench_registry.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/rundir.h"
#if defined(MECLLM_WITH_TORCH) && defined(MECLLM_RL_HAVE_MEC)
#include "rl/bench_train.h"
#endif

namespace {

void setup_bench_train(CLI::App& sub) {
#if defined(MECLLM_WITH_TORCH) && defined(MECLLM_RL_HAVE_MEC)
  auto o = std::make_shared<mecllm::rl::BenchTrainOptions>();
  auto out = std::make_shared<std::string>();
  auto configs = std::make_shared<std::string>();
  sub.add_option("--scenario", o->scenario, "scenario name or YAML path")->capture_default_str();
  sub.add_option("--users", o->users, "number of users N")->capture_default_str();
  sub.add_option("--steps", o->steps, "environment slots per trainer")->capture_default_str();
  sub.add_option("--threads", o->threads, "rl.ppo.worker_threads (1 or 2) of both trainers (0: the config's)")->capture_default_str();
  sub.add_option("--config", *configs, "rl presets, comma-separated");
  sub.add_option("--set", o->sets, "rl override key=value (repeatable)");
  sub.add_option("--out", *out, "directory for bench_train.json");
  sub.callback([o, out, configs] {
    o->configs = mecllm::config::split_list(*configs);
    auto res = mecllm::rl::bench_train(*o);
    fmt::print("{}", res.table);
    if (!out->empty()) {
      mecllm::RunDir dir(*out);
      dir.write_json("bench_train.json", res.to_json());
      fmt::print("wrote {}\n", dir.file("bench_train.json").string());
    }
  });
#else
  sub.callback([] { throw mecllm::InputError("this mecllm was built without LibTorch or without the simulator"); });
#endif
}

const mecllm::cli::BenchRegistrar reg{"train", "PPO / WM-PPO training throughput", &setup_bench_train};

}  // namespace
