// Heuristic baselines of mec-model.md. Each one decides x_n per user per slot; docs/mec.md says
// precisely what each does.
//   always-local, always-offload, random            trivial references
//   greedy-latency        per user, the x of least predicted latency (constraints ignored)
//   greedy-constrained    per user, least latency s.t. per-task energy/accuracy/hallucination
//   threshold             offload when the channel is good and the task hard
//   lyapunov              drift-plus-penalty with the virtual queues, full knowledge of the slot
#pragma once

#include <vector>

#include "common/rng.h"
#include "mec/policy.h"
#include "mec/scenario.h"
#include "mec/vec_env_impl.h"

namespace mecllm::mec {

class ConstantPolicy : public Policy {
 public:
  ConstantPolicy(std::string name, float x) : name_(std::move(name)), x_(x) {}
  std::string name() const override { return name_; }
  void act(const VecEnv& env, std::span<float> actions) override;

 private:
  std::string name_;
  float x_;
};

class RandomPolicy : public Policy {
 public:
  explicit RandomPolicy(uint64_t seed) : seed_(seed), rng_(seed, 0x5eed) {}
  std::string name() const override { return "random"; }
  void reset(const VecEnv&) override { rng_.reseed(seed_, 0x5eed); }
  void act(const VecEnv& env, std::span<float> actions) override;

 private:
  uint64_t seed_;
  Rng rng_;
};

// Offload everything when the user's channel gain is at least gain_threshold_db and the task is
// hard (difficulty >= min_difficulty); otherwise run locally.
class ThresholdPolicy : public Policy {
 public:
  ThresholdPolicy(double gain_threshold_db, int min_difficulty)
      : gain_threshold_db_(gain_threshold_db), min_difficulty_(min_difficulty) {}
  std::string name() const override { return "threshold"; }
  void act(const VecEnv& env, std::span<float> actions) override;

 private:
  double gain_threshold_db_;
  int min_difficulty_;
};

// The per-slot searches share one machinery: users are decided one by one in index order; each
// candidate x is previewed against a scratch copy of the edge queue that already holds the
// sequences of the users decided before (so later users see the load of earlier ones); the
// bandwidth share assumes every active user offloads (a pessimistic, decision-independent share).
class SlotSearchPolicy : public Policy {
 public:
  enum class Rule { greedy_latency, greedy_constrained, lyapunov };
  // Candidates per user: VecEnv::Impl::search_candidates (whole prompts, or baselines.search_grid).
  SlotSearchPolicy(Rule rule, double lyapunov_v, bool sequential_in_slot = true);
  std::string name() const override;
  void act(const VecEnv& env, std::span<float> actions) override;

 private:
  double score(const VecEnv::Impl& s, int i, const UserOutcome& o) const;
  Rule rule_;
  double lyapunov_v_;  // V of drift-plus-penalty: weight of latency/T_ref against the queues
  bool sequential_;    // each user's search sees the edge load committed by the users before it
  std::vector<double> scratch_, trial_;
};

}  // namespace mecllm::mec
