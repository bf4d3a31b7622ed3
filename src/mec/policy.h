// The one policy interface of the offloading problem: heuristic baselines (baselines.h) and the
// learned agents (src/rl) implement it, and the evaluation harness (evaluate.h) runs any of them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mec/vec_env.h"

namespace mecllm::mec {

class Policy {
 public:
  virtual ~Policy();
  virtual std::string name() const = 0;
  // Start of an evaluation (the env has just been reset).
  virtual void reset(const VecEnv& env) { (void)env; }
  // actions: (num_envs, num_users, act_dim) in [0,1]. A policy may read env.observations()
  // (learned policies) or env.impl() (baselines with full knowledge of the slot).
  virtual void act(const VecEnv& env, std::span<float> actions) = 0;
};

// Names accepted by make_baseline, in the order reports list them.
const std::vector<std::string>& baseline_names();

// Builds a baseline by name; an unknown name throws InputError listing the valid ones.
// `seed` drives the random baseline (others ignore it).
std::unique_ptr<Policy> make_baseline(const std::string& name, const Scenario& scenario, uint64_t seed = 0);

}  // namespace mecllm::mec
