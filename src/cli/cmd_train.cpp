// mecllm train: learn an offloading policy on the simulator with PPO, PPO-Lagrangian or WM-PPO.
//
//   mecllm train --algo ppo|ppo-lag|wm-ppo [--no-value-targets] [--no-imagination] --scenario F
//                --users N --steps S --seed K --out DIR [--config tiny,paper] [--set k=v] [--resume]
//
// Writes config.yaml, metrics.jsonl, metrics.csv, learning_curve.png, checkpoint.pt, policy.json.
#include <fmt/format.h>

#include "cli/command.h"
#include "common/config.h"
#include "common/rundir.h"
#if defined(MECLLM_WITH_TORCH)
#include "rl/train.h"
#endif

namespace {

void setup_train(CLI::App& sub) {
#if defined(MECLLM_WITH_TORCH)
  auto r = std::make_shared<mecllm::rl::TrainRequest>();
  auto configs = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  r->scenario = "default";
  sub.add_option("--algo", r->algo, "ppo | ppo-lag | wm-ppo")->capture_default_str();
  sub.add_flag("--no-value-targets", r->no_value_targets, "WM-PPO ablation: no model value-expansion targets");
  sub.add_flag("--no-imagination", r->no_imagination, "WM-PPO ablation: no imagined rollouts");
  sub.add_option("--scenario", r->scenario, "scenario name(s) or YAML path(s), comma-separated layers")->capture_default_str();
  sub.add_option("--users", r->users, "number of users N")->capture_default_str();
  sub.add_option("--steps", r->steps, "environment slots to train for (default: rl.ppo.total_steps)")->check(mecllm::cli::at_least(1));
  sub.add_option("--seed", r->seed, "seed")->capture_default_str();
  sub.add_option("--out", *out, "run directory (default runs/<scenario>__<algo>__seed<k>__<time>)");
  sub.add_option("--config", *configs, "rl presets from configs/rl, comma-separated (e.g. tiny, paper)");
  sub.add_option("--set", r->sets, "override key=value, e.g. rl.ppo.clip_coef=0.1 (repeatable)");
  sub.add_flag("--resume", r->resume, "continue the run in --out from its checkpoint");
  sub.callback([r, configs, out] {
    r->configs = mecllm::config::split_list(*configs);
    r->out = out->empty() ? mecllm::default_run_dir(fmt::format("{}__{}__seed{}", r->scenario, r->algo, r->seed))
                          : std::filesystem::path(*out);
    auto res = mecllm::rl::run_train(*r);
    const auto& last = res.curve.back();
    fmt::print("{} on {} with N={}: {} env steps in {:.1f} s ({:.0f} steps/s, {:.0f} user decisions/s)\n", r->algo,
               r->scenario, r->users, res.global_step, res.wall_s, res.steps_per_s, res.decisions_per_s);
    fmt::print("final episodic return {:.4f}, mean reward per slot {:.5f}\n", last.episodic_return, last.mean_reward);
    fmt::print("costs [energy, accuracy, hallucination] (<= 0 meets the constraint): [{:.4g}, {:.4g}, {:.4g}]\n",
               last.costs[0], last.costs[1], last.costs[2]);
    fmt::print("lambdas: [{:.4g}, {:.4g}, {:.4g}]\n", last.lambdas[0], last.lambdas[1], last.lambdas[2]);
    fmt::print("run directory: {}\npolicy: {}\n", r->out.string(), res.policy_path.string());
  });
#else
  sub.callback([] { throw mecllm::InputError("this mecllm was built without LibTorch (MECLLM_WITH_TORCH=OFF)"); });
#endif
}

}  // namespace

static const mecllm::cli::Registrar reg{"train", "train an offloading policy (PPO, PPO-Lagrangian, WM-PPO)", &setup_train};
