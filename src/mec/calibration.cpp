#include "mec/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mec/channel.h"

namespace mecllm::mec {

namespace {

// Mean of median * exp(sigma Z) clipped to [lo, hi], by a fixed-seed Monte Carlo (the clip makes
// the closed form awkward; 200k draws give 3 significant digits).
double clipped_lognormal_mean(double median, double sigma, double lo, double hi) {
  Rng rng(0x0ca1, 0);
  PolarNormal z;
  const int n = 200000;
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::clamp(median * std::exp(sigma * z(rng)), lo, hi);
  return s / n;
}

}  // namespace

CalibrationReport calibrate(const Scenario& sc, const std::vector<int>& users) {
  const auto& wl = sc.workload;
  CalibrationReport r;
  r.mean_prompts = 0.5 * (wl.prompts_min + wl.prompts_max);
  r.mean_input_tokens = clipped_lognormal_mean(wl.input_tokens_median, wl.tokens_sigma, wl.tokens_min, wl.tokens_max);
  r.mean_output_tokens = clipped_lognormal_mean(wl.output_tokens_median, wl.tokens_sigma, wl.tokens_min, wl.tokens_max);
  r.mean_context_bytes = clipped_lognormal_mean(wl.context_bytes_median, wl.context_sigma, 0.0, wl.context_bytes_max);

  double share_sum = 0;
  for (const auto& g : sc.user_groups) share_sum += g.share;
  const auto& mix = wl.difficulty_mix;
  double arrivals_per_user = 0;  // mean tasks per slot per user
  for (size_t k = 0; k < sc.user_groups.size(); ++k) {
    const auto& g = sc.user_groups[k];
    const auto& p = sc.group_profiles.at(k);
    GroupLoad gl;
    gl.name = g.name;
    gl.users_share = g.share / share_sum;
    gl.local_task_s = r.mean_prompts * (r.mean_input_tokens / p.prefill_tok_s + r.mean_output_tokens / p.decode_tok_s);
    gl.local_util = g.arrival_prob * gl.local_task_s / sc.slot_s;
    gl.local_energy_j = g.arrival_prob * gl.local_task_s * p.active_power_w;
    gl.energy_budget_j = g.energy_budget_j;
    for (int d = 0; d < 3; ++d) {
      r.local_accuracy += gl.users_share * mix[d] * p.accuracy[d];
      r.local_hallucination += gl.users_share * mix[d] * p.hallucination[d];
    }
    arrivals_per_user += gl.users_share * g.arrival_prob;
    r.groups.push_back(gl);
  }
  const auto& ep = sc.edge_profiles.at(0);
  const auto& ec = sc.edge_servers.at(0);
  for (int d = 0; d < 3; ++d) r.edge_accuracy += mix[d] * ep.accuracy[d], r.edge_hallucination += mix[d] * ep.hallucination[d];
  r.edge_capacity_tok_s = ec.max_batch * ep.decode_tok_s / (1.0 + ec.batch_kappa * (ec.max_batch - 1));
  const double servers = double(sc.edge_servers.size());
  for (int n : users) {
    EdgeLoad el;
    el.num_users = n;
    // users are spread over the servers round robin; server 0 gets ceil(n / servers) of them
    double on_server0 = std::ceil(n / servers);
    el.sequences_per_s = on_server0 * arrivals_per_user * r.mean_prompts / sc.slot_s;
    el.decode_util = el.sequences_per_s * r.mean_output_tokens / r.edge_capacity_tok_s;
    el.prefill_util = el.sequences_per_s * r.mean_input_tokens / ep.prefill_tok_s;
    r.edge.push_back(el);
  }
  return r;
}

std::string CalibrationReport::to_text() const {
  std::string t = fmt::format("task: {:.2f} prompts, {:.1f} input / {:.1f} output tokens, {:.0f} KB context per prompt (means)\n",
                              mean_prompts, mean_input_tokens, mean_output_tokens, mean_context_bytes / 1e3);
  t += fmt::format("{:<10} {:>7} {:>13} {:>13} {:>15} {:>12}\n", "group", "share", "local task s", "local util",
                   "local E J/slot", "budget J");
  for (const auto& g : groups)
    t += fmt::format("{:<10} {:>7.2f} {:>13.1f} {:>13.2f} {:>15.2f} {:>12.2f}\n", g.name, g.users_share, g.local_task_s,
                     g.local_util, g.local_energy_j, g.energy_budget_j);
  t += fmt::format("quality  local: accuracy {:.3f} hallucination {:.3f}   edge: accuracy {:.3f} hallucination {:.3f}\n",
                   local_accuracy, local_hallucination, edge_accuracy, edge_hallucination);
  t += fmt::format("edge saturated decode capacity {:.0f} tok/s; always-offload load:\n", edge_capacity_tok_s);
  t += fmt::format("{:>6} {:>14} {:>12} {:>13}\n", "N", "sequences/s", "decode util", "prefill util");
  for (const auto& e : edge)
    t += fmt::format("{:>6} {:>14.3f} {:>12.2f} {:>13.3f}\n", e.num_users, e.sequences_per_s, e.decode_util, e.prefill_util);
  return t;
}

}  // namespace mecllm::mec
