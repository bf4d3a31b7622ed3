// The PPO optimisation phase (CleanRL's "Optimizing the policy and value network" block).
//
// Hot-path choices, none of which changes the algorithm: the critic's inputs and targets are
// packed in one (B, ...) tensor gathered once per epoch in the shuffled order (each minibatch is
// then a row range of it), the actor's inputs in a second packed tensor gathered once per
// minibatch for its decision samples; the entropy of the state-independent Gaussian is read off
// log_std without tensor ops when it is only logged (ent_coef 0); the advantage normalisation
// and the surrogate use unmasked means over the gathered samples (the mask was all ones).
#include "rl/ppo_update.h"


#include <algorithm>
#include <cmath>
#include <tuple>

#include "common/clock.h"

namespace mecllm::rl {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

// Waits for the worker's task when the minibatch is left by an exception (its task refers to
// this scope's tensors).
struct WaitOnExit {
  Worker* w;
  ~WaitOnExit() {
    if (w) try {
        w->wait();
      } catch (...) {
      }
  }
};

// Clipped surrogate over P gathered samples with per-batch advantage normalisation; returns
// {loss, logratio, ratio}.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> clipped_pg(const PpoArgs& args, const torch::Tensor& newlogprob,
                                                                   const torch::Tensor& oldlogprob, torch::Tensor adv) {
  const int64_t P = adv.size(0);
  if (args.norm_adv) {
    auto mean = adv.sum() / static_cast<double>(std::max<int64_t>(1, P));
    auto var = (adv - mean).pow(2).sum() / static_cast<double>(std::max<int64_t>(1, P - 1));
    adv = (adv - mean) / (var.sqrt() + 1e-8);
  }
  auto logratio = newlogprob - oldlogprob;
  auto ratio = logratio.exp();
  auto pg1 = -adv * ratio;
  auto pg2 = -adv * torch::clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef);
  return {torch::max(pg1, pg2).mean(), logratio, ratio};
}

}  // namespace

