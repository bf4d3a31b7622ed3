// A trained policy (policy.json, see exported_policy.h) behind the simulator's mec::Policy
// interface, for `mecllm evaluate`, `sim`-style comparisons and the testbed. No LibTorch.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mec/policy.h"
#include "rl/exported_policy.h"

namespace mecllm::rl {

class LearnedPolicy : public mec::Policy {
 public:
  // `label` is the name reported in tables ("wm-ppo"); empty: the algorithm in the file.
  LearnedPolicy(PolicyWeights weights, std::string source, std::string label = "");
  static std::unique_ptr<LearnedPolicy> load(const std::filesystem::path& path, std::string label = "");

  std::string name() const override { return label_; }
  // Checks the environment against the policy: a scenario whose observation or action size
  // differs from the one the policy was trained on throws InputError naming both.
  void reset(const mec::VecEnv& env) override;
  void act(const mec::VecEnv& env, std::span<float> actions) override;

 private:
  ExportedPolicy policy_;
  std::string source_, label_;
};

}  // namespace mecllm::rl
