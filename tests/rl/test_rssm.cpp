#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "rl/rssm.h"

namespace mecllm::rl {
namespace {

// Deterministic 2-D dynamics: a damped rotation pushed by the action.
//   o_{t+1} = 0.95 R(0.3) o_t + 0.5 (a_t - 0.5) [1, 1]
void make_batch(Rng& rng, int T, int B, torch::Tensor& obs, torch::Tensor& act) {
  obs = torch::zeros({T, B, 2});
  act = torch::zeros({T, B, 1});
  const double c = std::cos(0.3), s = std::sin(0.3);
  for (int b = 0; b < B; ++b) {
    double x = rng.uniform(-1, 1), y = rng.uniform(-1, 1);
    for (int t = 0; t < T; ++t) {
      const double a = rng.uniform();
      obs[t][b][0] = x, obs[t][b][1] = y, act[t][b][0] = a;
      const double nx = 0.95 * (c * x - s * y) + 0.5 * (a - 0.5), ny = 0.95 * (s * x + c * y) + 0.5 * (a - 0.5);
      x = nx, y = ny;
    }
  }
}

torch::Tensor param(Rssm& model, const std::string& name) { return model->named_parameters()[name]; }

// The reference of observe(), written out from the parameters with plain tensor ops as wm-ppo.md
// states the recurrence, one step at a time, the state masked at every reset:
//   h_t = GRU(h_{t-1}, silu(dynin0([z_{t-1}, a_{t-1}]))), prior logits prior1(silu(prior0(h_t))),
//   posterior logits post1(silu(post0([h_t, silu(enc0(symlog o_t))]))),
// each group's class drawn by inverse CDF (unimix probabilities, cumsum < u), straight-through.
std::pair<RssmState, RssmState> observe_step_by_step(Rssm& model, const torch::Tensor& obs, const torch::Tensor& act,
                                                     const torch::Tensor& first, const std::vector<torch::Tensor>& noise) {
  namespace F = torch::nn::functional;
  const auto& a = model->args();
  auto lin = [&](const std::string& l, const torch::Tensor& x) {
    return F::linear(x, param(model, l + ".weight"), param(model, l + ".bias"));
  };
  auto gru = [&](const torch::Tensor& x, const torch::Tensor& h) {
    const auto gi = F::linear(x, param(model, "gru.weight_ih"), param(model, "gru.bias_ih")).chunk(3, -1);
    const auto gh = F::linear(h, param(model, "gru.weight_hh"), param(model, "gru.bias_hh")).chunk(3, -1);
    const auto r = torch::sigmoid(gi[0] + gh[0]), z = torch::sigmoid(gi[1] + gh[1]);
    const auto n = torch::tanh(gi[2] + r * gh[2]);
    return (1 - z) * n + z * h;
  };
  auto sample = [&](const torch::Tensor& raw, const torch::Tensor& u) {
    const auto p = torch::softmax(raw.view({raw.size(0), a.groups, a.classes}), -1) * (1.0 - a.unimix) + a.unimix / a.classes;
    const auto idx = (torch::cumsum(p.detach(), -1) < u).sum(-1, true).clamp_max(a.classes - 1);
    const auto onehot = torch::zeros_like(p).scatter_(-1, idx, 1.0);
    return (onehot + p - p.detach()).flatten(1);
  };
  RssmState s = model->initial(obs.size(1));
  std::vector<torch::Tensor> qd, qs, pd, ps;
  for (int64_t t = 0; t < obs.size(0); ++t) {
    const auto keep = (1.0 - first[t]).unsqueeze(-1);
    const auto h = gru(torch::silu(lin("dynin0", torch::cat({s.stoch * keep, act[t] * keep}, -1))), s.deter * keep);
    const auto prior_z = sample(lin("prior1", torch::silu(lin("prior0", h))), noise[2 * t]);
    const auto embed = torch::silu(lin("enc0", symlog(obs[t])));
    const auto post_z = sample(lin("post1", torch::silu(lin("post0", torch::cat({h, embed}, -1)))), noise[2 * t + 1]);
    pd.push_back(h), ps.push_back(prior_z), qd.push_back(h), qs.push_back(post_z);
    s = {h, post_z, {}};
  }
  return {RssmState{torch::stack(qd), torch::stack(qs), {}}, RssmState{torch::stack(pd), torch::stack(ps), {}}};
}

}  // namespace

// One-step open-loop prediction (posterior at t, prior step with a_t, decode) must reach a mean
// squared error below 10% of the observation variance, and below 60% of the error of the
// persistence forecast o_{t+1} = o_t, after 400 gradient steps (an untrained model sits at about
// the variance). The prior's sampled latent limits it: free bits let the posterior carry up to 1
// nat that the prior need not predict.
TEST(Rssm, learns_small_deterministic_dynamics) {
  torch::manual_seed(0);
  torch::set_num_threads(1);
  RssmArgs a;
  a.deter = 32, a.hidden = 64, a.groups = 4, a.classes = 4;
  Rssm model(2, 1, 3, a);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
  Rng rng(1);
  const int T = 12, B = 16;
  for (int it = 0; it < 400; ++it) {
    torch::Tensor obs, act;
    make_batch(rng, T, B, obs, act);
    auto prev = torch::zeros_like(act);
    prev.slice(0, 1, T).copy_(act.slice(0, 0, T - 1));
    auto first = torch::zeros({T, B});
    first[0].fill_(1);
    auto [post, prior] = model->observe(obs, prev, first, rng);
    auto terms = model->loss(post, prior, obs, torch::zeros({T, B}), torch::zeros({T, B, 3}), torch::ones({T, B}), 1 - first);
    auto loss = model->total_loss(terms);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard ng;
  torch::Tensor obs, act;
  make_batch(rng, T, 64, obs, act);
  auto prev = torch::zeros_like(act);
  prev.slice(0, 1, T).copy_(act.slice(0, 0, T - 1));
  auto first = torch::zeros({T, 64});
  first[0].fill_(1);
  auto [post, prior] = model->observe(obs, prev, first, rng);
  double se = 0, se_persist = 0;
  int n = 0;
  for (int t = 2; t < T - 1; ++t) {
    RssmState s{post.deter[t], post.stoch[t], post.stats[t]};
    auto next = model->img_step(s, act[t], rng);
    auto pred = model->heads(model->feat(next)).decoded();
    se += (pred - obs[t + 1]).pow(2).mean().item<double>();
    se_persist += (obs[t] - obs[t + 1]).pow(2).mean().item<double>();
    ++n;
  }
  const double mse = se / n, var = obs.var().item<double>();
  EXPECT_LT(mse, 0.10 * var) << "mse " << mse << " var " << var;
  EXPECT_LT(mse, 0.6 * se_persist / n) << "mse " << mse << " persistence " << se_persist / n;
}

TEST(Rssm, kl_free_bits_hold) {
  torch::manual_seed(0);
  RssmArgs a;
  a.deter = 8, a.hidden = 8, a.groups = 2, a.classes = 3, a.free_nats = 1.0;
  Rssm model(2, 1, 3, a);
  Rng rng(2);
  // Identical posterior and prior: KL 0, so both terms sit at the free-bits floor, no gradient.
  auto stats = torch::randn({4, 5, 2, 3}).requires_grad_(true);
  RssmState s{torch::zeros({4, 5, 8}), torch::zeros({4, 5, 6}), stats};
  auto terms = model->loss(s, s, torch::zeros({4, 5, 2}), torch::zeros({4, 5}), torch::zeros({4, 5, 3}),
                           torch::ones({4, 5}), torch::ones({4, 5}));
  EXPECT_NEAR(terms["dyn"].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(terms["rep"].item<double>(), 1.0, 1e-6);
  (terms["dyn"] + terms["rep"]).backward();
  EXPECT_NEAR(stats.grad().abs().sum().item<double>(), 0.0, 1e-9);
  // Far-apart distributions: the KL exceeds the floor and is reported as is.
  auto q = torch::zeros({1, 2, 3});
  auto p = torch::tensor({10.0f, -10.0f, -10.0f}).repeat({1, 2, 1});
  EXPECT_GT(model->kl(q, p).item<double>(), 1.0);
  // The Gaussian switch obeys the same floor.
  RssmArgs g = a;
  g.discrete = false, g.gauss_dim = 3;
  Rssm gm(2, 1, 3, g);
  auto gs = torch::cat({torch::zeros({4, 5, 3}), torch::ones({4, 5, 3})}, -1);
  RssmState s2{torch::zeros({4, 5, 8}), torch::zeros({4, 5, 3}), gs};
  auto t2 = gm->loss(s2, s2, torch::zeros({4, 5, 2}), torch::zeros({4, 5}), torch::zeros({4, 5, 3}), torch::ones({4, 5}),
                     torch::ones({4, 5}));
  EXPECT_NEAR(t2["dyn"].item<double>(), 1.0, 1e-6);
}

// observe() splits two layers' weights by input columns, takes the state-free parts out of its
// loop and samples on raw floats; it must compute the same states and draws as the recurrence
// written out with plain tensor ops, including mid-sequence resets, and the same gradients.
TEST(Rssm, observe_equals_the_step_by_step_recurrence_with_resets) {
  torch::manual_seed(3);
  RssmArgs a;
  a.deter = 16, a.hidden = 24, a.groups = 3, a.classes = 5;
  Rssm model(4, 2, 3, a);
  Rng rng(7);
  const int64_t T = 9, B = 6;
  auto obs = torch::randn({T, B, 4}) * 3, act = torch::rand({T, B, 2});
  auto first = torch::zeros({T, B});
  first[0].fill_(1);
  first[4][1] = 1, first[4][5] = 1, first[7][0] = 1;  // episodes restarting inside the sequence
  std::vector<torch::Tensor> noise;
  for (int64_t i = 0; i < 2 * T; ++i) noise.push_back(model->draw_noise(B, rng));

  auto grads_of = [&](const std::pair<RssmState, RssmState>& r) {
    model->zero_grad();
    (r.first.deter.pow(2).sum() + r.second.deter.sum() + (r.first.stoch * r.second.stoch).sum() +
     r.first.stoch.sum())
        .backward();
    std::vector<torch::Tensor> g;
    for (auto& p : model->parameters()) g.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    return g;
  };
  const auto fast = model->observe(obs, act, first, noise);
  const auto ref = observe_step_by_step(model, obs, act, first, noise);
  EXPECT_TRUE(torch::allclose(fast.first.deter, ref.first.deter, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fast.second.deter, ref.second.deter, 1e-5, 1e-6));
  // Same categorical draws (the straight-through sample is one-hot + p - p, equal up to rounding).
  EXPECT_TRUE(torch::allclose(fast.first.stoch, ref.first.stoch, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fast.second.stoch, ref.second.stoch, 1e-5, 1e-6));
  const auto g_fast = grads_of(fast), g_ref = grads_of(ref);
  ASSERT_EQ(g_fast.size(), g_ref.size());
  for (size_t i = 0; i < g_fast.size(); ++i)
    EXPECT_TRUE(torch::allclose(g_fast[i], g_ref[i], 1e-4, 1e-5)) << "parameter " << i;
  // A reset really restarts the state: the row restarted at t = 4 does not depend on its past
  // (the past reaches later steps only through the sampled latents, hence the large change).
  auto obs2 = obs.clone();
  obs2.slice(0, 0, 4).select(1, 1).copy_(torch::randn({4, 4}) * 100);  // row 1 restarts at t = 4
  obs2.slice(0, 0, 4).select(1, 2).copy_(torch::randn({4, 4}) * 100);  // row 2 does not
  const auto other = model->observe(obs2, act, first, noise);
  EXPECT_TRUE(torch::allclose(other.first.deter.slice(0, 4).select(1, 1), fast.first.deter.slice(0, 4).select(1, 1)));
  EXPECT_FALSE(torch::allclose(other.first.deter.slice(0, 4).select(1, 2), fast.first.deter.slice(0, 4).select(1, 2)));
}

// heads() runs the four first layers as one product; each output equals its own two-layer MLP.
TEST(Rssm, heads_equal_their_separate_layers) {
  torch::manual_seed(4);
  RssmArgs a;
  a.deter = 8, a.hidden = 12, a.groups = 2, a.classes = 3;
  Rssm model(5, 1, 3, a);
  auto f = torch::randn({7, 8 + 6});
  auto mlp = [&](const std::string& l0, const std::string& l1) {
    auto h = torch::silu(torch::nn::functional::linear(f, param(model, l0 + ".weight"), param(model, l0 + ".bias")));
    return torch::nn::functional::linear(h, param(model, l1 + ".weight"), param(model, l1 + ".bias"));
  };
  torch::NoGradGuard ng;
  const auto h = model->heads(f);
  EXPECT_TRUE(torch::allclose(h.decoded_symlog, mlp("dec0", "dec1"), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(h.decoded(), symexp(mlp("dec0", "dec1")), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(h.reward, mlp("rew0", "rew1").squeeze(-1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(h.cost, mlp("cost0", "cost1"), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(h.cont, torch::sigmoid(mlp("cont0", "cont1")).squeeze(-1), 1e-5, 1e-6));
}

}  // namespace mecllm::rl
