#include "mec/evaluate.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "common/progress.h"
#include "common/stats.h"
#include "mec/vec_env_impl.h"

namespace mecllm::mec {

namespace {

MetricCi aggregate(const std::vector<EvalRun>& runs, double EvalRun::*field) {
  std::vector<double> v;
  v.reserve(runs.size());
  for (const auto& r : runs) v.push_back(r.*field);
  return {stats::mean(v), stats::ci95_halfwidth(v)};
}

nlohmann::json ci_json(const MetricCi& m) { return {{"mean", m.mean}, {"ci95", m.ci95}}; }

}  // namespace

void check_eval_options(const EvalOptions& opt) {
  if (opt.num_users < 1) throw InputError(fmt::format("number of users (--users) must be >= 1, got {}", opt.num_users));
  if (opt.slots < 1) throw InputError(fmt::format("slots (--slots) must be >= 1, got {}", opt.slots));
  if (opt.seeds < 1) throw InputError(fmt::format("seeds (--seeds) must be >= 1, got {}", opt.seeds));
}

EvalSummary evaluate_policy(const Scenario& scenario, Policy& policy, const EvalOptions& opt,
                            const std::function<void(const EvalRun&)>& on_run) {
  check_eval_options(opt);
  const auto& cons = scenario.constraints;
  EvalSummary sum;
  sum.policy = policy.name();
  sum.num_users = opt.num_users;
  sum.slots = opt.slots;
  std::unique_ptr<Progress> progress;
  if (opt.show_progress)
    progress = std::make_unique<Progress>(fmt::format("{} N={}", policy.name(), opt.num_users),
                                          int64_t(opt.seeds) * opt.slots, "slots");
  for (int k = 0; k < opt.seeds; ++k) {
    EvalRun run;
    run.seed = opt.first_seed + uint64_t(k);
    VecEnv env(scenario, 1, opt.num_users, run.seed);
    policy.reset(env);
    const auto& s = env.impl();
    std::vector<float> actions(size_t(opt.num_users) * env.act_dim(), 0.f);
    double energy_total = 0, budget_total = 0, x_total = 0, reward_total = 0;
    int64_t v_e = 0, v_a = 0, v_h = 0, v_any = 0;
    for (int t = 0; t < opt.slots; ++t) {
      policy.act(env, actions);
      env.step(actions);
      reward_total += env.rewards()[0];
      const SlotInfo& si = env.slot_info()[0];
      for (int n = 0; n < opt.num_users; ++n) {
        energy_total += s.outcome[n].energy_j;
        budget_total += s.budget_j[n];
        if (s.acted[n]) {
          const UserOutcome& o = s.outcome[n];
          run.tasks += 1;
          run.latency_s += o.latency_s, run.energy_j += o.energy_j;
          run.accuracy += o.accuracy, run.hallucination += o.hallucination, x_total += o.x;
        }
      }
      if (si.active_users > 0) {
        run.busy_slots += 1;
        run.slot_latency_s += si.mean_latency_s;
        run.slot_accuracy += si.mean_accuracy;
        run.slot_hallucination += si.mean_hallucination;
        const float* c = &env.slot_costs()[0];
        bool ve = c[kCostEnergy] > 0, va = c[kCostAccuracy] > 0, vh = c[kCostHallucination] > 0;
        v_e += ve, v_a += va, v_h += vh, v_any += (ve || va || vh);
      }
      if (progress && (t % 256 == 0)) progress->update(int64_t(k) * opt.slots + t);
    }
    double tasks = std::max<int64_t>(run.tasks, 1), busy = std::max<int64_t>(run.busy_slots, 1);
    run.latency_s /= tasks, run.energy_j /= tasks, run.accuracy /= tasks, run.hallucination /= tasks;
    run.offload_share = x_total / tasks;
    run.slot_latency_s /= busy, run.slot_accuracy /= busy, run.slot_hallucination /= busy;
    run.energy_ratio = budget_total > 0 ? energy_total / budget_total : (energy_total > 0 ? 1e9 : 0.0);
    run.violation_energy = v_e / busy, run.violation_accuracy = v_a / busy;
    run.violation_hallucination = v_h / busy, run.violation = v_any / busy;
    run.mean_reward = reward_total / opt.slots;
    run.meets_energy = run.energy_ratio <= 1.0;
    run.meets_accuracy = run.busy_slots == 0 || run.slot_accuracy >= cons.accuracy_min;
    run.meets_hallucination = run.busy_slots == 0 || run.slot_hallucination <= cons.hallucination_max;
    sum.runs.push_back(run);
    if (on_run) on_run(run);
  }
  if (progress) {
    progress->update(int64_t(opt.seeds) * opt.slots);  // the last per-slot update is throttled
    progress->finish();
  }
  const auto& r = sum.runs;
  sum.latency_s = aggregate(r, &EvalRun::latency_s);
  sum.energy_j = aggregate(r, &EvalRun::energy_j);
  sum.accuracy = aggregate(r, &EvalRun::accuracy);
  sum.hallucination = aggregate(r, &EvalRun::hallucination);
  sum.slot_latency_s = aggregate(r, &EvalRun::slot_latency_s);
  sum.slot_accuracy = aggregate(r, &EvalRun::slot_accuracy);
  sum.slot_hallucination = aggregate(r, &EvalRun::slot_hallucination);
  sum.energy_ratio = aggregate(r, &EvalRun::energy_ratio);
  sum.violation_energy = aggregate(r, &EvalRun::violation_energy);
  sum.violation_accuracy = aggregate(r, &EvalRun::violation_accuracy);
  sum.violation_hallucination = aggregate(r, &EvalRun::violation_hallucination);
  sum.violation = aggregate(r, &EvalRun::violation);
  sum.mean_reward = aggregate(r, &EvalRun::mean_reward);
  sum.offload_share = aggregate(r, &EvalRun::offload_share);
  sum.meets_energy = sum.energy_ratio.mean <= 1.0;
  sum.meets_accuracy = sum.slot_accuracy.mean >= cons.accuracy_min;
  sum.meets_hallucination = sum.slot_hallucination.mean <= cons.hallucination_max;
  return sum;
}

nlohmann::json run_to_json(const EvalRun& r) {
  return {{"seed", r.seed},
          {"tasks", r.tasks},
          {"busy_slots", r.busy_slots},
          {"latency_s", r.latency_s},
          {"energy_j", r.energy_j},
          {"accuracy", r.accuracy},
          {"hallucination", r.hallucination},
          {"slot_latency_s", r.slot_latency_s},
          {"slot_accuracy", r.slot_accuracy},
          {"slot_hallucination", r.slot_hallucination},
          {"energy_ratio", r.energy_ratio},
          {"violation", r.violation},
          {"violation_energy", r.violation_energy},
          {"violation_accuracy", r.violation_accuracy},
          {"violation_hallucination", r.violation_hallucination},
          {"mean_reward", r.mean_reward},
          {"offload_share", r.offload_share}};
}

nlohmann::json EvalSummary::to_json() const {
  nlohmann::json j = {{"policy", policy},
                      {"num_users", num_users},
                      {"slots", slots},
                      {"seeds", runs.size()},
                      {"tasks", tasks()},
                      {"latency_s", latency_s.mean},
                      {"energy_j", energy_j.mean},
                      {"accuracy", accuracy.mean},
                      {"hallucination", hallucination.mean},
                      {"violation", violation.mean},
                      {"violation_energy", violation_energy.mean},
                      {"violation_accuracy", violation_accuracy.mean},
                      {"violation_hallucination", violation_hallucination.mean},
                      {"energy_ratio", energy_ratio.mean},
                      {"slot_latency_s", slot_latency_s.mean},
                      {"slot_accuracy", slot_accuracy.mean},
                      {"slot_hallucination", slot_hallucination.mean},
                      {"mean_reward", mean_reward.mean},
                      {"offload_share", offload_share.mean},
                      {"meets_energy", meets_energy},
                      {"meets_accuracy", meets_accuracy},
                      {"meets_hallucination", meets_hallucination}};
  nlohmann::json ci;
  ci["latency_s"] = ci_json(latency_s);
  ci["energy_j"] = ci_json(energy_j);
  ci["accuracy"] = ci_json(accuracy);
  ci["hallucination"] = ci_json(hallucination);
  ci["violation"] = ci_json(violation);
  ci["energy_ratio"] = ci_json(energy_ratio);
  ci["mean_reward"] = ci_json(mean_reward);
  j["ci95"] = ci;
  nlohmann::json per_seed = nlohmann::json::array();
  for (const auto& r : runs) per_seed.push_back(run_to_json(r));
  j["per_seed"] = per_seed;
  return j;
}

}  // namespace mecllm::mec
