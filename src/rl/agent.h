// The actor-critic shared by every user (LibTorch; included only by ppo.cpp and wm_ppo.cpp).
//
// Actor: MLP (tanh) -> pre-sigmoid mean mu (act_dim) with a state-independent log std, so the
// action is x = sigmoid(u), u ~ N(mu, sigma) (a logistic-normal, "squashed Gaussian" on [0,1];
// docs/rl.md says why not Beta). The PPO ratio is taken on u: the sigmoid's Jacobian depends only
// on u, so it cancels in pi_new(x)/pi_old(x).
// Critic: separate MLP (tanh) -> (1 + num_costs) values: the reward value and one cost value per
// constraint (the vector cost critic of PPO-Lagrangian).
#pragma once

#include <torch/torch.h>

#include <cmath>

#include "rl/exported_policy.h"
#include "rl/rl_config.h"

namespace mecllm::rl {

struct AgentImpl : torch::nn::Module {
  AgentImpl(int obs_dim, int act_dim, int num_costs, const PpoArgs& a) : obs_dim(obs_dim), act_dim(act_dim) {
    int in = obs_dim;
    for (int i = 0; i < a.layers; ++i) {
      actor_layers.push_back(register_module("actor" + std::to_string(i), torch::nn::Linear(in, a.hidden)));
      critic_layers.push_back(register_module("critic" + std::to_string(i), torch::nn::Linear(in, a.hidden)));
      in = a.hidden;
    }
    actor_mean = register_module("actor_mean", torch::nn::Linear(in, act_dim));
    critic_out = register_module("critic_out", torch::nn::Linear(in, 1 + num_costs));
    actor_logstd = register_parameter("actor_logstd", torch::full({act_dim}, a.init_log_std));
    if (a.ortho_init) {
      torch::NoGradGuard ng;
      // CleanRL's layer_init: orthogonal weights, zero bias; sqrt(2) for hidden layers.
      auto init = [](torch::nn::Linear& l, double gain) {
        torch::nn::init::orthogonal_(l->weight, gain);
        torch::nn::init::constant_(l->bias, 0.0);
      };
      for (auto& l : actor_layers) init(l, std::sqrt(2.0));
      for (auto& l : critic_layers) init(l, std::sqrt(2.0));
      init(actor_mean, a.policy_head_gain);
      init(critic_out, a.value_head_gain);
    }
  }

  // obs (B, obs_dim) -> mu (B, act_dim)
  torch::Tensor mean(torch::Tensor x) {
    for (auto& l : actor_layers) x = torch::tanh(l->forward(x));
    return actor_mean->forward(x);
  }
  // obs (B, obs_dim) -> values (B, 1 + num_costs)
  torch::Tensor value(torch::Tensor x) {
    for (auto& l : critic_layers) x = torch::tanh(l->forward(x));
    return critic_out->forward(x);
  }
  // log N(u; mu, sigma) summed over act_dim: (B)
  torch::Tensor log_prob(const torch::Tensor& mu, const torch::Tensor& u) {
    auto z = (u - mu) * torch::exp(-actor_logstd);
    return (-0.5 * z * z - actor_logstd - 0.5 * std::log(2 * M_PI)).sum(-1);
  }
  // Entropy of the Gaussian on u (the same for every state): scalar
  torch::Tensor entropy() { return (actor_logstd + 0.5 + 0.5 * std::log(2 * M_PI)).sum(); }

  // The actor's weights in the export format.
  void export_actor(PolicyWeights& w) {
    torch::NoGradGuard ng;
    auto dense = [](torch::nn::Linear& l) {
      DenseLayer d;
      auto wt = l->weight.detach().contiguous();
      auto b = l->bias.detach().contiguous();
      d.out = static_cast<int>(wt.size(0));
      d.in = static_cast<int>(wt.size(1));
      d.weight.assign(wt.data_ptr<float>(), wt.data_ptr<float>() + wt.numel());
      d.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
      return d;
    };
    w.layers.clear();
    for (auto& l : actor_layers) w.layers.push_back(dense(l));
    w.layers.push_back(dense(actor_mean));
    auto ls = actor_logstd.detach().contiguous();
    w.log_std.assign(ls.data_ptr<float>(), ls.data_ptr<float>() + ls.numel());
    w.obs_dim = obs_dim;
    w.act_dim = act_dim;
  }

  int obs_dim, act_dim;
  std::vector<torch::nn::Linear> actor_layers, critic_layers;
  torch::nn::Linear actor_mean{nullptr}, critic_out{nullptr};
  torch::Tensor actor_logstd;  // (act_dim)
};
TORCH_MODULE(Agent);

// PPO's clipped surrogate, mean over the samples where mask is 1:
//   mean( max(-adv * ratio, -adv * clamp(ratio, 1 - clip, 1 + clip)) ).
// ratio, adv, mask: (B) -> scalar.
inline torch::Tensor clipped_surrogate_loss(const torch::Tensor& ratio, const torch::Tensor& adv,
                                            const torch::Tensor& mask, double clip) {
  auto pg_loss1 = -adv * ratio;
  auto pg_loss2 = -adv * torch::clamp(ratio, 1 - clip, 1 + clip);
  return (torch::max(pg_loss1, pg_loss2) * mask).sum() / mask.sum().clamp_min(1.0);
}

}  // namespace mecllm::rl
