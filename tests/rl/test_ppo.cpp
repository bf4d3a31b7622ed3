#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "rl/agent.h"
#include "rl/bench_train.h"
#include "rl/exported_policy.h"
#include "rl/ppo.h"
#include "toy_envs.h"

namespace mecllm::rl {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("mecllm_rl_" + name);
  std::filesystem::remove_all(d);
  return d;
}

RlConfig toy_config(const std::string& algo) {
  RlConfig c;
  c.algo = algo;
  c.ppo.num_envs = 4;
  c.ppo.num_steps = 32;
  c.ppo.total_steps = 4 * 32 * 80;
  c.ppo.checkpoint_every = 1000;
  c.lagrange.cost_scale = {1.0, 1.0, 1.0};  // the toy's costs are already O(1)
  return c;
}

double policy_action(const std::filesystem::path& dir, double a, double b) {
  ExportedPolicy p(load_policy(dir));
  std::vector<float> obs{static_cast<float>(a), static_cast<float>(b), 0.0f}, act(1);
  p.act(obs, act);
  return act[0];
}

TrainOptions quiet(const std::filesystem::path& dir, uint64_t seed = 3) {
  TrainOptions o;
  o.out_dir = dir;
  o.seed = seed;
  o.show_progress = false;
  return o;
}

