// WM-PPO's use of the RSSM (LibTorch; included by ppo.cpp and wm_ppo.cpp only): a buffer of recent
// rollouts, model training, and the two ways the model helps PPO, each behind a switch in WmArgs:
// model value expansion targets for the critic, and short imagined rollouts for the policy loss.
#pragma once

#include <torch/torch.h>

#include <deque>
#include <map>
#include <string>

#include "common/rng.h"
#include "rl/agent.h"
#include "rl/flat_adam.h"
#include "rl/rl_config.h"
#include "rl/rssm.h"
#include "rl/worker.h"

namespace mecllm::rl {

// One rollout as the model sees it; index t holds o_t and the transition that leaves it.
struct ModelRollout {
  torch::Tensor obs;    // (T, A, obs_dim) normalised observations
  torch::Tensor act;    // (T, A, act_dim) actions x in [0,1]
  torch::Tensor rew;    // (T, A) agent reward of the step (scaled like the critic's)
  torch::Tensor cost;   // (T, A, C) scaled costs of the step
  torch::Tensor cont;   // (T, A) 0 where the step ended in a terminal state
  torch::Tensor first;  // (T, A) 1 where o_t starts an episode
};

struct ImaginedBatch {
  torch::Tensor obs;       // (M, obs_dim) decoded (real at branch start) observations
  torch::Tensor u;         // (M, act_dim) pre-sigmoid actions
  torch::Tensor logprobs;  // (M) behaviour log-probs recorded at imagination time
  torch::Tensor adv;       // (M) imagined advantages (combined with the multipliers when constrained)
  int64_t size() const { return obs.defined() ? obs.size(0) : 0; }
};

class WorldModel {
 public:
  WorldModel(int obs_dim, int act_dim, int num_costs, const RlConfig& cfg);

  void add_rollout(ModelRollout r);
  // rssm.train_steps gradient steps on sequences from the buffer; returns the mean of each term.
  // With a worker, each step's sequences are split in two halves over two threads (noise drawn
  // first in the one-thread order; the halves' gradients added in a fixed order).
  std::map<std::string, double> train(Rng& rng, Worker* worker = nullptr);
  // True after wm.warmup_iterations of model training.
  bool warm() const;
  // warm() and the recent relative reward error below wm.gate_error (gates the value targets).
  bool gate_open() const;
  double reward_error() const { return reward_error_; }

  // Posterior states over the rollout, flattened to (T*A, ...). With a worker, the two halves of
  // the users run on two threads (random numbers drawn first, in the one-thread order).
  RssmState observe_rollout(const ModelRollout& r, Rng& rng, Worker* worker = nullptr);
  // H-step model value expansion targets of the reward value for each state: (T*A). With a
  // worker, the two halves of the states run on two threads (random numbers drawn first).
  torch::Tensor mve_targets(const RssmState& post, const torch::Tensor& obs_flat, Agent& agent, Rng& rng,
                            Worker* worker = nullptr);
  // Imagined samples branched from `count` posterior states drawn without replacement from
  // `starts` (indices into obs_flat: (T*A, obs_dim)).
  ImaginedBatch imagine(const RssmState& post, const torch::Tensor& obs_flat, Agent& agent,
                        const std::vector<double>& lambdas, std::vector<int64_t> starts, int64_t count, Rng& rng);

  void save(torch::serialize::OutputArchive& ar) const;
  void load(torch::serialize::InputArchive& ar);
  int iterations_trained() const { return trained_; }

 private:
  RlConfig cfg_;
  int obs_dim_, act_dim_, num_costs_;
  Rssm rssm_{nullptr};
  std::unique_ptr<FlatAdam> opt_;
  std::deque<ModelRollout> buffer_;
  double reward_error_ = 1e9;  // EMA of reward MSE / reward variance on training batches
  int trained_ = 0;            // iterations with model training done
};

}  // namespace mecllm::rl
