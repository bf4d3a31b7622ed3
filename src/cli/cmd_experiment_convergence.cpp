// mecllm experiment convergence --scenario F --seeds 5 --out DIR [--steps S] [--users N]
//                               [--config P] [--set k=v]
// PPO, PPO-Lagrangian, WM-PPO and its two ablations; curves with 95% bands, steps to 95% of PPO's
// final return, final returns and WM-PPO/PPO ratios (convergence.json, table.txt, convergence.png).
#include <fmt/format.h>

#include "cli/experiment_registry.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/rundir.h"
#if defined(MECLLM_WITH_TORCH) && defined(MECLLM_RL_HAVE_MEC)
#include "rl/convergence.h"
#endif

namespace {

void setup_convergence(CLI::App& sub) {
#if defined(MECLLM_WITH_TORCH) && defined(MECLLM_RL_HAVE_MEC)
  auto o = std::make_shared<mecllm::rl::ConvergenceOptions>();
  auto out = std::make_shared<std::string>();
  auto configs = std::make_shared<std::string>();
  sub.add_option("--scenario", o->scenario, "scenario name(s) or YAML path(s)")->capture_default_str();
  sub.add_option("--seeds", o->seeds, "seeds per configuration")->capture_default_str();
  sub.add_option("--seed", o->first_seed, "first seed")->capture_default_str();
  sub.add_option("--users", o->users, "number of users N")->capture_default_str();
  sub.add_option("--steps", o->steps, "environment slots per run (< 0: rl.ppo.total_steps)")->capture_default_str();
  sub.add_option("--config", *configs, "rl presets from configs/rl, comma-separated");
  sub.add_option("--set", o->sets, "rl override key=value (repeatable)");
  sub.add_option("--out", *out, "run directory (default runs/convergence__<scenario>__<time>)");
  sub.callback([o, out, configs] {
    o->configs = mecllm::config::split_list(*configs);
    auto dir = out->empty() ? mecllm::default_run_dir("convergence__" + o->scenario) : std::filesystem::path(*out);
    auto res = mecllm::rl::run_convergence(*o, dir);
    fmt::print("{}", res.table);
    fmt::print("json: {}/convergence.json\nplot: {}/convergence.png\n", res.out_dir.string(), res.out_dir.string());
  });
#else
  sub.callback([] { throw mecllm::InputError("this mecllm was built without LibTorch or without the simulator"); });
#endif
}

const mecllm::cli::ExperimentRegistrar reg{"convergence", "PPO vs PPO-Lag vs WM-PPO (+ ablations) learning curves",
                                           &setup_convergence};

}  // namespace