UpdateStats ppo_update(const PpoArgs& args, const WmArgs& wm, Agent& agent, FlatAdam& optimizer,
                       const UpdateBatch& b, Rng& rng, Worker* worker) {
  UpdateStats s;
  const int64_t B = b.obs.size(0), D = b.obs.size(1), K = b.us.size(1), uc = b.used_channels;
  const int64_t mbs = args.minibatch_size;
  // Packed per-sample data: actor [obs | u | logprob | adv], critic [obs | returns | values].
  const auto actor_pack = torch::cat({b.obs, b.us, b.logprobs.unsqueeze(1), b.advantages.unsqueeze(1)}, 1);
  const auto critic_pack = torch::cat({b.obs, b.returns.slice(1, 0, uc), b.values.slice(1, 0, uc)}, 1);
  const ImaginedBatch* im = b.imagined;
  const int64_t M = im ? im->size() : 0;
  const int64_t img_mb = M / args.num_minibatches;
  std::vector<int64_t> perm(static_cast<size_t>(B)), img_perm(static_cast<size_t>(M)), act_perm;
  act_perm.reserve(static_cast<size_t>(mbs));
  auto shuffle = [&](std::vector<int64_t>& p) {
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int64_t>(i);
    for (size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  };
  const bool split = worker != nullptr && mbs >= 2;
  const int64_t half = mbs / 2;
  std::vector<torch::Tensor> critic_params;
  for (auto& l : agent->critic_layers) critic_params.push_back(l->weight), critic_params.push_back(l->bias);
  critic_params.push_back(agent->critic_out->weight);
  critic_params.push_back(agent->critic_out->bias);
  // Value loss of a row range of the minibatch: 0.5 * (sum over its rows and channels) / (mbs * uc),
  // so the two halves add up to the minibatch's mean.
  auto value_loss_rows = [&](const torch::Tensor& rows) {
    auto newvalue = agent->value(rows.narrow(1, 0, D)).slice(1, 0, uc);
    auto mb_returns = rows.narrow(1, D, uc);
    auto mb_values = rows.narrow(1, D + uc, uc);
    torch::Tensor l = (newvalue - mb_returns).pow(2);
    if (args.clip_vloss) {
      auto v_clipped = mb_values + torch::clamp(newvalue - mb_values, -args.clip_coef, args.clip_coef);
      l = torch::max(l, (v_clipped - mb_returns).pow(2));
    }
    return l.sum() * (0.5 / static_cast<double>(mbs * uc));
  };
  double approx_kl = 0;
  bool stop = false;
  for (int epoch = 0; epoch < args.update_epochs && !stop; ++epoch) {
    shuffle(perm);
    if (M > 0) shuffle(img_perm);
    auto t0 = SteadyClock::now();
    const auto epoch_critic = critic_pack.index_select(0, torch::from_blob(perm.data(), {B}, torch::kInt64));
    s.forward_s += seconds_since(t0);
    for (int64_t start = 0, mbi = 0; start + mbs <= B; start += mbs, ++mbi) {
      t0 = SteadyClock::now();
      // The entropy of the state-independent Gaussian on u, read off log_std.
      double entropy = 0;
      {
        const auto ls = agent->actor_logstd.detach();
        const float* lp = ls.data_ptr<float>();
        for (int64_t k = 0; k < ls.numel(); ++k) entropy += lp[k] + 0.5 + 0.5 * kLog2Pi;
      }
      // The worker starts on the second half of the critic rows right away.
      auto mb = epoch_critic.narrow(0, start, mbs);
      torch::Tensor v_loss_worker;
      std::vector<torch::Tensor> worker_grads;
      WaitOnExit guard{split ? worker : nullptr};
      if (split) {
        worker->run([&] {
          v_loss_worker = value_loss_rows(mb.narrow(0, half, mbs - half));
          worker_grads = torch::autograd::grad({args.vf_coef * v_loss_worker}, critic_params);
        });
      }
      act_perm.clear();
      for (int64_t k = start; k < start + mbs; ++k)
        if (!args.mask_inactive || b.active[perm[k]] > 0) act_perm.push_back(perm[k]);
      const int64_t P = static_cast<int64_t>(act_perm.size());
      torch::Tensor loss;
      double pg_value = 0;
      if (P > 0) {
        auto pack = actor_pack.index_select(0, torch::from_blob(act_perm.data(), {P}, torch::kInt64));
        auto newmu = agent->mean(pack.narrow(1, 0, D));
        auto newlogprob = agent->log_prob(newmu, pack.narrow(1, D, K));
        auto [pg, logratio, ratio] = clipped_pg(args, newlogprob, pack.select(1, D + K), pack.select(1, D + K + 1));
        loss = pg;
        pg_value = pg.item<double>();
        torch::NoGradGuard ng;
        // http://joschu.net/blog/kl-approx.html
        approx_kl = ((ratio - 1) - logratio).mean().item<double>();
        s.kl_sum += approx_kl;
        s.clip_sum += ((ratio - 1.0).abs() > args.clip_coef).to(torch::kFloat32).mean().item<double>();
      }
      // Value loss over the channels in use (reward; plus costs when constrained).
      torch::Tensor v_loss;
      if (split) {
        v_loss = value_loss_rows(mb.narrow(0, 0, half));
      } else {
        auto newvalue = agent->value(mb.narrow(1, 0, D)).slice(1, 0, uc);
        auto mb_returns = mb.narrow(1, D, uc);
        auto mb_values = mb.narrow(1, D + uc, uc);
        if (args.clip_vloss) {
          auto v_loss_unclipped = (newvalue - mb_returns).pow(2);
          auto v_clipped = mb_values + torch::clamp(newvalue - mb_values, -args.clip_coef, args.clip_coef);
          auto v_loss_clipped = (v_clipped - mb_returns).pow(2);
          v_loss = 0.5 * torch::max(v_loss_unclipped, v_loss_clipped).mean();
        } else {
          v_loss = 0.5 * (newvalue - mb_returns).pow(2).mean();
        }
      }
      loss = loss.defined() ? loss + args.vf_coef * v_loss : args.vf_coef * v_loss;
      if (args.ent_coef != 0) loss = loss - args.ent_coef * agent->entropy();
      if (img_mb > 0 && mbi < args.num_minibatches) {
        // Imagined samples: same clipped surrogate with the behaviour log-probs recorded at
        // imagination time, weighted by eta.
        auto im_inds = torch::from_blob(img_perm.data() + mbi * img_mb, {img_mb}, torch::kInt64);
        auto im_mu = agent->mean(im->obs.index_select(0, im_inds));
        auto im_lp = agent->log_prob(im_mu, im->u.index_select(0, im_inds));
        auto [img_pg, img_lr, img_ratio] =
            clipped_pg(args, im_lp, im->logprobs.index_select(0, im_inds), im->adv.index_select(0, im_inds));
        loss = loss + wm.img_weight * img_pg;
        s.img_sum += img_pg.item<double>();
      }
      s.forward_s += seconds_since(t0);
      t0 = SteadyClock::now();
      optimizer.zero_grad();
      loss.backward();
      double v_value = v_loss.item<double>();
      if (split) {
        guard.w = nullptr;
        worker->wait();
        torch::NoGradGuard ng;
        for (size_t i = 0; i < critic_params.size(); ++i) critic_params[i].mutable_grad().add_(worker_grads[i]);
        v_value += v_loss_worker.item<double>();
      }
      s.backward_s += seconds_since(t0);
      // a non-finite loss would write NaN into every weight and the policy saved at the end
      if (!std::isfinite(pg_value) || !std::isfinite(v_value)) {
        throw InputError(fmt::format("PPO update diverged: policy loss {}, value loss {} (epoch {}); lower "
                                     "rl.ppo.learning_rate or rl.ppo.init_log_std", pg_value, v_value, epoch + 1));
      }
      t0 = SteadyClock::now();
      optimizer.clip_grad_norm(args.max_grad_norm);
      optimizer.step();
      s.optim_s += seconds_since(t0);
      s.pg_sum += pg_value;
      s.v_sum += v_value;
      s.ent_sum += entropy;
      ++s.n_mb;
    }
    if (args.target_kl > 0 && approx_kl > args.target_kl) stop = true;
  }
  return s;
}

}  // namespace mecllm::rl