// Everything of metrics.jsonl except the timing fields.
std::string metrics_without_timing(const std::filesystem::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::string line, out;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("charts/SPS");
    j.erase("charts/wall_s");
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace

TEST(Ppo, clipped_surrogate_on_crafted_inputs) {
  auto ratio = torch::tensor({0.5f, 1.5f, 1.0f, 1.5f}).requires_grad_(true);
  auto adv = torch::tensor({1.0f, 1.0f, -1.0f, -1.0f});
  auto loss = clipped_surrogate_loss(ratio, adv, torch::ones({4}), 0.2);
  // max(-A r, -A clip(r)): -0.5, -1.2 (clipped), 1.0, 1.5 -> mean 0.2
  EXPECT_NEAR(loss.item<float>(), 0.2f, 1e-6);
  loss.backward();
  auto g = ratio.grad();
  EXPECT_NEAR(g[0].item<float>(), -0.25f, 1e-6);  // unclipped: -A / 4
  EXPECT_NEAR(g[1].item<float>(), 0.0f, 1e-6);    // clipped: no gradient
  EXPECT_NEAR(g[3].item<float>(), 0.25f, 1e-6);   // pessimistic branch is the unclipped one
  // The mask removes samples from the mean.
  auto masked = clipped_surrogate_loss(torch::tensor({0.5f, 1.5f}), torch::tensor({1.0f, 1.0f}), torch::tensor({1.0f, 0.0f}), 0.2);
  EXPECT_NEAR(masked.item<float>(), -0.5f, 1e-6);
}

// latency max(2(1-x), x) is minimised at x* = 2/3; tolerance 0.05 after 80 short iterations.
TEST(Ppo, finds_closed_form_optimum_of_toy_offloading) {
  set_log_sink(nullptr);
  auto dir = fresh_dir("optimum");
  test::ToyOffloadEnv env(4, 1, 11);
  auto res = train_ppo(toy_config("ppo"), env, quiet(dir));
  EXPECT_TRUE(res.finished);
  EXPECT_NEAR(policy_action(dir, 2, 1), env.optimum(), 0.05);
  EXPECT_TRUE(std::filesystem::exists(dir / "metrics.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "config.yaml"));
}

// A learning rate that blows the weights up must stop the run with a clear error instead of
// finishing and saving a policy of NaNs.
TEST(Ppo, diverging_update_is_an_input_error_not_a_nan_policy) {
  set_log_sink(nullptr);
  auto dir = fresh_dir("diverge");
  test::ToyOffloadEnv env(4, 1, 11);
  RlConfig c = toy_config("ppo");
  c.ppo.total_steps = 4 * 32 * 4;
  c.ppo.learning_rate = 1e30;
  try {
    train_ppo(c, env, quiet(dir));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// Tasks arrive in 30% of the slots: the loss must use the decision samples (the task flags of the
// observation acted on, not of the next slot) and each user's own reward. With a third of the
// samples the exploration noise is still wide at the end, and the latency's slopes are asymmetric
// (2 left of x*, 1 right), so the noisy policy's best median lies right of x*: tolerance 0.1
// (the untrained policy's x = 0.5 is 0.17 away).
TEST(Ppo, finds_the_optimum_when_tasks_are_sparse) {
  set_log_sink(nullptr);
  auto dir = fresh_dir("sparse");
  test::ToyOffloadEnv env(4, 2, 13, 2.0, 1.0, 16, 10.0, /*arrival=*/0.3);
  auto res = train_ppo(toy_config("ppo"), env, quiet(dir));
  EXPECT_TRUE(res.finished);
  EXPECT_NEAR(policy_action(dir, 2, 1), env.optimum(), 0.1);
}

// With an energy budget (1 - x) <= 0.2 the unconstrained optimum 2/3 is infeasible; the energy
// multiplier must rise and push the policy to x >= 0.78 (the constrained optimum is 0.8), with the
// measured average energy cost at most 0.03 over the last iterations and the unviolated
// constraints' multipliers left at 0.
TEST(Ppo, lagrangian_moves_to_the_constrained_optimum) {
  set_log_sink(nullptr);
  auto dir = fresh_dir("lagrange");
  test::ToyOffloadEnv env(4, 1, 12, 2.0, 1.0, 16, 0.2);
  auto cfg = toy_config("ppo-lag");
  cfg.lagrange.lr = 0.2;
  cfg.ppo.anneal_lr = false;
  auto res = train_ppo(cfg, env, quiet(dir));
  const double x = policy_action(dir, 2, 1);
  EXPECT_GT(x, 0.78);
  EXPECT_LT(x, 0.97);
  double tail_cost = 0;
  for (size_t i = res.curve.size() - 10; i < res.curve.size(); ++i) tail_cost += res.curve[i].costs[0] / 10;
  EXPECT_LT(tail_cost, 0.03);
  EXPECT_GT(res.curve.back().lambdas[0], 0.0);
  EXPECT_DOUBLE_EQ(res.curve.back().lambdas[1], 0.0);
  EXPECT_DOUBLE_EQ(res.curve.back().lambdas[2], 0.0);
}

class Resume : public ::testing::TestWithParam<std::string> {};

// "<algo>-w2": the same with rl.ppo.worker_threads = 2 (update, value-expansion and model-training
// splits over a second thread must be deterministic too).
TEST_P(Resume, equals_uninterrupted_run) {
  set_log_sink(nullptr);
  std::string algo = GetParam();
  const bool two_workers = algo.size() > 3 && algo.substr(algo.size() - 3) == "-w2";
  if (two_workers) algo.resize(algo.size() - 3);
  RlConfig cfg = toy_config(algo);
  cfg.ppo.worker_threads = two_workers ? 2 : 1;
  cfg.ppo.num_envs = 2, cfg.ppo.num_steps = 20, cfg.ppo.total_steps = 2 * 20 * 4, cfg.ppo.hidden = 16;
  cfg.ppo.update_epochs = 2;
  cfg.rssm.deter = 16, cfg.rssm.hidden = 16, cfg.rssm.groups = 4, cfg.rssm.classes = 4;
  cfg.rssm.seq_len = 8, cfg.rssm.batch = 4, cfg.rssm.train_steps = 2;
  cfg.wm.warmup_iterations = 0, cfg.wm.gate_error = 1e9;
  cfg.ppo.norm_reward = true;
  auto full = fresh_dir("full_" + GetParam()), part = fresh_dir("part_" + GetParam());
  {
    test::ToyOffloadEnv env(2, 2, 5, 2.0, 1.0, 7, 0.3);
    train_ppo(cfg, env, quiet(full));
  }
  {
    test::ToyOffloadEnv env(2, 2, 5, 2.0, 1.0, 7, 0.3);
    auto o = quiet(part);
    o.stop_after_iterations = 2;
    auto r = train_ppo(cfg, env, o);
    EXPECT_FALSE(r.finished);
    EXPECT_EQ(r.iterations, 2);
  }
  {
    test::ToyOffloadEnv env(2, 2, 999, 2.0, 1.0, 7, 0.3);  // a different seed: state comes from the checkpoint
    auto o = quiet(part);
    o.resume = true;
    auto r = train_ppo(cfg, env, o);
    EXPECT_TRUE(r.finished);
  }
  EXPECT_EQ(read_text_file(full / "policy.json"), read_text_file(part / "policy.json"));
  EXPECT_EQ(metrics_without_timing(full), metrics_without_timing(part));
}
INSTANTIATE_TEST_SUITE_P(Algos, Resume, ::testing::Values("ppo-lag", "wm-ppo", "ppo-w2", "wm-ppo-w2"));

TEST(Ppo, rejects_corrupt_or_mismatched_checkpoint) {
  set_log_sink(nullptr);
  RlConfig cfg = toy_config("ppo");
  cfg.ppo.num_envs = 2, cfg.ppo.num_steps = 8, cfg.ppo.total_steps = 16;
  auto dir = fresh_dir("corrupt");
  {
    test::ToyOffloadEnv env(2, 1, 1);
    train_ppo(cfg, env, quiet(dir));
  }
  {
    test::ToyOffloadEnv env(2, 1, 1);
    try {  // an existing run without --resume
      train_ppo(cfg, env, quiet(dir));
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos);
    }
  }
  {
    test::ToyOffloadEnv env(2, 3, 1);  // 3 users instead of 1
    auto o = quiet(dir);
    o.resume = true;
    try {
      train_ppo(cfg, env, o);
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("[2,1,3,1,3,8]"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("[2,3,3,1,3,8]"), std::string::npos) << e.what();
    }
  }
  {
    std::ofstream(dir / "checkpoint.pt", std::ios::trunc) << "PK\x03\x04 not really a zip";
    test::ToyOffloadEnv env(2, 1, 1);
    auto o = quiet(dir);
    o.resume = true;
    try {
      train_ppo(cfg, env, o);
      FAIL();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("checkpoint.pt: not a readable mecllm checkpoint"), std::string::npos)
          << e.what();
    }
  }
  {
    test::ToyOffloadEnv env(2, 1, 1);
    cfg.algo = "dqn";
    EXPECT_THROW(train_ppo(cfg, env, quiet(fresh_dir("dqn"))), InputError);
  }
}

}  // namespace mecllm::rl

namespace mecllm::rl {
namespace {

// `mecllm bench train` reports every phase of both trainers, in the JSON and in the table, and
// the phases add up to each trainer's total.
TEST(BenchTrain, reports_every_phase_in_json_and_table) {
  set_log_sink(nullptr);
  BenchTrainOptions opt;
  opt.steps = 512;
  opt.threads = 1;
  const BenchTrainResult r = bench_train(opt);
  const nlohmann::json j = r.to_json();
  EXPECT_GT(r.ppo_decisions_per_s, 0.0);
  EXPECT_GT(r.wm_decisions_per_s, 0.0);
  for (const char* trainer : {"ppo_phases", "wm_ppo_phases"}) {
    const auto& p = j.at(trainer);
    double sum = 0;
    for (const char* key : {"act", "env", "model_train", "gae", "model_use", "update", "log_checkpoint"})
      sum += p.at(key).at("s").get<double>();
    for (const char* key : {"update_forward", "update_backward", "update_optim"}) EXPECT_TRUE(p.contains(key)) << key;
    EXPECT_NEAR(sum, p.at("total_s").get<double>(), 1e-9) << trainer;
  }
  // PPO has no world model: its model phase is only the timer around nothing
  EXPECT_LT(j["ppo_phases"]["model_train"]["s"].get<double>(), 0.01 * j["wm_ppo_phases"]["model_train"]["s"].get<double>());
  for (const char* label : {"acting (forward + sampling)", "world-model training", "  clip + Adam", "total"})
    EXPECT_NE(r.table.find(label), std::string::npos) << label << "\n" << r.table;
}

}  // namespace
}  // namespace mecllm::rl
