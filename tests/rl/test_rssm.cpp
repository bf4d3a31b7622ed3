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
    auto pred = model->decode(model->feat(next));
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

}  // namespace mecllm::rl
