// The deployable form of a trained policy: an MLP actor plus its observation normaliser, in a
// versioned JSON file (docs/rl.md, "Export format") that this plain-C++ library loads and runs
// without LibTorch, for `mecllm evaluate` and the testbed's device agents.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mecllm::rl {

inline constexpr const char* kPolicyFormat = "mecllm-policy";
// Version 2: the simulator observation gained the task/device features (kObsLocalTime..., 23
// floats instead of 19), so version-1 files are refused with a message asking to retrain.
inline constexpr int kPolicyVersion = 2;

struct DenseLayer {
  int in = 0, out = 0;
  std::vector<float> weight;  // (out, in) row-major
  std::vector<float> bias;    // (out)
};

struct PolicyWeights {
  std::string algo;              // algorithm that trained it (informational)
  std::string scenario;          // scenario it was trained on (informational)
  int trained_users = 0;
  int obs_dim = 0;
  int act_dim = 0;
  std::string activation = "tanh";              // hidden activation (only tanh today)
  std::string action_head = "sigmoid-gaussian"; // x = sigmoid(mean) when acting deterministically
  bool norm_obs = true;
  std::vector<double> obs_mean;  // (obs_dim)
  std::vector<double> obs_var;   // (obs_dim)
  double obs_clip = 10, obs_eps = 1e-8;
  std::vector<DenseLayer> layers;  // hidden layers then the mean head (out = act_dim)
  std::vector<float> log_std;      // (act_dim) of the pre-sigmoid Gaussian
};

nlohmann::json policy_to_json(const PolicyWeights& w);
// Validates every field; throws InputError naming `source`, the field, the value and the expectation.
PolicyWeights policy_from_json(const nlohmann::json& j, const std::string& source);
void save_policy(const PolicyWeights& w, const std::filesystem::path& path);  // atomic write
// `path` is policy.json or a run directory holding one.
PolicyWeights load_policy(const std::filesystem::path& path);

// Runs the actor on rows of observations. Not thread-safe (owns scratch buffers).
class ExportedPolicy {
 public:
  explicit ExportedPolicy(PolicyWeights w);
  const PolicyWeights& weights() const { return w_; }
  int obs_dim() const { return w_.obs_dim; }
  int act_dim() const { return w_.act_dim; }
  // obs (n, obs_dim) -> actions (n, act_dim) in [0,1], deterministic (the distribution's median).
  void act(std::span<const float> obs, std::span<float> actions);
  // Pre-sigmoid action means (n, act_dim): the raw network output, for tests against LibTorch.
  void mean(std::span<const float> obs, std::span<float> means);

 private:
  PolicyWeights w_;
  std::vector<float> a_, b_;  // scratch activations (n * widest layer)
};

}  // namespace mecllm::rl
