#include "rl/rssm.h"

#include <algorithm>
#include <vector>

#include "common/errors.h"

namespace mecllm::rl {

torch::Tensor symlog(const torch::Tensor& x) { return torch::sign(x) * torch::log1p(torch::abs(x)); }
torch::Tensor symexp(const torch::Tensor& x) { return torch::sign(x) * (torch::exp(torch::abs(x)) - 1); }

RssmImpl::RssmImpl(int obs_dim, int act_dim, int num_costs, const RssmArgs& args)
    : a_(args), obs_dim_(obs_dim), act_dim_(act_dim), num_costs_(num_costs) {
  const int S = a_.stoch_size(), H = a_.hidden, D = a_.deter;
  stats_size_ = a_.discrete ? a_.groups * a_.classes : 2 * a_.gauss_dim;
  dynin0 = register_module("dynin0", torch::nn::Linear(S + act_dim, H));
  gru = register_module("gru", torch::nn::GRUCell(H, D));
  prior0 = register_module("prior0", torch::nn::Linear(D, H));
  prior1 = register_module("prior1", torch::nn::Linear(H, stats_size_));
  enc0 = register_module("enc0", torch::nn::Linear(obs_dim, H));
  post0 = register_module("post0", torch::nn::Linear(D + H, H));
  post1 = register_module("post1", torch::nn::Linear(H, stats_size_));
  const int F = D + S;
  dec0 = register_module("dec0", torch::nn::Linear(F, H));
  dec1 = register_module("dec1", torch::nn::Linear(H, obs_dim));
  rew0 = register_module("rew0", torch::nn::Linear(F, H));
  rew1 = register_module("rew1", torch::nn::Linear(H, 1));
  cost0 = register_module("cost0", torch::nn::Linear(F, H));
  cost1 = register_module("cost1", torch::nn::Linear(H, num_costs));
  cont0 = register_module("cont0", torch::nn::Linear(F, H));
  cont1 = register_module("cont1", torch::nn::Linear(H, 1));
  // DreamerV3 zero-initialises the output layers of the reward head so early predictions are 0.
  torch::NoGradGuard ng;
  rew1->weight.zero_();
  rew1->bias.zero_();
}

torch::Tensor RssmImpl::uniform_like(const std::vector<int64_t>& shape, Rng& rng) {
  auto t = torch::empty(shape, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform());
  return t;
}

torch::Tensor RssmImpl::normal_like(const std::vector<int64_t>& shape, Rng& rng) {
  auto t = torch::empty(shape, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.normal());
  return t;
}

torch::Tensor RssmImpl::probs(const torch::Tensor& logits) {
  auto p = torch::softmax(logits, -1);
  return p * (1.0 - a_.unimix) + a_.unimix / a_.classes;
}

RssmState RssmImpl::initial(int64_t batch) {
  return {torch::zeros({batch, a_.deter}), torch::zeros({batch, a_.stoch_size()}),
          a_.discrete ? torch::zeros({batch, a_.groups, a_.classes}) : torch::zeros({batch, stats_size_})};
}

torch::Tensor RssmImpl::draw_noise(int64_t batch, Rng& rng) {
  return a_.discrete ? uniform_like({batch, a_.groups, 1}, rng) : normal_like({batch, a_.gauss_dim}, rng);
}

// Inverse-CDF sampling with Rng uniforms: the class of group g is the number of classes whose
// cumulative probability is below u_g (clamped to the last class). Done on the raw floats: as
// tensor ops (cumsum, compare, sum, clamp, zeros, scatter) it was six dispatches per step, a
// visible share of the dispatch-bound sequence loop. Cumulative sums in double, rounded to float
// before the comparison, as torch::cumsum computes them.
torch::Tensor RssmImpl::one_hot_sample(const torch::Tensor& p, const torch::Tensor& u) {
  const auto pc = p.detach().contiguous();
  const auto uc = u.contiguous();
  MECLLM_CHECK(pc.device().is_cpu() && pc.scalar_type() == torch::kFloat32, "one_hot_sample: CPU float probabilities");
  const int64_t rows = pc.numel() / a_.classes;
  MECLLM_CHECK(uc.numel() == rows, "one_hot_sample: {} uniforms for {} groups", uc.numel(), rows);
  auto onehot = torch::zeros(pc.sizes(), torch::kFloat32);
  const float *pp = pc.data_ptr<float>(), *up = uc.data_ptr<float>();
  float* out = onehot.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = pp + r * a_.classes;
    double cum = 0;
    int below = 0;
    for (int c = 0; c < a_.classes; ++c) {
      cum += row[c];
      below += static_cast<float>(cum) < up[r];
    }
    out[r * a_.classes + std::min(below, a_.classes - 1)] = 1.0f;
  }
  return onehot;
}

