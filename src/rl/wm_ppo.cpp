// WM-PPO: model training on recent rollouts, model value expansion (Feinberg et al. 2018) and
// short imagined rollouts branched from real posterior states (wm-ppo.md, "How the model helps").
#include "rl/wm_ppo.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"

namespace mecllm::rl {
namespace {
constexpr double kLog2Pi = 1.8378770664093453;

torch::Tensor normal_tensor(std::vector<int64_t> shape, Rng& rng) {
  auto t = torch::empty(shape, torch::kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.normal());
  return t;
}

RssmState index_state(const RssmState& s, const torch::Tensor& idx) {
  return {s.deter.index_select(0, idx), s.stoch.index_select(0, idx), s.stats.index_select(0, idx)};
}

RssmState flatten_state(const RssmState& s) {
  const int64_t n = s.deter.size(0) * s.deter.size(1);
  auto flat = [n](const torch::Tensor& t) {
    auto sizes = t.sizes().vec();
    sizes.erase(sizes.begin());
    sizes[0] = n;
    return t.reshape(sizes);
  };
  return {flat(s.deter), flat(s.stoch), flat(s.stats)};
}
}  // namespace

WorldModel::WorldModel(int obs_dim, int act_dim, int num_costs, const RlConfig& cfg)
    : cfg_(cfg), obs_dim_(obs_dim), act_dim_(act_dim), num_costs_(num_costs) {
  rssm_ = Rssm(obs_dim, act_dim, num_costs, cfg.rssm);
  opt_ = std::make_unique<FlatAdam>(rssm_->parameters(), cfg.rssm.lr, 1e-8);
}

void WorldModel::add_rollout(ModelRollout r) {
  for (auto* t : {&r.obs, &r.act, &r.rew, &r.cost, &r.cont, &r.first}) *t = t->contiguous();
  buffer_.push_back(std::move(r));
  while (static_cast<int>(buffer_.size()) > cfg_.rssm.buffer_rollouts) buffer_.pop_front();
}

std::map<std::string, double> WorldModel::train(Rng& rng, Worker* worker) {
  std::map<std::string, double> sums;
  const auto& ra = cfg_.rssm;
  const int64_t L = ra.seq_len;
  const int64_t Bs = ra.batch, D = obs_dim_, K = act_dim_, C = num_costs_;
  for (int s = 0; s < ra.train_steps; ++s) {
    // Sample `batch` sequences: index i holds o_{t+i}, a_{t+i-1} and the transition into o_{t+i}.
    // Copied straight from the contiguous rollout tensors (T, A, ...) into (L, batch, ...).
    auto obs = torch::empty({L, Bs, D}), prev_act = torch::empty({L, Bs, K}), rew = torch::empty({L, Bs});
    auto cost = torch::empty({L, Bs, C}), cont = torch::empty({L, Bs}), first = torch::empty({L, Bs});
    float *o_p = obs.data_ptr<float>(), *pa_p = prev_act.data_ptr<float>(), *r_p = rew.data_ptr<float>();
    float *c_p = cost.data_ptr<float>(), *k_p = cont.data_ptr<float>(), *f_p = first.data_ptr<float>();
    for (int64_t b = 0; b < Bs; ++b) {
      const auto& ro = buffer_[rng.below(buffer_.size())];
      const int64_t T = ro.obs.size(0), A = ro.obs.size(1);
      MECLLM_CHECK(T > L, "rollout of {} steps is too short for sequences of {}", T, L);
      const int64_t a = static_cast<int64_t>(rng.below(static_cast<uint64_t>(A)));
      const int64_t t = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(T - L)));
      const float *ro_o = ro.obs.data_ptr<float>(), *ro_a = ro.act.data_ptr<float>(), *ro_r = ro.rew.data_ptr<float>();
      const float *ro_c = ro.cost.data_ptr<float>(), *ro_k = ro.cont.data_ptr<float>(), *ro_f = ro.first.data_ptr<float>();
      for (int64_t i = 0; i < L; ++i) {
        const int64_t src = (t + i) * A + a, prev = (t - 1 + i) * A + a, dst = i * Bs + b;
        std::copy_n(ro_o + src * D, D, o_p + dst * D);
        std::copy_n(ro_a + prev * K, K, pa_p + dst * K);
        r_p[dst] = ro_r[prev];
        std::copy_n(ro_c + prev * C, C, c_p + dst * C);
        k_p[dst] = ro_k[prev];
        f_p[dst] = i == 0 ? 1.0f : ro_f[src];  // every sequence starts from the initial state
      }
    }
    auto mask = 1.0 - first;  // no incoming transition at an episode (or sequence) start
    std::map<std::string, torch::Tensor> terms;
    torch::Tensor loss;
    if (!worker || Bs < 2) {
      auto [post, prior] = rssm_->observe(obs, prev_act, first, rng);
      terms = rssm_->loss(post, prior, obs, rew, cost, cont, mask);
      loss = rssm_->total_loss(terms);
      opt_->zero_grad();
      loss.backward();
    } else {
      // The noise observe() would draw for the whole batch, in its order.
      std::vector<torch::Tensor> noise;
      for (int64_t i = 0; i < L; ++i) {
        noise.push_back(rssm_->draw_noise(Bs, rng));
        noise.push_back(rssm_->draw_noise(Bs, rng));
      }
      const double count = static_cast<double>(L * Bs);
      const auto denom = mask.sum().clamp_min(1.0);
      auto part = [&](int64_t b0, int64_t b1) {
        const int64_t m = b1 - b0;
        std::vector<torch::Tensor> nz;
        for (const auto& n : noise) nz.push_back(n.narrow(0, b0, m));
        auto [post, prior] = rssm_->observe(obs.narrow(1, b0, m), prev_act.narrow(1, b0, m), first.narrow(1, b0, m), nz);
        return rssm_->loss(post, prior, obs.narrow(1, b0, m), rew.narrow(1, b0, m), cost.narrow(1, b0, m),
                           cont.narrow(1, b0, m), mask.narrow(1, b0, m), count, denom);
      };
      const int64_t half = Bs / 2;
      auto params = rssm_->parameters();
      std::map<std::string, torch::Tensor> hi;
      torch::Tensor loss_hi;
      std::vector<torch::Tensor> grads_hi;
      opt_->zero_grad();
      run_pair(
          worker,
          [&] {
            terms = part(0, half);
            loss = rssm_->total_loss(terms);
            loss.backward();
          },
          [&] {
            hi = part(half, Bs);
            loss_hi = rssm_->total_loss(hi);
            grads_hi = torch::autograd::grad({loss_hi}, params, {}, c10::nullopt, false, /*allow_unused=*/true);
          });
      torch::NoGradGuard ng;
      for (size_t i = 0; i < params.size(); ++i)
        if (grads_hi[i].defined()) params[i].mutable_grad().add_(grads_hi[i]);
      for (auto& [name, v] : terms) v = v + hi.at(name);
      loss = loss + loss_hi;
    }
    opt_->clip_grad_norm(ra.grad_clip);
    opt_->step();
    for (const auto& [name, v] : terms) sums[name] += v.item<double>();
    sums["total"] += loss.item<double>();
    // Relative reward error, the gate of the model-based targets.
    {
      torch::NoGradGuard ng;
      auto msum = mask.sum().clamp_min(1.0);
      auto mean = (rew * mask).sum() / msum;
      auto var = ((rew - mean).pow(2) * mask).sum() / msum;
      double rel = terms.at("reward").item<double>() / std::max(1e-8, var.item<double>());
      reward_error_ = trained_ == 0 && s == 0 ? rel : 0.9 * reward_error_ + 0.1 * rel;
    }
  }
  if (ra.train_steps > 0) {
    for (auto& [name, v] : sums) v /= ra.train_steps;
    ++trained_;
  }
  return sums;
}

