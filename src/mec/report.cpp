#include "mec/report.h"

#include <fmt/format.h>

#include <map>

#include "common/errors.h"
#include "common/plot.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "mec/vec_env.h"

namespace mecllm::mec {

std::vector<int> parse_user_list(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  for (const auto& item : config::split_list(text, ',')) {
    size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 1 || v > kMaxEnvUsers)
      throw InputError(fmt::format("{}: expected a comma-separated list of user counts in 1..{}, got '{}'", flag,
                                   kMaxEnvUsers, item));
    out.push_back(v);
  }
  if (out.empty()) throw InputError(fmt::format("{}: expected at least one user count, got '{}'", flag, text));
  return out;
}

std::string format_table(const std::vector<EvalSummary>& rows, const Scenario& scenario) {
  const auto& c = scenario.constraints;
  std::string t = fmt::format("{:<19} {:>4} {:>17} {:>10} {:>8} {:>8} {:>7} | {:>6} {:>6} {:>6} {:>6}\n", "policy", "N",
                              "latency s (95%CI)", "energy J", "acc", "halluc", "E/Ebar", "v_E", "v_A", "v_H", "v_any");
  for (const auto& r : rows) {
    if (r.tasks() == 0) {  // zeros here would read as a perfect policy
      t += fmt::format("{:<19} {:>4} no tasks arrived in {} seeds x {} slots: nothing measured (raise --slots)\n",
                       r.policy, r.num_users, r.runs.size(), r.slots);
      continue;
    }
    t += fmt::format("{:<19} {:>4} {:>9.3f} ±{:<6.3f} {:>10.3f} {:>7.3f}{} {:>7.3f}{} {:>6.2f}{} | {:>6.3f} {:>6.3f} {:>6.3f} {:>6.3f}\n",
                     r.policy, r.num_users, r.latency_s.mean, r.latency_s.ci95, r.energy_j.mean, r.accuracy.mean,
                     r.meets_accuracy ? ' ' : '!', r.hallucination.mean, r.meets_hallucination ? ' ' : '!',
                     r.energy_ratio.mean, r.meets_energy ? ' ' : '!', r.violation_energy.mean,
                     r.violation_accuracy.mean, r.violation_hallucination.mean, r.violation.mean);
  }
  t += fmt::format(
      "latency/energy/acc/halluc: means over tasks; E/Ebar: long-run energy over budget; '!' marks a long-run\n"
      "constraint missed (A_min {}, H_max {}, E/Ebar <= 1); v_*: share of busy slots violating energy, accuracy,\n"
      "hallucination, any.\n",
      c.accuracy_min, c.hallucination_max);
  return t;
}

nlohmann::json write_cells_csv(const RunDir& dir, const std::vector<EvalSummary>& cells) {
  std::string csv =
      "policy,num_users,latency_s,latency_ci95,energy_j,accuracy,hallucination,violation,violation_energy,"
      "violation_accuracy,violation_hallucination,energy_ratio,slot_accuracy,slot_hallucination,offload_share,mean_reward\n";
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& c : cells) {
    csv += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n",
                       c.policy, c.num_users, c.latency_s.mean, c.latency_s.ci95, c.energy_j.mean, c.accuracy.mean,
                       c.hallucination.mean, c.violation.mean, c.violation_energy.mean, c.violation_accuracy.mean,
                       c.violation_hallucination.mean, c.energy_ratio.mean, c.slot_accuracy.mean,
                       c.slot_hallucination.mean, c.offload_share.mean, c.mean_reward.mean);
    nlohmann::json cell = c.to_json();
    cell.erase("per_seed");
    summary[c.policy][std::to_string(c.num_users)] = cell;
  }
  write_file_atomic(dir.file("results.csv"), csv);
  return summary;
}

bool plot_latency_vs_users(const Scenario& scenario, const std::vector<EvalSummary>& cells,
                           const std::vector<std::string>& policies, const std::vector<LatencyBound>& bounds,
                           int seeds, int slots, const RunDir& dir) {
  PlotSpec spec;
  spec.title = fmt::format("{}: mean task latency vs users ({} seeds x {} slots, 95% CI)", scenario.name, seeds, slots);
  spec.xlabel = "users N";
  spec.ylabel = "mean latency per task (s)";
  spec.logy = true;
  for (const auto& name : policies) {
    PlotSeries s;
    s.name = name;
    for (const auto& c : cells)
      if (c.policy == name)
        s.x.push_back(c.num_users), s.y.push_back(std::max(c.latency_s.mean, 1e-3)), s.y_err.push_back(c.latency_s.ci95);
    spec.series.push_back(std::move(s));
  }
  if (!bounds.empty()) {
    PlotSeries s;
    s.name = "no-contention bound";
    for (const auto& b : bounds)
      s.x.push_back(b.num_users), s.y.push_back(std::max(b.latency_s.mean, 1e-3)), s.y_err.push_back(b.latency_s.ci95);
    spec.series.push_back(std::move(s));
  }
  return plot_lines(spec, dir.file("latency_vs_users"));
}

