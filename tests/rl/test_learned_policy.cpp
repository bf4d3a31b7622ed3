#include <gtest/gtest.h>

#if defined(MECLLM_RL_HAVE_MEC)
#include "common/errors.h"
#include "mec/policy.h"
#include "mec/scenario.h"
#include "mec/vec_env.h"
#include "common/rundir.h"
#include "rl/evaluate_policy.h"
#include "rl/exported_policy.h"
#include "rl/learned_policy.h"

namespace mecllm::rl {
namespace {
PolicyWeights policy_for(int obs_dim, int act_dim) {
  PolicyWeights w;
  w.algo = "ppo";
  w.obs_dim = obs_dim, w.act_dim = act_dim;
  w.obs_mean.assign(obs_dim, 0.0), w.obs_var.assign(obs_dim, 1.0);
  DenseLayer l{obs_dim, act_dim, std::vector<float>(static_cast<size_t>(obs_dim) * act_dim, 0.01f),
               std::vector<float>(act_dim, 0.0f)};
  w.layers.push_back(l);
  w.log_std.assign(act_dim, 0.0f);
  return w;
}
}  // namespace

TEST(LearnedPolicy, rejects_scenario_with_other_observation_size_naming_both) {
  auto scenario = mec::load_scenario({"tiny"});
  mec::VecEnv env(scenario, 1, 3, 1);
  env.reset();
  LearnedPolicy bad(policy_for(env.obs_dim() + 2, env.act_dim()), "runs/x/policy.json");
  try {
    bad.reset(env);
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("runs/x/policy.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(env.obs_dim() + 2)), std::string::npos) << msg;
    EXPECT_NE(msg.find("gives " + std::to_string(env.obs_dim())), std::string::npos) << msg;
  }
}

TEST(LearnedPolicy, acts_in_unit_interval_on_the_simulator) {
  auto scenario = mec::load_scenario({"tiny"});
  mec::VecEnv env(scenario, 2, 4, 1);
  env.reset();
  LearnedPolicy p(policy_for(env.obs_dim(), env.act_dim()), "mem");
  p.reset(env);
  std::vector<float> actions(static_cast<size_t>(2 * 4 * env.act_dim()), -1.0f);
  p.act(env, actions);
  for (float a : actions) {
    EXPECT_GE(a, 0.0f);
    EXPECT_LE(a, 1.0f);
  }
}

TEST(Evaluate, learned_policy_next_to_baselines_with_the_no_contention_bound) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "mecllm_test_rl_evaluate";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto scenario = mec::load_scenario({"tiny"});
  mec::VecEnv env(scenario, 1, 3, 1);
  save_policy(policy_for(env.obs_dim(), env.act_dim()), dir / "policy.json");
  EvaluateOptions opt;
  opt.policies = {dir / "policy.json"};
  opt.scenario = "tiny";
  opt.users = {2, 4};
  opt.seeds = 2, opt.slots = 200, opt.show_progress = false;
  EvaluateResult res = run_evaluate(opt, dir / "eval");
  EXPECT_NE(res.table.find("no-contention bound"), std::string::npos) << res.table;
  auto bound = read_json_file(dir / "eval" / "latency_bound.json");
  for (const char* n : {"2", "4"}) {
    ASSERT_TRUE(res.summary["ppo"].contains(n)) << res.summary.dump();
    const auto& mine = res.vs_best["ppo"][n];
    EXPECT_DOUBLE_EQ(mine["bound_latency_s"].get<double>(), bound[n]["latency_s"].get<double>());
    EXPECT_LE(mine["bound_latency_s"].get<double>(), mine["learned_latency_s"].get<double>());
    for (const auto& name : mec::baseline_names()) {
      EXPECT_LE(bound[n]["latency_s"].get<double>(), res.summary[name][n]["latency_s"].get<double>()) << name;
    }
    if (!mine["best_baseline"].is_null()) {
      EXPECT_LE(mine["latency_reduction"].get<double>(), mine["largest_possible_reduction"].get<double>() + 1e-12);
    }
  }
  EXPECT_TRUE(fs::exists(dir / "eval" / "vs_best_baseline.json"));
  EXPECT_TRUE(fs::exists(dir / "eval" / "results.csv"));
}

}  // namespace mecllm::rl
#else
TEST(LearnedPolicy, skipped_without_simulator) { GTEST_SKIP() << "src/mec absent"; }
#endif