bool WorldModel::warm() const { return trained_ > cfg_.wm.warmup_iterations; }
bool WorldModel::gate_open() const { return warm() && reward_error_ < cfg_.wm.gate_error; }

RssmState WorldModel::observe_rollout(const ModelRollout& r, Rng& rng, Worker* worker) {
  const int64_t T = r.obs.size(0), A = r.obs.size(1);
  auto prev_act = torch::zeros_like(r.act);
  prev_act.slice(0, 1, T).copy_(r.act.slice(0, 0, T - 1));
  auto first = r.first.clone();
  first[0].fill_(1.0);
  if (!worker || A < 2) {
    auto [post, prior] = rssm_->observe(r.obs, prev_act, first, rng);
    return flatten_state(post);
  }
  // The noise observe() would draw, in its order (per step: prior, then posterior), for all users.
  std::vector<torch::Tensor> noise;
  for (int64_t t = 0; t < T; ++t) {
    noise.push_back(rssm_->draw_noise(A, rng));
    noise.push_back(rssm_->draw_noise(A, rng));
  }
  auto users = [&](int64_t a0, int64_t a1) {
    torch::NoGradGuard ng;  // the worker thread's grad mode is its own
    std::vector<torch::Tensor> nz;
    for (const auto& n : noise) nz.push_back(n.narrow(0, a0, a1 - a0));
    return rssm_->observe(r.obs.narrow(1, a0, a1 - a0), prev_act.narrow(1, a0, a1 - a0), first.narrow(1, a0, a1 - a0), nz)
        .first;
  };
  const int64_t half = A / 2;
  RssmState lo, hi;
  run_pair(worker, [&] { lo = users(0, half); }, [&] { hi = users(half, A); });
  RssmState post{torch::cat({lo.deter, hi.deter}, 1), torch::cat({lo.stoch, hi.stoch}, 1),
                 torch::cat({lo.stats, hi.stats}, 1)};
  return flatten_state(post);
}

