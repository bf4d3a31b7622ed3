// Deployment-scale profiles (docs/eval.md "Deployment scale"): what is scaled, what stays
// measured, and the errors of `mecllm profile --deploy-params`.
#include <gtest/gtest.h>

#include "card_fixture.h"
#include "common/rundir.h"
#include "eval/deploy_scale.h"
#include "eval/profile_writer.h"
#include "test_util.h"

#ifdef MECLLM_EVAL_TEST_HAS_MEC
#include "mec/profile.h"
#endif

using namespace mecllm::eval;
using namespace mecllm::eval::testing;
using nlohmann::json;

namespace {
const json* entry_for(const json& doc, const std::string& variant, const std::string& device) {
  for (const auto& e : doc["entries"])
    if (e["variant"] == variant && e["device_class"] == device) return &e;
  return nullptr;
}
}  // namespace

TEST(DeployScale, scaling_keeps_bits_per_weight_and_raises_a_tiny_context) {
  ModelFootprint m = footprint_of("v", 1'000'000, 0.5625);  // 4.5 bits per weight
  ModelFootprint s = scale_footprint(m, 6e8);
  EXPECT_EQ(s.n_params, 600'000'000);
  EXPECT_DOUBLE_EQ(s.bits_per_weight(), m.bits_per_weight());
  EXPECT_DOUBLE_EQ(s.token_embd_bytes, m.token_embd_bytes * 600);
  EXPECT_EQ(s.n_layers, m.n_layers);  // the layer shape is not extrapolated
  EXPECT_EQ(s.seq_len, kDeployMinContext);
  EXPECT_THROW(scale_footprint(m, 0.0), mecllm::InputError);
}

TEST(DeployScale, efficiencies_are_assumed_unless_given_never_the_cache_resident_host_share) {
  RooflineCalibration host;
  host.bandwidth_share_raw = 2.5, host.compute_share_raw = 0.9;
  RooflineCalibration c = deploy_calibration(host, 0, 0);
  EXPECT_DOUBLE_EQ(c.bandwidth_efficiency, RooflineCalibration{}.bandwidth_efficiency);
  EXPECT_DOUBLE_EQ(c.compute_efficiency, RooflineCalibration{}.compute_efficiency);
  EXPECT_EQ(c.provenance, Provenance::estimated);
  EXPECT_NE(c.method.find("assumed"), std::string::npos) << c.method;
  EXPECT_NE(c.method.find("2.50"), std::string::npos) << c.method;  // the host share is quoted
  RooflineCalibration g = deploy_calibration(host, 0.45, 0.2);
  EXPECT_DOUBLE_EQ(g.bandwidth_efficiency, 0.45);
  EXPECT_DOUBLE_EQ(g.compute_efficiency, 0.2);
}

TEST(DeployScale, profiles_scale_rates_and_memory_but_keep_measured_quality) {
  TempDir d("deploy");
  write_model_card(card_of("base", 1'000'000, 4.0, 2), d.path / "base");    // F32
  write_model_card(card_of("small", 500'000, 0.5625, 1), d.path / "small");  // half the params, 4.5 bpw
  ProfileOptions opt;
  opt.deploy_params = 1.2e9;
  json doc = build_profiles({(d.path / "base").string(), (d.path / "small").string()}, opt);
  // base at 1.2e9 F32 = 4.8 GB: not on a 3.2 GB Jetson; small = 0.6e9 at 4.5 bits fits.
  EXPECT_EQ(entry_for(doc, "base", "jetson-nano-4gb"), nullptr);
  ASSERT_NE(entry_for(doc, "base", "edge-server-h200"), nullptr);
  const json* e = entry_for(doc, "small", "jetson-nano-4gb");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(entry_for(doc, "small", "host"), nullptr);  // no host entry at deployment scale
  const double weights = 6e8 * 0.5625;
  const double per_token = weights * 0.9;  // untied: the embedding table is not streamed
  EXPECT_NEAR((*e)["decode_tok_s"].get<double>(), 0.6 * 25.6e9 / per_token, 0.01 * 0.6 * 25.6e9 / per_token);
  EXPECT_GT((*e)["memory_bytes"].get<double>(), weights);
  EXPECT_FALSE((*e)["measured"].get<bool>());
  EXPECT_DOUBLE_EQ((*e)["accuracy"]["easy"].get<double>(), 0.5);  // 1 of 2 easy items, unscaled
  const std::string src = (*e)["source"];
  EXPECT_NE(src.find("deployment-scale"), std::string::npos) << src;
  EXPECT_NE(src.find("0.5000 (share"), std::string::npos) << src;
  EXPECT_NE(src.find("(not scaled)"), std::string::npos) << src;
  // a per-variant size overrides: the base as an 8e9 edge model
  opt.deploy_params_for["base"] = 8e9;
  doc = build_profiles({(d.path / "base").string(), (d.path / "small").string()}, opt);
  EXPECT_GT((*entry_for(doc, "base", "edge-server-h200"))["memory_bytes"].get<double>(), 32e9);
}

TEST(DeployScale, missing_base_unknown_variant_and_old_cards_are_rejected) {
  TempDir d("deploy");
  write_model_card(card_of("small", 500'000, 0.5625, 1), d.path / "small");
  ProfileOptions opt;
  opt.deploy_params = 1.2e9;
  std::string dir = (d.path / "small").string();
  EXPECT_NE(input_error_of([&] { build_profiles({dir}, opt); }).find("--base-params"), std::string::npos);
  opt.base_params = 1e6;
  EXPECT_NO_THROW(build_profiles({dir}, opt));
  ProfileOptions bad = opt;
  bad.deploy_params_for["nope"] = 8e9;
  EXPECT_NE(input_error_of([&] { build_profiles({dir}, bad); }).find("nope"), std::string::npos);
  json card = card_of("small", 500'000, 0.5625, 1).to_json();
  card.erase("footprint");  // a card written before deployment scale existed
  d.write("old/model_card.json", card.dump());
  std::string msg = input_error_of([&] { build_profiles({(d.path / "old").string()}, opt); });
  EXPECT_NE(msg.find("footprint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("old/model_card.json"), std::string::npos) << msg;
}

#ifdef MECLLM_EVAL_TEST_HAS_MEC
TEST(DeployScale, deployment_profiles_round_trip_into_the_simulator) {
  TempDir d("deploy");
  write_model_card(card_of("base", 1'000'000, 4.0, 2), d.path / "base");
  write_model_card(card_of("ecld", 500'000, 0.5625, 1), d.path / "ecld");
  ProfileOptions opt;
  opt.deploy_params = 1.2e9;
  opt.deploy_params_for["base"] = 8e9;
  std::string out = (d.path / "p.json").string();
  write_profiles(build_profiles({(d.path / "base").string(), (d.path / "ecld").string()}, opt), out);
  auto set = mecllm::mec::load_profiles(out);
  EXPECT_GT(set.get("jetson-nano-4gb", "ecld").prefill_tok_s, 0.0);
  EXPECT_DOUBLE_EQ(set.get("edge-server-h200", "base").accuracy[0], 1.0);
}
#endif
