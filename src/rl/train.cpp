#include "rl/train.h"

#include <cmath>
#include <fstream>

#include "common/errors.h"
#include "common/plot.h"
#include "common/rundir.h"
#if MECLLM_RL_HAVE_MEC
#include "mec/scenario.h"
#include "rl/mec_env.h"
#endif

namespace mecllm::rl {

void write_curve_artifacts(const std::filesystem::path& dir, const std::vector<CurvePoint>& curve,
                           const std::string& label) {
  std::string csv = "step,wall_s,episodic_return,mean_reward";
  const size_t C = curve.empty() ? 0 : curve.front().costs.size();
  for (size_t c = 0; c < C; ++c) csv += fmt::format(",cost{}", c);
  for (size_t c = 0; c < C; ++c) csv += fmt::format(",lambda{}", c);
  csv += "\n";
  PlotSeries s{label, {}, {}, {}};
  for (const auto& p : curve) {
    csv += fmt::format("{},{:.3f},{},{:.6g}", p.step, p.wall_s,
                       std::isfinite(p.episodic_return) ? fmt::format("{:.6g}", p.episodic_return) : "", p.mean_reward);
    for (double c : p.costs) csv += fmt::format(",{:.6g}", c);
    for (double l : p.lambdas) csv += fmt::format(",{:.6g}", l);
    csv += "\n";
    if (std::isfinite(p.episodic_return)) s.x.push_back(static_cast<double>(p.step)), s.y.push_back(p.episodic_return);
  }
  write_file_atomic(dir / "metrics.csv", csv);
  if (s.x.size() >= 2) {
    PlotSpec spec{"learning curve (" + label + ")", "environment steps", "episodic return", false, false, false, {s}};
    plot_lines(spec, dir / "learning_curve");
  }
}

RlConfig resolve_train_config(const TrainRequest& req) {
  parse_algo(req.algo, "--algo");
  TrainConfig tc;
  std::vector<std::string> sets = req.sets;
  sets.insert(sets.begin(), "rl.algo=" + req.algo);
  if (req.no_value_targets) sets.push_back("rl.wm.value_targets=false");
  if (req.no_imagination) sets.push_back("rl.wm.imagination=false");
  // -1: not given (rl.ppo.total_steps); anything else below 1 is a mistake, not a default
  if (req.steps == 0 || req.steps < -1) throw InputError(fmt::format("--steps {}: expected at least 1", req.steps));
  if (req.steps >= 0) sets.push_back("rl.ppo.total_steps=" + std::to_string(req.steps));
  std::vector<std::string> files = {"defaults"};
  for (const auto& c : req.configs)
    if (c != "defaults") files.push_back(c);
  config::load_layers(tc, files, sets, "rl");
  return tc.rl;
}

TrainResult run_train(const TrainRequest& req) {
  if (req.users < 1) throw InputError(fmt::format("--users: expected at least 1, got {}", req.users));
  RlConfig cfg = resolve_train_config(req);
#if MECLLM_RL_HAVE_MEC
  auto scenario = mec::load_scenario(config::split_list(req.scenario));
  MecTrainEnv env(scenario, cfg.ppo.num_envs, req.users, req.seed);
  TrainOptions opt;
  opt.out_dir = req.out;
  opt.seed = req.seed;
  opt.resume = req.resume;
  opt.show_progress = req.show_progress;
  opt.scenario_name = req.scenario;
  TrainConfig echo{cfg};
  opt.config_yaml = config::to_yaml(echo) + fmt::format("# scenario: {}\n# users: {}\n# seed: {}\n", req.scenario, req.users, req.seed);
  return train_ppo(cfg, env, opt);
#else
  throw InputError("mecllm train: this build has no simulator (src/mec) to train on");
#endif
}

}  // namespace mecllm::rl
