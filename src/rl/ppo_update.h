// The optimisation phase of train_ppo (LibTorch; included by ppo.cpp and ppo_update.cpp only):
// update_epochs x num_minibatches Adam steps on the clipped surrogate (decision samples, plus the
// imagined samples of WM-PPO) and the clipped value loss (every sample).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "common/rng.h"
#include "rl/agent.h"
#include "rl/flat_adam.h"
#include "rl/rl_config.h"
#include "rl/wm_ppo.h"
#include "rl/worker.h"

namespace mecllm::rl {

// Flattened views of the rollout storage, (B, ...).
struct UpdateBatch {
  torch::Tensor obs, us, logprobs, advantages, returns, values;
  const float* active = nullptr;        // (B) 1 where the user had a task
  const ImaginedBatch* imagined = nullptr;
  int used_channels = 1;                // value channels trained (reward; plus costs when constrained)
};

struct UpdateStats {
  double pg_sum = 0, v_sum = 0, ent_sum = 0, kl_sum = 0, clip_sum = 0, img_sum = 0;
  int64_t n_mb = 0;
  // Seconds: loss forward (gathers included), backward, clip + Adam step.
  double forward_s = 0, backward_s = 0, optim_s = 0;
};

// Runs the epochs; shuffles with `rng` (perm of the batch, then the imagined samples, per epoch).
// With a worker, each minibatch's critic rows are split in two halves: the calling thread does the
// actor loss and the first half's value loss (backward into the parameters' gradients), the worker
// the second half's value loss (torch::autograd::grad), added afterwards. Same loss, same
// gradient up to float rounding; deterministic for a given split. forward_s/backward_s are then
// the calling thread's (waiting for the worker included in backward_s).
UpdateStats ppo_update(const PpoArgs& args, const WmArgs& wm, Agent& agent, FlatAdam& optimizer,
                       const UpdateBatch& b, Rng& rng, Worker* worker = nullptr);

}  // namespace mecllm::rl