RssmState RssmImpl::dist_state(const torch::Tensor& deter, const torch::Tensor& raw, const torch::Tensor& noise) {
  const int64_t B = deter.size(0);
  if (a_.discrete) {
    auto logits = raw.view({B, a_.groups, a_.classes});
    auto p = probs(logits);
    auto onehot = one_hot_sample(p, noise);
    // Straight-through gradient; without autograd the sample is the one-hot itself.
    auto sample = torch::GradMode::is_enabled() ? onehot + p - p.detach() : onehot;
    return {deter, sample.view({B, a_.groups * a_.classes}), logits};
  }
  auto mean = raw.slice(-1, 0, a_.gauss_dim);
  auto std = torch::softplus(raw.slice(-1, a_.gauss_dim)) + 0.1;
  auto sample = mean + std * noise;
  return {deter, sample, torch::cat({mean, std}, -1)};
}

// dynin0 and post0 read concatenated inputs, [z, a] and [h, embed]; their weights are split by
// input columns so the part that does not depend on the carried state (the action's, the
// embedding's) can be computed for a whole sequence at once (observe) and the rest per step.
torch::Tensor RssmImpl::action_part(const torch::Tensor& action) {
  return torch::nn::functional::linear(action, dynin0->weight.narrow(1, a_.stoch_size(), act_dim_), dynin0->bias);
}
torch::Tensor RssmImpl::embed_part(const torch::Tensor& obs) {
  const auto embed = torch::silu(enc0->forward(symlog(obs)));
  return torch::nn::functional::linear(embed, post0->weight.narrow(1, a_.deter, a_.hidden), post0->bias);
}
// Taken once per sequence, not per step: under autograd every view of a parameter taken in the
// loop would add its own full-size gradient scatter to the backward pass.
RssmImpl::StateWeights RssmImpl::state_weights() {
  return {dynin0->weight.narrow(1, 0, a_.stoch_size()).t(), post0->weight.narrow(1, 0, a_.deter).t()};
}
RssmState RssmImpl::prior_from(const StateWeights& w, const torch::Tensor& deter, const torch::Tensor& stoch,
                               const torch::Tensor& act_part, const torch::Tensor& noise) {
  const auto h = gru->forward(torch::silu(torch::addmm(act_part, stoch, w.dyn_stoch)), deter);
  return dist_state(h, prior1->forward(torch::silu(prior0->forward(h))), noise);
}
RssmState RssmImpl::posterior_from(const StateWeights& w, const torch::Tensor& h, const torch::Tensor& emb_part,
                                   const torch::Tensor& noise) {
  return dist_state(h, post1->forward(torch::silu(torch::addmm(emb_part, h, w.post_deter))), noise);
}

RssmState RssmImpl::img_step(const RssmState& prev, const torch::Tensor& action, const torch::Tensor& noise) {
  return prior_from(state_weights(), prev.deter, prev.stoch, action_part(action), noise);
}
RssmState RssmImpl::img_step(const RssmState& prev, const torch::Tensor& action, Rng& rng) {
  return img_step(prev, action, draw_noise(prev.deter.size(0), rng));
}

RssmState RssmImpl::obs_step(const RssmState& prior, const torch::Tensor& obs, const torch::Tensor& noise) {
  return posterior_from(state_weights(), prior.deter, embed_part(obs), noise);
}
RssmState RssmImpl::obs_step(const RssmState& prior, const torch::Tensor& obs, Rng& rng) {
  return obs_step(prior, obs, draw_noise(prior.deter.size(0), rng));
}

std::pair<RssmState, RssmState> RssmImpl::observe(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                                  const torch::Tensor& is_first, Rng& rng) {
  const int64_t B = obs.size(1);
  return observe_impl(obs, prev_action, is_first, [&](int64_t, int) { return draw_noise(B, rng); });
}

std::pair<RssmState, RssmState> RssmImpl::observe(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                                  const torch::Tensor& is_first, const std::vector<torch::Tensor>& noise) {
  MECLLM_CHECK(static_cast<int64_t>(noise.size()) == 2 * obs.size(0), "observe: {} noise tensors for {} steps",
               noise.size(), obs.size(0));
  return observe_impl(obs, prev_action, is_first, [&](int64_t t, int k) { return noise[static_cast<size_t>(2 * t + k)]; });
}