torch::Tensor WorldModel::mve_targets(const RssmState& post, const torch::Tensor& obs_flat, Agent& agent, Rng& rng,
                                      Worker* worker) {
  const double gamma = cfg_.ppo.gamma, clip = cfg_.ppo.obs_clip;
  const int64_t n = obs_flat.size(0), H = cfg_.wm.mve_horizon;
  // The random numbers of the H steps, drawn in the order the steps use them (policy, then model).
  std::vector<torch::Tensor> eps, noise;
  for (int64_t i = 0; i < H; ++i) {
    eps.push_back(normal_tensor({n, act_dim_}, rng));
    noise.push_back(rssm_->draw_noise(n, rng));
  }
  auto std = torch::exp(agent->actor_logstd.detach());
  auto rows = [&](int64_t r0, int64_t r1) {
    torch::NoGradGuard ng;  // the worker thread's grad mode is its own
    const int64_t m = r1 - r0;
    RssmState s{post.deter.narrow(0, r0, m), post.stoch.narrow(0, r0, m), post.stats.narrow(0, r0, m)};
    auto ob = obs_flat.narrow(0, r0, m);
    auto ret = torch::zeros({m});
    auto disc = torch::ones({m});
    for (int64_t i = 0; i < H; ++i) {
      auto u = agent->mean(ob) + std * eps[i].narrow(0, r0, m);
      s = rssm_->img_step(s, torch::sigmoid(u), noise[i].narrow(0, r0, m));
      const auto h = rssm_->heads(rssm_->feat(s));
      ret = ret + disc * h.reward;
      disc = disc * gamma * h.cont;
      ob = h.decoded().clamp(-clip, clip);
    }
    return ret + disc * agent->value(ob).select(1, 0);
  };
  if (!worker || n < 2) return rows(0, n);
  const int64_t half = n / 2;
  torch::Tensor lo, hi;
  run_pair(worker, [&] { lo = rows(0, half); }, [&] { hi = rows(half, n); });
  return torch::cat({lo, hi});
}

