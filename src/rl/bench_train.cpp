#include "rl/bench_train.h"

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "mec/scenario.h"
#include "rl/mec_env.h"
#include "rl/ppo.h"
#include "rl/train.h"

namespace mecllm::rl {

namespace {
// The phases in report order, one list for the JSON and the printed table.
struct PhaseRow {
  const char* key;
  const char* label;
  double PhaseTimes::*seconds;
};
constexpr PhaseRow kPhaseRows[] = {
    {"act", "acting (forward + sampling)", &PhaseTimes::act},
    {"env", "env step + bookkeeping", &PhaseTimes::env},
    {"model_train", "world-model training", &PhaseTimes::model_train},
    {"gae", "GAE", &PhaseTimes::gae},
    {"model_use", "model use (posterior, MVE, imagine)", &PhaseTimes::model_use},
    {"update", "update (epochs x minibatches)", &PhaseTimes::update},
    {"update_forward", "  loss forward", &PhaseTimes::update_forward},
    {"update_backward", "  backward", &PhaseTimes::update_backward},
    {"update_optim", "  clip + Adam", &PhaseTimes::update_optim},
    {"log_checkpoint", "log + checkpoint", &PhaseTimes::log}};

double us_per_step(double s, int64_t steps) { return steps > 0 ? 1e6 * s / static_cast<double>(steps) : 0.0; }

nlohmann::json phases_json(const PhaseTimes& p, int64_t steps) {
  nlohmann::json j;
  for (const PhaseRow& r : kPhaseRows) j[r.key] = {{"s", p.*r.seconds}, {"us_per_env_step", us_per_step(p.*r.seconds, steps)}};
  j["total_s"] = p.total();
  return j;
}
}  // namespace

nlohmann::json BenchTrainResult::to_json() const {
  return {{"worker_threads", threads},
          {"torch_threads", torch_threads},
          {"ppo_env_steps", ppo_steps},
          {"wm_ppo_env_steps", wm_steps},
          {"ppo_phases", phases_json(ppo_phases, ppo_steps)},
          {"wm_ppo_phases", phases_json(wm_phases, wm_steps)},
          {"env_decisions_per_s", env_decisions_per_s},
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
    if (opt.threads > 0) req.sets.push_back("rl.ppo.worker_threads=" + std::to_string(opt.threads));
    req.steps = opt.steps;
    RlConfig cfg = resolve_train_config(req);
    MecTrainEnv env(scenario, cfg.ppo.num_envs, opt.users, 1);
    TrainOptions to;
    to.out_dir = tmp / algo;
    remove_tree(to.out_dir);
    to.show_progress = false;
    auto r = train_ppo(cfg, env, to);
    res.threads = cfg.ppo.worker_threads;
    res.torch_threads = cfg.ppo.torch_threads;
    return std::make_pair(r, cfg.ppo.num_envs);
  };
  auto [ppo, num_envs] = run("ppo");
  auto [wm, num_envs_wm] = run("wm-ppo");
  (void)num_envs_wm;
  res.ppo_decisions_per_s = ppo.decisions_per_s;
  res.wm_decisions_per_s = wm.decisions_per_s;
  res.ppo_s_per_step = 1.0 / ppo.steps_per_s;
  res.wm_s_per_step = 1.0 / wm.steps_per_s;
  res.ppo_steps = ppo.global_step;
  res.wm_steps = wm.global_step;
  res.ppo_phases = ppo.phases;
  res.wm_phases = wm.phases;
  // Reference: the simulator alone with the same number of environments and a fixed action.
  {
    mec::VecEnv env(scenario, num_envs, opt.users, 2);
    env.reset();
    std::vector<float> actions(static_cast<size_t>(num_envs) * opt.users * env.act_dim(), 0.5f);
    const auto t0 = SteadyClock::now();
    int64_t steps = 0;
    double el = 0;
    while (el < 1.0) {
      for (int i = 0; i < 256; ++i) env.step(actions);
      steps += 256;
      el = mecllm::seconds_since(t0);
    }
    res.env_decisions_per_s = steps * double(num_envs) * opt.users / el;
  }
  remove_tree(tmp);
  res.table = fmt::format(
      "bench train: scenario {}, N={}, {} env slots per trainer, worker_threads {}, torch/BLAS threads {}\n"
      "{:<34} {:>16} {:>14}\n"
      "{:<34} {:>16.0f} {:>14}\n"
      "{:<34} {:>16.0f} {:>14.3f}  (target >= 50,000/s: {:.2f}x of target)\n"
      "{:<34} {:>16.0f} {:>14.3f}\n"
      "WM-PPO wall-clock per env step = {:.2f}x PPO's (target <= 3x)\n",
      opt.scenario, opt.users, opt.steps, res.threads, res.torch_threads, "", "decisions/s", "x env alone", "env alone (fixed action)",
      res.env_decisions_per_s, "1.000", "PPO end to end", res.ppo_decisions_per_s,
      res.ppo_decisions_per_s / res.env_decisions_per_s, res.ppo_decisions_per_s / res.target_ppo_decisions_per_s,
      "WM-PPO end to end", res.wm_decisions_per_s, res.wm_decisions_per_s / res.env_decisions_per_s,
      res.wm_s_per_step / res.ppo_s_per_step);
  res.table += fmt::format("per-phase wall-clock, microseconds per environment slot:\n{:<34} {:>10} {:>10}\n", "", "PPO", "WM-PPO");
  auto row = [&](const char* label, double ppo_s, double wm_s) {
    res.table += fmt::format("{:<34} {:>10.1f} {:>10.1f}\n", label, us_per_step(ppo_s, res.ppo_steps), us_per_step(wm_s, res.wm_steps));
  };
  for (const PhaseRow& r : kPhaseRows) row(r.label, res.ppo_phases.*r.seconds, res.wm_phases.*r.seconds);
  row("total", res.ppo_phases.total(), res.wm_phases.total());
  return res;
}

}  // namespace mecllm::rl