SimRunResult run_sim(const Scenario& scenario, const SimRunOptions& options, const std::filesystem::path& out_dir) {
  auto policy = make_baseline(options.policy, scenario, options.eval.first_seed);
  check_eval_options(options.eval);  // before anything is written
  RunDir dir(out_dir);
  dir.write_config(scenario_yaml(scenario) +
                   fmt::format("# sim run: policy {} users {} slots {} seeds {} first_seed {}\n", options.policy,
                               options.eval.num_users, options.eval.slots, options.eval.seeds, options.eval.first_seed));
  SimRunResult res;
  res.out_dir = out_dir;
  int64_t k = 0;
  res.summary = evaluate_policy(scenario, *policy, options.eval, [&](const EvalRun& run) {
    nlohmann::json m, r = run_to_json(run);
    for (auto& [key, v] : r.items()) m["eval/" + key] = v;
    dir.log_metrics(k++, m);
  });
  nlohmann::json j = res.summary.to_json();
  j["scenario"] = scenario.name;
  dir.write_json("summary.json", j);
  res.table = format_table({res.summary}, scenario);
  write_file_atomic(dir.file("table.txt"), res.table);
  return res;
}

CompareResult compare_baselines(const Scenario& scenario, const CompareOptions& opt, const std::filesystem::path& out_dir) {
  std::vector<std::string> policies = opt.policies.empty() ? baseline_names() : opt.policies;
  for (const auto& p : policies) make_baseline(p, scenario);  // unknown names fail before any work
  if (opt.users.empty()) throw InputError("sim compare: --users needs at least one user count");
  EvalOptions eval;
  eval.slots = opt.quick ? std::min(opt.slots, 400) : opt.slots;
  eval.seeds = opt.quick ? std::min(opt.seeds, 2) : opt.seeds;
  eval.first_seed = opt.first_seed;
  eval.show_progress = false;
  for (int n : opt.users) eval.num_users = n, check_eval_options(eval);

  RunDir dir(out_dir);
  dir.write_config(scenario_yaml(scenario) +
                   fmt::format("# sim compare: users {} slots {} seeds {} first_seed {} quick {}\n",
                               fmt::join(opt.users, ","), eval.slots, eval.seeds, eval.first_seed, opt.quick));
  CompareResult res;
  res.out_dir = out_dir;
  Progress progress("sim compare", int64_t((policies.size() + 1) * opt.users.size()), "cells");  // + the bound
  int64_t done = 0;
  for (const auto& name : policies) {
    for (int n : opt.users) {
      auto policy = make_baseline(name, scenario, opt.first_seed);
      eval.num_users = n;
      res.cells.push_back(evaluate_policy(scenario, *policy, eval));
      nlohmann::json m = {{"policy", name}, {"num_users", n}, {"latency_s", res.cells.back().latency_s.mean},
                          {"violation", res.cells.back().violation.mean}};
      dir.log_metrics(done, m);
      progress.update(++done, name + " N=" + std::to_string(n));
    }
  }
  for (int n : opt.users) {
    eval.num_users = n;
    res.bounds.push_back(no_contention_bound(scenario, eval));
    progress.update(++done, "no-contention bound N=" + std::to_string(n));
  }
  progress.finish();

  res.csv = dir.file("results.csv");
  res.summary_json = dir.file("summary.json");
  dir.write_json("summary.json", write_cells_csv(dir, res.cells));
  Headroom headroom = headroom_vs_best(res.bounds, res.cells, policies);
  dir.write_json("latency_bound.json", headroom.json);
  res.plot_png = dir.file("latency_vs_users.png");
  res.plot_written = plot_latency_vs_users(scenario, res.cells, policies, res.bounds, eval.seeds, eval.slots, dir);
  res.table = format_table(res.cells, scenario) + headroom.table;
  write_file_atomic(dir.file("table.txt"), res.table);
  return res;
}

}  // namespace mecllm::mec