ImaginedBatch WorldModel::imagine(const RssmState& post, const torch::Tensor& obs_flat, Agent& agent,
                                  const std::vector<double>& lambdas, std::vector<int64_t> pick, int64_t count,
                                  Rng& rng) {
  const int64_t N = static_cast<int64_t>(pick.size()), H = cfg_.wm.img_horizon, C = num_costs_;
  const double gamma = cfg_.ppo.gamma, lam = cfg_.ppo.gae_lambda, clip = cfg_.ppo.obs_clip;
  const bool constrained = cfg_.constrained();
  // Branch points without replacement (partial Fisher-Yates with the project Rng).
  count = std::min(count, N);
  for (int64_t i = 0; i < count; ++i) std::swap(pick[i], pick[i + rng.below(static_cast<uint64_t>(N - i))]);
  auto idx = torch::from_blob(pick.data(), {count}, torch::kInt64).clone();
  RssmState s = index_state(post, idx);
  auto ob = obs_flat.index_select(0, idx);
  auto std = torch::exp(agent->actor_logstd.detach());
  std::vector<torch::Tensor> obs_l, u_l, lp_l, val_l, rew_l, cont_l;
  for (int64_t i = 0; i < H; ++i) {
    auto mu = agent->mean(ob);
    auto u = mu + std * normal_tensor({count, act_dim_}, rng);
    obs_l.push_back(ob);
    u_l.push_back(u);
    lp_l.push_back(agent->log_prob(mu, u));  // behaviour log-prob, recorded now
    val_l.push_back(agent->value(ob));       // (count, 1 + C)
    s = rssm_->img_step(s, torch::sigmoid(u), rng);
    const auto h = rssm_->heads(rssm_->feat(s));
    rew_l.push_back(torch::cat({h.reward.unsqueeze(1), h.cost}, 1));  // (count, 1 + C)
    cont_l.push_back(h.cont);
    ob = h.decoded().clamp(-clip, clip);
  }
  auto next_v = agent->value(ob);
  // GAE over the imagined steps, every channel at once: (count, 1 + C).
  std::vector<torch::Tensor> adv_l(static_cast<size_t>(H));
  auto last = torch::zeros({count, 1 + C});
  for (int64_t i = H; i-- > 0;) {
    auto nv = i + 1 == H ? next_v : val_l[i + 1];
    auto nc = cont_l[i].unsqueeze(1);
    auto delta = rew_l[i] + gamma * nc * nv - val_l[i];
    last = delta + gamma * lam * nc * last;
    adv_l[i] = last;
  }
  auto adv = torch::stack(adv_l, 0).reshape({H * count, 1 + C});
  torch::Tensor combined = adv.select(1, 0);
  if (constrained) {
    double lam_sum = 0;
    for (int64_t c = 0; c < C; ++c) {
      combined = combined - lambdas[c] * adv.select(1, c + 1);
      lam_sum += lambdas[c];
    }
    combined = combined / (1.0 + lam_sum);
  }
  ImaginedBatch b;
  b.obs = torch::stack(obs_l, 0).reshape({H * count, obs_dim_});
  b.u = torch::stack(u_l, 0).reshape({H * count, act_dim_});
  b.logprobs = torch::stack(lp_l, 0).reshape({H * count});
  b.adv = combined.contiguous();
  return b;
}

void WorldModel::save(torch::serialize::OutputArchive& ar) const {
  torch::serialize::OutputArchive m, o;
  rssm_->save(m);
  opt_->save(o);
  ar.write("rssm", m);
  ar.write("optim", o);
  ar.write("reward_error", torch::tensor({reward_error_}, torch::kFloat64));
  ar.write("trained", torch::tensor({static_cast<int64_t>(trained_)}, torch::kInt64));
  ar.write("buffer_size", torch::tensor({static_cast<int64_t>(buffer_.size())}, torch::kInt64));
  for (size_t i = 0; i < buffer_.size(); ++i) {
    const auto& r = buffer_[i];
    const std::string p = "buffer" + std::to_string(i) + "_";
    ar.write(p + "obs", r.obs);
    ar.write(p + "act", r.act);
    ar.write(p + "rew", r.rew);
    ar.write(p + "cost", r.cost);
    ar.write(p + "cont", r.cont);
    ar.write(p + "first", r.first);
  }
}

void WorldModel::load(torch::serialize::InputArchive& ar) {
  torch::serialize::InputArchive m, o;
  ar.read("rssm", m);
  rssm_->load(m);
  opt_->rebind();  // load replaced the parameters' storage
  ar.read("optim", o);
  opt_->load(o);
  // A fresh tensor per read: InputArchive::read into a defined tensor keeps its dtype.
  auto read_scalar = [&](const char* key) {
    torch::Tensor t;
    ar.read(key, t);
    return t;
  };
  reward_error_ = read_scalar("reward_error").item<double>();
  trained_ = static_cast<int>(read_scalar("trained").item<int64_t>());
  const int64_t n = read_scalar("buffer_size").item<int64_t>();
  buffer_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const std::string p = "buffer" + std::to_string(i) + "_";
    ModelRollout r;
    ar.read(p + "obs", r.obs);
    ar.read(p + "act", r.act);
    ar.read(p + "rew", r.rew);
    ar.read(p + "cost", r.cost);
    ar.read(p + "cont", r.cont);
    ar.read(p + "first", r.first);
    buffer_.push_back(std::move(r));
  }
}

}  // namespace mecllm::rl