// img_step and obs_step per index, with their state-free parts (the action's part of dynin0, the
// encoder and the embedding's part of post0) computed for all T at once: one product each instead
// of T small ones.
template <class NextNoise>
std::pair<RssmState, RssmState> RssmImpl::observe_impl(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                                       const torch::Tensor& is_first, NextNoise&& next_noise) {
  MECLLM_CHECK(obs.dim() == 3 && obs.size(2) == obs_dim_, "observe: obs [{}]", fmt::join(obs.sizes().vec(), ", "));
  MECLLM_CHECK(prev_action.dim() == 3 && prev_action.size(2) == act_dim_, "observe: action [{}]", fmt::join(prev_action.sizes().vec(), ", "));
  MECLLM_CHECK(is_first.dim() == 2 && is_first.size(0) == obs.size(0) && is_first.size(1) == obs.size(1),
               "observe: is_first [{}]", fmt::join(is_first.sizes().vec(), ", "));
  const int64_t T = obs.size(0), B = obs.size(1);
  // Episode starts reset the carried state and the previous action to the initial zeros.
  const auto keep = (1.0 - is_first).unsqueeze(-1);
  const auto act_parts = action_part(prev_action * keep);
  const auto emb_parts = embed_part(obs);
  const auto w = state_weights();
  // Steps with no reset skip the masking (a multiply by ones); so does t = 0, whose state is zeros.
  const auto first_cpu = is_first.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* first_p = first_cpu.data_ptr<float>();
  auto any_reset = [&](int64_t t) {
    return t > 0 && std::any_of(first_p + t * B, first_p + (t + 1) * B, [](float f) { return f != 0.0f; });
  };
  RssmState s = initial(B);
  std::vector<torch::Tensor> pd, ps, pst, qd, qs, qst;
  for (int64_t t = 0; t < T; ++t) {
    torch::Tensor deter = s.deter, stoch = s.stoch;
    if (any_reset(t)) deter = deter * keep[t], stoch = stoch * keep[t];
    auto prior = prior_from(w, deter, stoch, act_parts[t], next_noise(t, 0));
    auto post = posterior_from(w, prior.deter, emb_parts[t], next_noise(t, 1));
    pd.push_back(prior.deter), ps.push_back(prior.stoch), pst.push_back(prior.stats);
    qd.push_back(post.deter), qs.push_back(post.stoch), qst.push_back(post.stats);
    s = std::move(post);
  }
  return {RssmState{torch::stack(qd), torch::stack(qs), torch::stack(qst)},
          RssmState{torch::stack(pd), torch::stack(ps), torch::stack(pst)}};
}

torch::Tensor RssmImpl::feat(const RssmState& s) { return torch::cat({s.deter, s.stoch}, -1); }
RssmImpl::Heads RssmImpl::heads(const torch::Tensor& f) {
  const int64_t H = a_.hidden;
  const auto w = torch::cat({dec0->weight, rew0->weight, cost0->weight, cont0->weight});
  const auto b = torch::cat({dec0->bias, rew0->bias, cost0->bias, cont0->bias});
  const auto hid = torch::silu(torch::nn::functional::linear(f, w, b));
  auto part = [&](int i) { return hid.narrow(-1, i * H, H); };
  return {dec1->forward(part(0)), rew1->forward(part(1)).squeeze(-1), cost1->forward(part(2)),
          torch::sigmoid(cont1->forward(part(3))).squeeze(-1)};
}

torch::Tensor RssmImpl::kl(const torch::Tensor& q, const torch::Tensor& p) {
  if (a_.discrete) {
    auto pq = probs(q), pp = probs(p);
    return (pq * (torch::log(pq) - torch::log(pp))).sum({-2, -1});
  }
  auto mq = q.slice(-1, 0, a_.gauss_dim), sq = q.slice(-1, a_.gauss_dim);
  auto mp = p.slice(-1, 0, a_.gauss_dim), sp = p.slice(-1, a_.gauss_dim);
  return (torch::log(sp / sq) + (sq * sq + (mq - mp) * (mq - mp)) / (2 * sp * sp) - 0.5).sum(-1);
}

std::map<std::string, torch::Tensor> RssmImpl::loss(const RssmState& post, const RssmState& prior,
                                                    const torch::Tensor& obs, const torch::Tensor& reward_t,
                                                    const torch::Tensor& cost_t, const torch::Tensor& cont_t,
                                                    const torch::Tensor& mask, double count, const torch::Tensor& denom_in) {
  auto mean = [count](const torch::Tensor& x) { return count > 0 ? x.sum() / count : x.mean(); };
  const auto h = heads(feat(post));
  std::map<std::string, torch::Tensor> out;
  // Reconstruction in symlog space (DreamerV3): robust to features of very different scales.
  out["decoder"] = mean((h.decoded_symlog - symlog(obs)).pow(2).sum(-1));
  const auto denom = denom_in.defined() ? denom_in : mask.sum().clamp_min(1.0);
  out["reward"] = ((h.reward - reward_t).pow(2) * mask).sum() / denom;
  out["cost"] = ((h.cost - cost_t).pow(2).sum(-1) * mask).sum() / denom;
  auto c = h.cont.clamp(1e-6, 1 - 1e-6);
  out["cont"] = (-(cont_t * torch::log(c) + (1 - cont_t) * torch::log(1 - c)) * mask).sum() / denom;
  // KL balancing with free bits: below free_nats nats a term has no gradient (clamped).
  out["dyn"] = mean(kl(post.stats.detach(), prior.stats).clamp_min(a_.free_nats));
  out["rep"] = mean(kl(post.stats, prior.stats.detach()).clamp_min(a_.free_nats));
  return out;
}

torch::Tensor RssmImpl::total_loss(const std::map<std::string, torch::Tensor>& t) const {
  return a_.scale_decoder * t.at("decoder") + a_.scale_reward * t.at("reward") + a_.scale_cost * t.at("cost") +
         a_.scale_cont * t.at("cont") + a_.beta_dyn * t.at("dyn") + a_.beta_rep * t.at("rep");
}

}  // namespace mecllm::rl
