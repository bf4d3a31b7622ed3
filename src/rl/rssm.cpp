#include "rl/rssm.h"

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

RssmState RssmImpl::dist_state(const torch::Tensor& deter, const torch::Tensor& raw, const torch::Tensor& noise) {
  const int64_t B = deter.size(0);
  if (a_.discrete) {
    auto logits = raw.view({B, a_.groups, a_.classes});
    auto p = probs(logits);
    // Inverse-CDF sampling with Rng uniforms: index = #classes whose cumulative prob < u.
    const auto& u = noise;
    auto idx = (torch::cumsum(p.detach(), -1) < u).sum(-1, /*keepdim=*/true).clamp_max(a_.classes - 1);
    auto onehot = torch::zeros_like(p).scatter_(-1, idx, 1.0);
    auto sample = onehot + p - p.detach();  // straight-through gradient
    return {deter, sample.view({B, a_.groups * a_.classes}), logits};
  }
  auto mean = raw.slice(-1, 0, a_.gauss_dim);
  auto std = torch::softplus(raw.slice(-1, a_.gauss_dim)) + 0.1;
  auto sample = mean + std * noise;
  return {deter, sample, torch::cat({mean, std}, -1)};
}

RssmState RssmImpl::img_step(const RssmState& prev, const torch::Tensor& action, const torch::Tensor& noise) {
  auto x = torch::silu(dynin0->forward(torch::cat({prev.stoch, action}, -1)));
  auto deter = gru->forward(x, prev.deter);
  auto raw = prior1->forward(torch::silu(prior0->forward(deter)));
  return dist_state(deter, raw, noise);
}
RssmState RssmImpl::img_step(const RssmState& prev, const torch::Tensor& action, Rng& rng) {
  return img_step(prev, action, draw_noise(prev.deter.size(0), rng));
}

RssmState RssmImpl::obs_step(const RssmState& prior, const torch::Tensor& obs, const torch::Tensor& noise) {
  auto embed = torch::silu(enc0->forward(symlog(obs)));
  auto raw = post1->forward(torch::silu(post0->forward(torch::cat({prior.deter, embed}, -1))));
  return dist_state(prior.deter, raw, noise);
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

template <class NextNoise>
std::pair<RssmState, RssmState> RssmImpl::observe_impl(const torch::Tensor& obs, const torch::Tensor& prev_action,
                                                       const torch::Tensor& is_first, NextNoise&& next_noise) {
  MECLLM_CHECK(obs.dim() == 3 && obs.size(2) == obs_dim_, "observe: obs [{}]", fmt::join(obs.sizes().vec(), ", "));
  MECLLM_CHECK(prev_action.dim() == 3 && prev_action.size(2) == act_dim_, "observe: action [{}]", fmt::join(prev_action.sizes().vec(), ", "));
  const int64_t T = obs.size(0), B = obs.size(1);
  RssmState s = initial(B);
  std::vector<torch::Tensor> pd, ps, pst, qd, qs, qst;
  for (int64_t t = 0; t < T; ++t) {
    // Episode starts reset the carried state and the previous action to the initial zeros.
    auto keep = (1.0 - is_first[t]).unsqueeze(-1);
    RssmState prev{s.deter * keep, s.stoch * keep, s.stats};
    auto prior = img_step(prev, prev_action[t] * keep, next_noise(t, 0));
    auto post = obs_step(prior, obs[t], next_noise(t, 1));
    pd.push_back(prior.deter), ps.push_back(prior.stoch), pst.push_back(prior.stats);
    qd.push_back(post.deter), qs.push_back(post.stoch), qst.push_back(post.stats);
    s = post;
  }
  return {RssmState{torch::stack(qd), torch::stack(qs), torch::stack(qst)},
          RssmState{torch::stack(pd), torch::stack(ps), torch::stack(pst)}};
}

torch::Tensor RssmImpl::feat(const RssmState& s) { return torch::cat({s.deter, s.stoch}, -1); }
torch::Tensor RssmImpl::decode(const torch::Tensor& f) { return symexp(dec1->forward(torch::silu(dec0->forward(f)))); }
torch::Tensor RssmImpl::reward(const torch::Tensor& f) { return rew1->forward(torch::silu(rew0->forward(f))).squeeze(-1); }
torch::Tensor RssmImpl::cost(const torch::Tensor& f) { return cost1->forward(torch::silu(cost0->forward(f))); }
torch::Tensor RssmImpl::cont(const torch::Tensor& f) {
  return torch::sigmoid(cont1->forward(torch::silu(cont0->forward(f)))).squeeze(-1);
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
  auto f = feat(post);
  std::map<std::string, torch::Tensor> out;
  // Reconstruction in symlog space (DreamerV3): robust to features of very different scales.
  auto dec = dec1->forward(torch::silu(dec0->forward(f)));
  out["decoder"] = mean((dec - symlog(obs)).pow(2).sum(-1));
  const auto denom = denom_in.defined() ? denom_in : mask.sum().clamp_min(1.0);
  out["reward"] = ((reward(f) - reward_t).pow(2) * mask).sum() / denom;
  out["cost"] = ((cost(f) - cost_t).pow(2).sum(-1) * mask).sum() / denom;
  auto c = cont(f).clamp(1e-6, 1 - 1e-6);
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
