#include "rl/evaluate_policy.h"

#include <cmath>

#include "common/errors.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "mec/evaluate.h"
#include "mec/latency_bound.h"
#include "mec/policy.h"
#include "mec/report.h"
#include "mec/scenario.h"
#include "rl/learned_policy.h"

namespace mecllm::rl {

EvaluateResult run_evaluate(const EvaluateOptions& opt, const std::filesystem::path& out_dir) {
  if (opt.policies.empty()) throw InputError("evaluate: --policy needs at least one run directory or policy.json");
  if (opt.users.empty()) throw InputError("evaluate: --users needs at least one user count");
  if (opt.seeds < 1) throw InputError(fmt::format("evaluate: --seeds must be at least 1, got {}", opt.seeds));
  auto scenario = mec::load_scenario(config::split_list(opt.scenario));
  // Load every policy first: a bad file fails before any simulation.
  std::vector<std::unique_ptr<LearnedPolicy>> learned;
  std::vector<std::string> learned_names;
  for (const auto& p : opt.policies) {
    learned.push_back(LearnedPolicy::load(p));
    std::string name = learned.back()->name();
    // Two runs of the same algorithm get their directory name appended to stay distinct.
    for (const auto& n : learned_names)
      if (n == name) name += "@" + std::filesystem::path(p).filename().string();
    learned_names.push_back(name);
    learned.back() = std::make_unique<LearnedPolicy>(load_policy(p), p.string(), name);
  }
  std::vector<std::string> baselines = opt.baselines ? mec::baseline_names() : std::vector<std::string>{};

  RunDir dir(out_dir);
  std::string policies_list;
  for (const auto& p : opt.policies) policies_list += (policies_list.empty() ? "" : ",") + p.string();
  dir.write_config(mec::scenario_yaml(scenario) +
                   fmt::format("# evaluate: policies {} users {} slots {} seeds {} first_seed {}\n", policies_list,
                               fmt::join(opt.users, ","), opt.slots, opt.seeds, opt.first_seed));
  mec::EvalOptions eval;
  eval.slots = opt.slots, eval.seeds = opt.seeds, eval.first_seed = opt.first_seed, eval.show_progress = false;

  std::vector<mec::EvalSummary> cells;
  Progress progress("evaluate", static_cast<int64_t>((learned.size() + baselines.size() + 1) * opt.users.size()), "cells");  // + the bound
  int64_t done = 0;
  auto run_cell = [&](mec::Policy& policy, const std::string& name, int n) {
    eval.num_users = n;
    cells.push_back(mec::evaluate_policy(scenario, policy, eval));
    cells.back().policy = name;
    dir.log_metrics(done, {{"policy", name}, {"num_users", n}, {"latency_s", cells.back().latency_s.mean},
                           {"violation", cells.back().violation.mean}});
    if (opt.show_progress) progress.update(++done, name + " N=" + std::to_string(n));
  };
  for (size_t i = 0; i < learned.size(); ++i)
    for (int n : opt.users) run_cell(*learned[i], learned_names[i], n);
  for (const auto& name : baselines)
    for (int n : opt.users) {
      auto policy = mec::make_baseline(name, scenario, opt.first_seed);
      run_cell(*policy, name, n);
    }
  std::vector<mec::LatencyBound> bounds;
  for (int n : opt.users) {
    eval.num_users = n;
    bounds.push_back(mec::no_contention_bound(scenario, eval));
    if (opt.show_progress) progress.update(++done, "no-contention bound N=" + std::to_string(n));
  }
  if (opt.show_progress) progress.finish();

  EvaluateResult res;
  res.out_dir = out_dir;
  res.summary = mec::write_cells_csv(dir, cells);
  mec::Headroom headroom = mec::headroom_vs_best(bounds, cells, baselines);
  dir.write_json("latency_bound.json", headroom.json);

  // Learned vs the best baseline that meets every long-run constraint, per N, next to the largest
  // reduction any policy could have (the no-contention bound).
  std::string gains = "\nlearned policy vs the lowest-latency baseline that meets every constraint:\n";
  gains += fmt::format("{:<24} {:>5} {:>22} {:>12} {:>12} {:>14} {:>14} {:>10}\n", "policy", "N", "best baseline",
                       "its latency", "learned", "latency gain", "largest gain", "learned ok");
  res.vs_best = nlohmann::json::object();
  for (const auto& ln : learned_names)
    for (size_t k = 0; k < opt.users.size(); ++k) {
      const int n = opt.users[k];
      const mec::EvalSummary* mine = nullptr;
      for (const auto& c : cells)
        if (c.num_users == n && c.policy == ln) mine = &c;
      const mec::EvalSummary* best = mec::best_meeting_all(cells, n, baselines);
      const double bound = bounds[k].latency_s.mean;
      nlohmann::json e;
      e["learned_latency_s"] = mine->latency_s.mean;
      e["learned_meets_all"] = mine->meets_all();
      e["learned_violation"] = mine->violation.mean;
      e["bound_latency_s"] = bound;
      if (best) {
        const double gain = 1.0 - mine->latency_s.mean / best->latency_s.mean;
        const double largest = 1.0 - bound / best->latency_s.mean;
        e["best_baseline"] = best->policy;
        e["best_latency_s"] = best->latency_s.mean;
        e["latency_reduction"] = gain;
        e["largest_possible_reduction"] = largest;
        gains += fmt::format("{:<24} {:>5} {:>22} {:>12.3f} {:>12.3f} {:>13.1f}% {:>13.1f}% {:>10}\n", ln, n,
                             best->policy, best->latency_s.mean, mine->latency_s.mean, 100 * gain, 100 * largest,
                             mine->meets_all() ? "yes" : "NO");
      } else {
        e["best_baseline"] = nullptr;
        gains += fmt::format("{:<24} {:>5} {:>22} {:>12} {:>12.3f} {:>14} {:>14} {:>10}\n", ln, n,
                             baselines.empty() ? "(no baselines run)" : "(none meets all)",
                             "-", mine->latency_s.mean, "-", "-", mine->meets_all() ? "yes" : "NO");
      }
      res.vs_best[ln][std::to_string(n)] = e;
    }
  dir.write_json("summary.json", res.summary);
  dir.write_json("vs_best_baseline.json", res.vs_best);

  std::vector<std::string> names = learned_names;
  names.insert(names.end(), baselines.begin(), baselines.end());
  res.plot_written = mec::plot_latency_vs_users(scenario, cells, names, bounds, opt.seeds, opt.slots, dir);
  res.table = mec::format_table(cells, scenario) + headroom.table + gains;
  write_file_atomic(dir.file("table.txt"), res.table);
  return res;
}

}  // namespace mecllm::rl
