#include "mec/baselines.h"

#include <algorithm>
#include <limits>

#include "common/errors.h"

namespace mecllm::mec {

Policy::~Policy() = default;

namespace {
// Bandwidth weight (second action) is left neutral by the baselines: equal shares.
void fill_bandwidth(const VecEnv& env, std::span<float> actions) {
  if (env.act_dim() < 2) return;
  for (size_t i = 1; i < actions.size(); i += env.act_dim()) actions[i] = 0.5f;
}
}  // namespace

void ConstantPolicy::act(const VecEnv& env, std::span<float> actions) {
  for (size_t i = 0; i < actions.size(); i += env.act_dim()) actions[i] = x_;
  fill_bandwidth(env, actions);
}

void RandomPolicy::act(const VecEnv& env, std::span<float> actions) {
  for (size_t i = 0; i < actions.size(); i += env.act_dim()) actions[i] = float(rng_.uniform());
  fill_bandwidth(env, actions);
}

void ThresholdPolicy::act(const VecEnv& env, std::span<float> actions) {
  const auto& s = env.impl();
  const size_t EN = size_t(s.E) * s.N;
  for (size_t i = 0; i < EN; ++i) {
    bool go = s.active[i] && s.gain_db[i] >= gain_threshold_db_ && s.difficulty[i] >= min_difficulty_;
    actions[i * env.act_dim()] = go ? 1.f : 0.f;
  }
  fill_bandwidth(env, actions);
}

SlotSearchPolicy::SlotSearchPolicy(Rule rule, double lyapunov_v, bool sequential_in_slot)
    : rule_(rule), lyapunov_v_(lyapunov_v), sequential_(sequential_in_slot) {}

std::string SlotSearchPolicy::name() const {
  switch (rule_) {
    case Rule::greedy_latency: return "greedy-latency";
    case Rule::greedy_constrained: return "greedy-constrained";
    case Rule::lyapunov: return "lyapunov";
  }
  return "?";
}

double SlotSearchPolicy::score(const VecEnv::Impl& s, int i, const UserOutcome& o) const {
  const auto& c = s.scenario.constraints;
  switch (rule_) {
    case Rule::greedy_latency: return o.latency_s;
    case Rule::greedy_constrained: {
      // Per-task constraints: energy within the budget of the slots this task stands for
      // (Ebar_n / p_n), accuracy and hallucination of this task within the floor/ceiling.
      double allowance = s.arrival_prob[i] > 0 ? s.budget_j[i] / s.arrival_prob[i] : std::numeric_limits<double>::infinity();
      double viol = 0;
      if (o.energy_j > allowance) viol += (o.energy_j - allowance) / std::max(allowance, 1e-9);
      if (o.accuracy < c.accuracy_min) viol += (c.accuracy_min - o.accuracy) / std::max(c.accuracy_min, 1e-9);
      if (o.hallucination > c.hallucination_max) viol += (o.hallucination - c.hallucination_max) / std::max(c.hallucination_max, 1e-9);
      // Infeasible candidates rank after every feasible one, by how far they miss.
      return viol > 1e-12 ? 1e12 * viol + o.latency_s : o.latency_s;
    }
    case Rule::lyapunov: {
      int e = i / s.N;
      return lyapunov_v_ * o.latency_s / s.scenario.latency_ref_s + s.q_energy[i] * (o.energy_j - s.budget_j[i]) +
             s.q_acc[e] * (c.accuracy_min - o.accuracy) + s.q_hal[e] * (o.hallucination - c.hallucination_max);
    }
  }
  return 0;
}

void SlotSearchPolicy::act(const VecEnv& env, std::span<float> actions) {
  const auto& s = env.impl();
  const int A = env.act_dim();
  scratch_.resize(s.edge_block);
  trial_.resize(s.edge_block);
  for (int e = 0; e < s.E; ++e) {
    std::copy_n(&s.edge[size_t(e) * s.edge_block], s.edge_block, scratch_.begin());
    int n_active = 0;
    for (int n = 0; n < s.N; ++n) n_active += s.active[size_t(e) * s.N + n];
    const double share = n_active > 0 ? 1.0 / n_active : 1.0;
    for (int n = 0; n < s.N; ++n) {
      const int i = e * s.N + n;
      actions[size_t(i) * A] = 0.f;
      if (!s.active[i]) continue;
      const int cands = s.search_candidates(size_t(i));
      double best_x = 0, best = std::numeric_limits<double>::infinity();
      for (int c = 0; c < cands; ++c) {
        double x = double(c) / (cands - 1);
        std::copy(scratch_.begin(), scratch_.end(), trial_.begin());
        UserOutcome o = s.serve(i, x, share, trial_.data());
        double sc = score(s, i, o);
        if (sc < best) best = sc, best_x = x;
      }
      if (sequential_) s.serve(i, best_x, share, scratch_.data());  // commit: later users see this load
      actions[size_t(i) * A] = float(best_x);
    }
  }
  fill_bandwidth(env, actions);
}

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> names = {"always-local", "always-offload", "random", "greedy-latency",
                                                 "greedy-constrained", "threshold", "lyapunov"};
  return names;
}

std::unique_ptr<Policy> make_baseline(const std::string& name, const Scenario& scenario, uint64_t seed) {
  const auto& b = scenario.baselines;
  if (name == "always-local") return std::make_unique<ConstantPolicy>(name, 0.f);
  if (name == "always-offload") return std::make_unique<ConstantPolicy>(name, 1.f);
  if (name == "random") return std::make_unique<RandomPolicy>(seed);
  if (name == "greedy-latency")
    return std::make_unique<SlotSearchPolicy>(SlotSearchPolicy::Rule::greedy_latency, b.lyapunov_v, b.sequential_in_slot);
  if (name == "greedy-constrained")
    return std::make_unique<SlotSearchPolicy>(SlotSearchPolicy::Rule::greedy_constrained, b.lyapunov_v, b.sequential_in_slot);
  if (name == "lyapunov")
    return std::make_unique<SlotSearchPolicy>(SlotSearchPolicy::Rule::lyapunov, b.lyapunov_v, b.sequential_in_slot);
  if (name == "threshold") return std::make_unique<ThresholdPolicy>(b.threshold_gain_db, b.threshold_min_difficulty);
  std::string valid;
  for (const auto& n : baseline_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw InputError(fmt::format("unknown policy '{}' (valid baselines: {})", name, valid));
}

}  // namespace mecllm::mec
