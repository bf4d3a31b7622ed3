#include "mec/latency_bound.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/stats.h"

namespace mecllm::mec {

namespace {

// The task's outcome with the cell to itself at offload share x.
UserOutcome alone(const VecEnv::Impl& env, int i, double x, std::vector<double>& edge) {
  std::fill(edge.begin(), edge.end(), 0.0);  // reset_env's empty server
  UserOutcome o = env.prepare(i, x, /*bw_share=*/1.0);
  env.finish(i, o, edge.data(), /*local_backlog_s=*/0.0);
  return o;
}

}  // namespace

double isolated_min_latency(const VecEnv::Impl& env, int i, std::vector<double>& edge) {
  edge.resize(size_t(env.edge_block));
  double best = std::numeric_limits<double>::infinity();
  auto consider = [&](double x) {
    UserOutcome o = alone(env, i, x, edge);
    best = std::min(best, o.latency_s);
    return o;
  };
  if (env.scenario.workload.round_to_prompts) {
    const int J = env.prompts[i];
    for (int c = 0; c <= J; ++c) consider(double(c) / std::max(J, 1));
    return best;
  }
  // The local path shrinks with x and the edge path mostly grows, so their crossing is the fluid
  // optimum; the edge path can also step down a little (a sequence's decode rate is fixed by the
  // batch it joins, edge_queue.h), hence the grid as well: the result is within ~1e-4 of the
  // least latency (tested against 2001 points). A timed-out upload counts as "edge path too long".
  const int grid = std::max(env.scenario.baselines.search_grid, 101);
  for (int c = 0; c < grid; ++c) consider(double(c) / (grid - 1));
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 48; ++it) {
    const double mid = 0.5 * (lo + hi);
    UserOutcome o = consider(mid);
    const double edge_path = o.timed_out ? std::numeric_limits<double>::infinity() : o.edge_done_s + o.t_down_s;
    (o.t_local_s > edge_path ? lo : hi) = mid;
  }
  return best;
}

LatencyBound no_contention_bound(const Scenario& scenario, const EvalOptions& opt) {
  check_eval_options(opt);
  LatencyBound bound;
  bound.num_users = opt.num_users;
  bound.slots = opt.slots;
  std::vector<double> edge;
  for (int k = 0; k < opt.seeds; ++k) {
    VecEnv env(scenario, 1, opt.num_users, opt.first_seed + uint64_t(k));
    const auto& s = env.impl();
    // Any actions serve: the tasks and channels do not depend on them (always-local here).
    std::vector<float> actions(size_t(opt.num_users) * env.act_dim(), 0.f);
    double total = 0;
    int64_t tasks = 0;
    for (int t = 0; t < opt.slots; ++t) {
      for (int n = 0; n < opt.num_users; ++n)
        if (s.active[n]) total += isolated_min_latency(s, n, edge), ++tasks;
      env.step(actions);
    }
    bound.per_seed.push_back(tasks > 0 ? total / double(tasks) : 0.0);
  }
  bound.latency_s = {stats::mean(bound.per_seed), stats::ci95_halfwidth(bound.per_seed)};
  return bound;
}

const EvalSummary* best_meeting_all(const std::vector<EvalSummary>& cells, int n,
                                    const std::vector<std::string>& candidates) {
  const EvalSummary* best = nullptr;
  for (const auto& c : cells) {
    if (c.num_users != n || !c.meets_all()) continue;
    if (std::find(candidates.begin(), candidates.end(), c.policy) == candidates.end()) continue;
    if (!best || c.latency_s.mean < best->latency_s.mean) best = &c;
  }
  return best;
}

Headroom headroom_vs_best(const std::vector<LatencyBound>& bounds, const std::vector<EvalSummary>& cells,
                          const std::vector<std::string>& candidates) {
  Headroom h;
  h.table =
      "\nno-contention bound: each task alone in the cell (idle device, empty edge server, whole uplink, best split);\n"
      "no policy's mean latency can be lower on these seeds, so 1 - bound/best is the largest possible gain:\n";
  h.table += fmt::format("{:>5} {:>17} {:>22} {:>12} {:>22}\n", "N", "bound s (95%CI)", "best baseline", "its latency",
                         "largest possible gain");
  h.json = nlohmann::json::object();
  for (const auto& b : bounds) {
    nlohmann::json e = {{"latency_s", b.latency_s.mean}, {"ci95", b.latency_s.ci95}, {"per_seed", b.per_seed}};
    const EvalSummary* best = best_meeting_all(cells, b.num_users, candidates);
    if (best) {
      const double gain = best->latency_s.mean > 0 ? 1.0 - b.latency_s.mean / best->latency_s.mean : 0.0;
      e["best_baseline"] = best->policy;
      e["best_latency_s"] = best->latency_s.mean;
      e["largest_possible_reduction"] = gain;
      h.table += fmt::format("{:>5} {:>9.3f} ±{:<6.3f} {:>22} {:>12.3f} {:>21.1f}%\n", b.num_users, b.latency_s.mean,
                             b.latency_s.ci95, best->policy, best->latency_s.mean, 100 * gain);
    } else {
      e["best_baseline"] = nullptr;
      h.table += fmt::format("{:>5} {:>9.3f} ±{:<6.3f} {:>22} {:>12} {:>22}\n", b.num_users, b.latency_s.mean,
                             b.latency_s.ci95, candidates.empty() ? "(no baselines run)" : "(none meets all)", "-", "-");
    }
    h.json[std::to_string(b.num_users)] = e;
  }
  return h;
}

}  // namespace mecllm::mec
