// Recurrent state-space world model in the layout of DreamerV3 (Hafner et al. 2023, rssm.py):
// deterministic GRU state h_t = GRU(h_{t-1}, [z_{t-1}, a_{t-1}]), stochastic state z_t either
// categorical (groups x classes, straight-through gradients, 1% uniform mix) or diagonal Gaussian,
// prior p(z_t | h_t), posterior q(z_t | h_t, o_t), and heads on feat = [h_t, z_t]: symlog
// observation decoder, reward, cost vector and continuation. Trained on sequences where index t
// holds o_t, a_{t-1} and the reward/cost/continuation of the transition that led into o_t.
// Every random draw comes from mecllm::Rng (uniforms copied into a tensor), never torch's RNG.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "common/rng.h"
#include "rl/rl_config.h"

namespace mecllm::rl {

struct RssmState {
  torch::Tensor deter;  // (..., deter)
  torch::Tensor stoch;  // (..., stoch_size) flattened one-hot groups, or the Gaussian sample
  torch::Tensor stats;  // (..., groups, classes) logits, or (..., 2 * gauss_dim) mean and std
};

torch::Tensor symlog(const torch::Tensor& x);  // sign(x) ln(1 + |x|), same shape
torch::Tensor symexp(const torch::Tensor& x);  // inverse of symlog, same shape

class RssmImpl : public torch::nn::Module {
 public:
  RssmImpl(int obs_dim, int act_dim, int num_costs, const RssmArgs& args);

  RssmState initial(int64_t batch);  // zeros: (batch, ...)
  // One prior step: s_{t-1}, a_{t-1} (B, act_dim) -> prior state at t.
  RssmState img_step(const RssmState& prev, const torch::Tensor& action, Rng& rng);
  // Posterior at t from the prior's deterministic state and o_t (B, obs_dim).
  RssmState obs_step(const RssmState& prior, const torch::Tensor& obs, Rng& rng);
  // Runs the posterior over a sequence: obs (T, B, obs_dim), prev_action (T, B, act_dim),
  // is_first (T, B) float 0/1 (resets the state). Returns {posterior, prior}, each stacked (T, B, ...).
  std::pair<RssmState, RssmState> observe(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                          const torch::Tensor& is_first, Rng& rng);

  // The random numbers one img_step or obs_step of `batch` states draws from the Rng (uniforms of
  // the categorical sampling, or the Gaussian's normals): drawing them first and passing them to
  // the overloads below gives the same numbers as the Rng versions, and lets row ranges of a
  // batch run on different threads.
  torch::Tensor draw_noise(int64_t batch, Rng& rng);
  RssmState img_step(const RssmState& prev, const torch::Tensor& action, const torch::Tensor& noise);
  RssmState obs_step(const RssmState& prior, const torch::Tensor& obs, const torch::Tensor& noise);
  // observe() with noise[2t] for the prior and noise[2t + 1] for the posterior step at t, each
  // (B, ...) as draw_noise gives it (a column range of a larger batch's noise is fine).
  std::pair<RssmState, RssmState> observe(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                          const torch::Tensor& is_first, const std::vector<torch::Tensor>& noise);

  torch::Tensor feat(const RssmState& s);     // (..., deter + stoch_size)
  // The four heads on feat: observation decoder, reward, cost vector, continuation. Their first
  // layers run as one matrix product (one dispatch and one wider product instead of four).
  struct Heads {
    torch::Tensor decoded_symlog;  // (..., obs_dim) before symexp
    torch::Tensor reward;          // (...)
    torch::Tensor cost;            // (..., num_costs)
    torch::Tensor cont;            // (...) probability
    torch::Tensor decoded() const { return symexp(decoded_symlog); }
  };
  Heads heads(const torch::Tensor& feat);

  // KL[q || p] per element: (...), summed over latent dimensions.
  torch::Tensor kl(const torch::Tensor& post_stats, const torch::Tensor& prior_stats);

  // Named, unscaled loss terms (each a scalar): decoder, reward, cost, cont, dyn, rep.
  // reward (T, B), cost (T, B, C), cont (T, B) and mask (T, B) (0 where index t has no incoming
  // transition, e.g. the first index of a sequence). dyn/rep already include free bits.
  // `count` (> 0) and `denom` (defined) replace the element count T*B and mask.sum() of the means,
  // so the terms of a column range of a batch add up to the whole batch's terms.
  std::map<std::string, torch::Tensor> loss(const RssmState& post, const RssmState& prior, const torch::Tensor& obs,
                                            const torch::Tensor& reward, const torch::Tensor& cost,
                                            const torch::Tensor& cont, const torch::Tensor& mask, double count = -1,
                                            const torch::Tensor& denom = {});
  // Sum of the terms scaled by the config (scale_* and beta_dyn/beta_rep).
  torch::Tensor total_loss(const std::map<std::string, torch::Tensor>& terms) const;

  const RssmArgs& args() const { return a_; }

 private:
  RssmState dist_state(const torch::Tensor& deter, const torch::Tensor& stats, const torch::Tensor& noise);
  torch::Tensor action_part(const torch::Tensor& action);  // (..., hidden): dynin0's action columns + bias
  torch::Tensor embed_part(const torch::Tensor& obs);      // (..., hidden): encoder, post0's embedding columns + bias
  // The state columns of dynin0 (z) and post0 (h), transposed for addmm.
  struct StateWeights {
    torch::Tensor dyn_stoch, post_deter;
  };
  StateWeights state_weights();
  // The prior at t from the (masked) previous state and action_part(a_{t-1}); the posterior from
  // the prior's deterministic state h_t and embed_part(o_t).
  RssmState prior_from(const StateWeights& w, const torch::Tensor& deter, const torch::Tensor& stoch,
                       const torch::Tensor& act_part, const torch::Tensor& noise);
  RssmState posterior_from(const StateWeights& w, const torch::Tensor& h, const torch::Tensor& emb_part,
                           const torch::Tensor& noise);
  template <class NextNoise>
  std::pair<RssmState, RssmState> observe_impl(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                               const torch::Tensor& is_first, NextNoise&& next_noise);
  torch::Tensor uniform_like(const std::vector<int64_t>& shape, Rng& rng);
  torch::Tensor normal_like(const std::vector<int64_t>& shape, Rng& rng);
  torch::Tensor probs(const torch::Tensor& logits);  // unimix applied, (..., groups, classes)
  // One-hot (..., groups, classes) of the class each group draws from probabilities p with
  // uniforms u (..., groups, 1); no gradient.
  torch::Tensor one_hot_sample(const torch::Tensor& p, const torch::Tensor& u);

  RssmArgs a_;
  int obs_dim_, act_dim_, num_costs_;
  int stats_size_;
  torch::nn::Linear dynin0{nullptr}, prior0{nullptr}, prior1{nullptr}, post0{nullptr}, post1{nullptr}, enc0{nullptr};
  torch::nn::GRUCell gru{nullptr};
  torch::nn::Linear dec0{nullptr}, dec1{nullptr}, rew0{nullptr}, rew1{nullptr}, cost0{nullptr}, cost1{nullptr},
      cont0{nullptr}, cont1{nullptr};
};
TORCH_MODULE(Rssm);

}  // namespace mecllm::rl
