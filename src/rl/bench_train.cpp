#include "rl/bench_train.h"

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "common/errors.h"
#include "common/log.h"
#include "mec/scenario.h"
#include "rl/mec_env.h"
#include "rl/ppo.h"
#include "rl/train.h"

namespace mecllm::rl {

nlohmann::json BenchTrainResult::to_json() const {
  return {{"env_decisions_per_s", env_decisions_per_s},
          {"ppo_decisions_per_s", ppo_decisions_per_s},
          {"wm_ppo_decisions_per_s", wm_decisions_per_s},
          {"ppo_s_per_env_step", ppo_s_per_step},
          {"wm_ppo_s_per_env_step", wm_s_per_step},
          {"ppo_over_env", ppo_decisions_per_s / env_decisions_per_s},
          {"ppo_over_target", ppo_decisions_per_s / target_ppo_decisions_per_s},
          {"wm_over_ppo_wall", wm_s_per_step / ppo_s_per_step},
          {"target_ppo_decisions_per_s", target_ppo_decisions_per_s},
          {"target_wm_over_ppo", target_wm_over_ppo}};
}

BenchTrainResult bench_train(const BenchTrainOptions& opt) {
  auto scenario = mec::load_scenario(config::split_list(opt.scenario));
  BenchTrainResult res;
  auto tmp = std::filesystem::temp_directory_path() / fmt::format("mecllm_bench_train_{}", static_cast<long>(::getpid()));
  auto run = [&](const std::string& algo) {
    TrainRequest req;
    req.algo = algo;
    req.configs = opt.configs;
    req.sets = opt.sets;
    req.steps = opt.steps;
    RlConfig cfg = resolve_train_config(req);
    MecTrainEnv env(scenario, cfg.ppo.num_envs, opt.users, 1);
    TrainOptions to;
    to.out_dir = tmp / algo;
    std::filesystem::remove_all(to.out_dir);
    to.show_progress = false;
    auto r = train_ppo(cfg, env, to);
    return std::make_pair(r, cfg.ppo.num_envs);
  };
  auto [ppo, num_envs] = run("ppo");
  auto [wm, num_envs_wm] = run("wm-ppo");
  (void)num_envs_wm;
  res.ppo_decisions_per_s = ppo.decisions_per_s;
  res.wm_decisions_per_s = wm.decisions_per_s;
  res.ppo_s_per_step = 1.0 / ppo.steps_per_s;
  res.wm_s_per_step = 1.0 / wm.steps_per_s;
  // Reference: the simulator alone with the same number of environments and a fixed action.
  {
    mec::VecEnv env(scenario, num_envs, opt.users, 2);
    env.reset();
    std::vector<float> actions(static_cast<size_t>(num_envs) * opt.users * env.act_dim(), 0.5f);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t steps = 0;
    double el = 0;
    while (el < 1.0) {
      for (int i = 0; i < 256; ++i) env.step(actions);
      steps += 256;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    res.env_decisions_per_s = steps * double(num_envs) * opt.users / el;
  }
  std::filesystem::remove_all(tmp);
  res.table = fmt::format(
      "bench train: scenario {}, N={}, {} env slots per trainer, one thread\n"
      "{:<34} {:>16} {:>14}\n"
      "{:<34} {:>16.0f} {:>14}\n"
      "{:<34} {:>16.0f} {:>14.3f}  (target >= 50,000/s: {:.2f}x of target)\n"
      "{:<34} {:>16.0f} {:>14.3f}\n"
      "WM-PPO wall-clock per env step = {:.2f}x PPO's (target <= 3x)\n",
      opt.scenario, opt.users, opt.steps, "", "decisions/s", "x env alone", "env alone (fixed action)",
      res.env_decisions_per_s, "1.000", "PPO end to end", res.ppo_decisions_per_s,
      res.ppo_decisions_per_s / res.env_decisions_per_s, res.ppo_decisions_per_s / res.target_ppo_decisions_per_s,
      "WM-PPO end to end", res.wm_decisions_per_s, res.wm_decisions_per_s / res.env_decisions_per_s,
      res.wm_s_per_step / res.ppo_s_per_step);
  return res;
}

}  // namespace mecllm::rl
