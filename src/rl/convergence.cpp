#include "rl/convergence.h"

#include <cmath>
#include <numeric>

#include "common/errors.h"
#include "common/log.h"
#include "common/plot.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "common/stats.h"
#include "mec/scenario.h"
#include "rl/mec_env.h"
#include "rl/ppo.h"
#include "rl/train.h"

namespace mecllm::rl {

const std::vector<ConvergenceArm>& convergence_arms() {
  static const std::vector<ConvergenceArm> arms = {
      {"ppo", "ppo", {}},
      {"ppo-lag", "ppo-lag", {}},
      {"wm-ppo-no-value-targets", "wm-ppo", {"rl.wm.value_targets=false"}},
      {"wm-ppo-no-imagination", "wm-ppo", {"rl.wm.imagination=false"}},
      {"wm-ppo", "wm-ppo", {}},
  };
  return arms;
}

int64_t steps_to_threshold(const std::vector<int64_t>& steps, const std::vector<double>& returns, double threshold,
                           int window) {
  std::vector<double> recent;
  for (size_t i = 0; i < returns.size(); ++i) {
    if (!std::isfinite(returns[i])) continue;
    recent.push_back(returns[i]);
    if (static_cast<int>(recent.size()) > window) recent.erase(recent.begin());
    const double smooth = std::accumulate(recent.begin(), recent.end(), 0.0) / recent.size();
    if (static_cast<int>(recent.size()) == window && smooth >= threshold) return steps[i];
  }
  return -1;
}

double final_return(const std::vector<double>& returns) {
  std::vector<double> finite;
  for (double r : returns)
    if (std::isfinite(r)) finite.push_back(r);
  if (finite.empty()) return std::nan("");
  const size_t k = std::max<size_t>(1, finite.size() / 10);
  return std::accumulate(finite.end() - k, finite.end(), 0.0) / static_cast<double>(k);
}

namespace {
struct ArmRuns {
  std::vector<std::vector<CurvePoint>> curves;  // per seed
  std::vector<double> finals, wall;
};

std::vector<double> returns_of(const std::vector<CurvePoint>& c) {
  std::vector<double> r;
  for (const auto& p : c) r.push_back(p.episodic_return);
  return r;
}
std::vector<int64_t> steps_of(const std::vector<CurvePoint>& c) {
  std::vector<int64_t> s;
  for (const auto& p : c) s.push_back(p.step);
  return s;
}
}  // namespace

ConvergenceResult run_convergence(const ConvergenceOptions& opt, const std::filesystem::path& out_dir) {
  if (opt.seeds < 1) throw InputError(fmt::format("--seeds: expected at least 1, got {}", opt.seeds));
  if (opt.users < 1) throw InputError(fmt::format("--users: expected at least 1, got {}", opt.users));
  auto scenario = mec::load_scenario(config::split_list(opt.scenario));
  RunDir dir(out_dir);
  const auto& arms = convergence_arms();
  // Resolve every arm's config first, so a bad flag fails before hours of training.
  std::vector<RlConfig> cfgs;
  std::string echo;
  for (const auto& arm : arms) {
    TrainRequest req;
    req.algo = arm.algo;
    req.configs = opt.configs;
    req.sets = opt.sets;
    req.sets.insert(req.sets.end(), arm.sets.begin(), arm.sets.end());
    req.steps = opt.steps;
    cfgs.push_back(resolve_train_config(req));
    TrainConfig tc{cfgs.back()};
    echo += "# ---- arm " + arm.label + "\n" + config::to_yaml(tc);
  }
  dir.write_config(fmt::format("# experiment convergence: scenario {}, users {}, seeds {} from {}\n", opt.scenario, opt.users,
                               opt.seeds, opt.first_seed) +
                   echo);

  std::vector<ArmRuns> runs(arms.size());
  Progress progress("convergence", static_cast<int64_t>(arms.size()) * opt.seeds, "runs");
  int64_t done = 0;
  for (int s = 0; s < opt.seeds; ++s) {
    for (size_t a = 0; a < arms.size(); ++a) {
      const uint64_t seed = opt.first_seed + s;
      MecTrainEnv env(scenario, cfgs[a].ppo.num_envs, opt.users, seed);
      TrainOptions to;
      to.out_dir = dir.file("runs") / fmt::format("{}__seed{}", arms[a].label, seed);
      remove_tree(to.out_dir);  // an experiment re-run starts its runs afresh
      to.seed = seed;
      to.show_progress = false;
      to.scenario_name = opt.scenario;
      auto res = train_ppo(cfgs[a], env, to);
      runs[a].curves.push_back(res.curve);
      runs[a].finals.push_back(final_return(returns_of(res.curve)));
      runs[a].wall.push_back(res.wall_s);
      ++done;
      if (opt.show_progress)
        progress.update(done, fmt::format("{} seed {}: final {:.3f} in {:.0f}s", arms[a].label, seed, runs[a].finals.back(),
                                          res.wall_s));
    }
  }
  if (opt.show_progress) progress.finish();

  // ---------------------------------------------------------------- analysis
  // PPO's initial return (first finite point, mean over seeds) and final return set the threshold.
  std::vector<double> r0s;
  for (const auto& c : runs[0].curves)
    for (const auto& p : c)
      if (std::isfinite(p.episodic_return)) {
        r0s.push_back(p.episodic_return);
        break;
      }
  const double r0 = stats::mean(r0s);
  const double ppo_final = stats::mean(runs[0].finals);
  const double threshold = r0 + 0.95 * (ppo_final - r0);

  nlohmann::json j;
  j["scenario"] = opt.scenario;
  j["users"] = opt.users;
  j["seeds"] = opt.seeds;
  j["steps_per_run"] = runs[0].curves.empty() ? 0 : runs[0].curves[0].back().step;
  j["ppo_initial_return"] = r0;
  j["ppo_final_return"] = ppo_final;
  j["threshold_95"] = threshold;
  j["definition"] =
      "steps_to_95: first env step where the trailing 5-point mean episodic return reaches r0 + 0.95 (ppo_final - r0); "
      "final_return: mean of the last 10% of curve points; returns are -sum(latency)/T_ref per 200-slot episode";
  std::string table = fmt::format("{:<26} {:>22} {:>14} {:>22} {:>10} {:>10} {:>10}\n", "configuration",
                                  "final return (95% CI)", "vs PPO", "steps to 95% of PPO", "reached", "wall s", "x PPO wall");
  PlotSpec plot{"convergence on " + opt.scenario + fmt::format(" (N={}, {} seeds, mean and 95% band)", opt.users, opt.seeds),
                "environment steps", "episodic return", false, false, false, {}};
  double ppo_steps_mean = std::nan(""), ppo_wall = stats::mean(runs[0].wall);
  for (size_t a = 0; a < arms.size(); ++a) {
    auto& ar = runs[a];
    std::vector<double> reached;
    for (const auto& c : ar.curves) {
      int64_t st = steps_to_threshold(steps_of(c), returns_of(c), threshold);
      if (st >= 0) reached.push_back(static_cast<double>(st));
    }
    const double fm = stats::mean(ar.finals), fci = stats::ci95_halfwidth(ar.finals);
    const double sm = reached.empty() ? std::nan("") : stats::mean(reached);
    if (a == 0) ppo_steps_mean = sm;
    const double rel = (fm - ppo_final) / std::abs(ppo_final);
    const double wall = stats::mean(ar.wall);
    nlohmann::json aj;
    aj["algo"] = arms[a].algo;
    aj["sets"] = arms[a].sets;
    aj["final_return_mean"] = fm;
    aj["final_return_ci95"] = fci;
    aj["final_returns"] = ar.finals;
    aj["final_vs_ppo"] = rel;
    aj["steps_to_95_mean"] = std::isfinite(sm) ? nlohmann::json(sm) : nlohmann::json();
    aj["steps_to_95_reached"] = reached.size();
    aj["steps_ratio_vs_ppo"] = std::isfinite(sm) && std::isfinite(ppo_steps_mean) ? nlohmann::json(sm / ppo_steps_mean) : nlohmann::json();
    aj["wall_s_mean"] = wall;
    aj["wall_ratio_vs_ppo"] = wall / ppo_wall;
    // Mean and 95% band per curve point (aligned by iteration: all seeds share the step grid).
    PlotSeries series{arms[a].label, {}, {}, {}};
    std::vector<double> cost_means[3];
    const size_t npts = ar.curves.empty() ? 0 : ar.curves[0].size();
    for (size_t i = 0; i < npts; ++i) {
      std::vector<double> vals;
      for (const auto& c : ar.curves)
        if (i < c.size() && std::isfinite(c[i].episodic_return)) vals.push_back(c[i].episodic_return);
      if (vals.size() == ar.curves.size()) {
        series.x.push_back(static_cast<double>(ar.curves[0][i].step));
        series.y.push_back(stats::mean(vals));
        series.y_err.push_back(stats::ci95_halfwidth(vals));
      }
    }
    aj["curve"] = {{"step", series.x}, {"mean", series.y}, {"ci95", series.y_err}};
    // Final mean raw cost per constraint (last 10% of points), to show the constraint side.
    std::vector<double> final_costs;
    for (int c = 0; c < 3; ++c) {
      std::vector<double> per_seed;
      for (const auto& cv : ar.curves) {
        const size_t k = std::max<size_t>(1, cv.size() / 10);
        double s = 0;
        for (size_t i = cv.size() - k; i < cv.size(); ++i) s += cv[i].costs[c];
        per_seed.push_back(s / k);
      }
      final_costs.push_back(stats::mean(per_seed));
    }
    aj["final_costs"] = final_costs;
    j["arms"][arms[a].label] = aj;
    plot.series.push_back(std::move(series));
    table += fmt::format("{:<26} {:>12.3f} ± {:<7.3f} {:>+13.1f}% {:>22} {:>7}/{:<2} {:>10.1f} {:>10.2f}\n", arms[a].label, fm,
                         fci, 100 * rel, std::isfinite(sm) ? fmt::format("{:.0f}", sm) : "not reached", reached.size(),
                         ar.curves.size(), wall, wall / ppo_wall);
  }
  const auto& wm = j["arms"]["wm-ppo"];
  j["ratios_wm_ppo_over_ppo"] = {{"steps_to_95", wm["steps_ratio_vs_ppo"]}, {"final_return_gain", wm["final_vs_ppo"]},
                                 {"wall_clock", wm["wall_ratio_vs_ppo"]}};
  table += fmt::format("threshold (95% of PPO's final return from its initial {:.3f}): {:.3f}\n", r0, threshold);
  dir.write_json("convergence.json", j);
  write_file_atomic(dir.file("table.txt"), table);
  plot_lines(plot, dir.file("convergence"));
  return {j, table, dir.path()};
}

}  // namespace mecllm::rl
