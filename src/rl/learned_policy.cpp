#include "rl/learned_policy.h"

#include "common/errors.h"
#include "mec/scenario.h"

namespace mecllm::rl {

LearnedPolicy::LearnedPolicy(PolicyWeights weights, std::string source, std::string label)
    : policy_(std::move(weights)), source_(std::move(source)), label_(std::move(label)) {
  if (label_.empty()) label_ = policy_.weights().algo.empty() ? "learned" : policy_.weights().algo;
}

std::unique_ptr<LearnedPolicy> LearnedPolicy::load(const std::filesystem::path& path, std::string label) {
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(file)) file /= "policy.json";
  return std::make_unique<LearnedPolicy>(load_policy(file), file.string(), std::move(label));
}

void LearnedPolicy::reset(const mec::VecEnv& env) {
  if (env.obs_dim() != policy_.obs_dim())
    throw_input_error(source_, "policy expects observations of size {} (obs_dim), the scenario '{}' gives {}",
                      policy_.obs_dim(), env.scenario().name, env.obs_dim());
  if (env.act_dim() != policy_.act_dim())
    throw_input_error(source_, "policy outputs {} action value(s) per user (act_dim), the scenario '{}' expects {}",
                      policy_.act_dim(), env.scenario().name, env.act_dim());
}

void LearnedPolicy::act(const mec::VecEnv& env, std::span<float> actions) {
  policy_.act(env.observations(), actions);
}

}  // namespace mecllm::rl
