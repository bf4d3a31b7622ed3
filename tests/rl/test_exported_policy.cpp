#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "rl/exported_policy.h"
#include "rl/running_stats.h"

namespace mecllm::rl {
namespace {

PolicyWeights small_policy() {
  PolicyWeights w;
  w.algo = "ppo";
  w.scenario = "toy";
  w.trained_users = 1;
  w.obs_dim = 2;
  w.act_dim = 1;
  w.obs_mean = {1.0, -1.0};
  w.obs_var = {4.0, 1.0};
  w.layers.push_back({2, 2, {1, 0, 0, 1}, {0, 0}});
  w.layers.push_back({2, 1, {1, 1}, {0.5f}});
  w.log_std = {-0.5f};
  return w;
}

std::string expect_input_error(const nlohmann::json& j) {
  try {
    policy_from_json(j, "bad.json");
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

}  // namespace

TEST(ExportedPolicy, computes_the_mlp_by_hand) {
  ExportedPolicy p(small_policy());
  std::vector<float> obs{3, 0}, act(1);
  p.act(obs, act);
  // normalised: (3-1)/2 = 1, (0+1)/1 = 1; hidden tanh(1), tanh(1); mean = 2 tanh(1) + 0.5
  const double mean = 2 * std::tanh(1.0 / std::sqrt(1.0 + 1e-8 / 4) * 1.0) + 0.5;
  EXPECT_NEAR(act[0], 1.0 / (1.0 + std::exp(-mean)), 1e-5);
}

TEST(ExportedPolicy, round_trips_through_json_file) {
  auto dir = std::filesystem::temp_directory_path() / "mecllm_test_policy";
  std::filesystem::create_directories(dir);
  save_policy(small_policy(), dir / "policy.json");
  auto w = load_policy(dir);  // a directory resolves to its policy.json
  EXPECT_EQ(w.obs_dim, 2);
  EXPECT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.layers[1].bias[0], 0.5f);
  std::filesystem::remove_all(dir);
}

TEST(ExportedPolicy, rejects_wrong_format_version_and_sizes) {
  auto good = policy_to_json(small_policy());
  auto j = good;
  j["format"] = "something";
  EXPECT_NE(expect_input_error(j).find("'format'"), std::string::npos);
  j = good;
  j["version"] = 99;
  EXPECT_NE(expect_input_error(j).find("version"), std::string::npos);
  j = good;
  j["version"] = 1;  // the 19-feature observation: refused with a hint to retrain
  EXPECT_NE(expect_input_error(j).find("retrain"), std::string::npos);
  j = good;
  j["layers"][0]["weight"] = {1, 2, 3};
  auto msg = expect_input_error(j);
  EXPECT_NE(msg.find("layers[0].weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("has 3 values, expected 4"), std::string::npos) << msg;
  j = good;
  j["layers"][1]["in"] = 3;
  EXPECT_NE(expect_input_error(j).find("layers[1].in"), std::string::npos);
  j = good;
  j["obs_norm"]["mean"] = {0.0};
  EXPECT_NE(expect_input_error(j).find("obs_norm.mean"), std::string::npos);
  j = good;
  j.erase("log_std");
  EXPECT_NE(expect_input_error(j).find("missing field 'log_std'"), std::string::npos);
}

TEST(ExportedPolicy, rejects_corrupt_file) {
  auto path = std::filesystem::temp_directory_path() / "mecllm_corrupt_policy.json";
  std::ofstream(path) << "{\"format\": \"mecllm-pol";
  try {
    load_policy(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST(RunningMeanStd, matches_batch_moments) {
  RunningMeanStd rms(1, 0.0 + 1e-12);
  std::vector<float> a{1, 2, 3}, b{4, 5};
  rms.update(a);
  rms.update(b);
  EXPECT_NEAR(rms.mean()[0], 3.0, 1e-9);
  EXPECT_NEAR(rms.var()[0], 2.0, 1e-9);  // population variance of 1..5
}

}  // namespace mecllm::rl
