#include <gtest/gtest.h>

#include "eval/accessibility.h"
#include "eval/roofline.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

namespace {
ModelFootprint model_1b() {
  ModelFootprint m;
  m.name = "m1b";
  m.n_params = 1'000'000'000;
  m.weight_bytes = 1.0e9;  // 8 bits per weight
  m.token_embd_bytes = 0.1e9;
  m.n_layers = 16;
  m.kv_dim = 512;
  m.q_dim = 2048;
  m.seq_len = 4096;
  m.vocab_size = 32000;
  m.dim = 2048;
  return m;
}
DeviceClass device(const std::string& name, double bw, double gflops, double usable_gb, double power) {
  DeviceClass d;
  d.name = name;
  d.memory_bandwidth_gbs = bw;
  d.peak_gflops = gflops;
  d.memory_gb = usable_gb;
  d.usable_memory_gb = usable_gb;
  d.active_power_w = power;
  return d;
}
}  // namespace

TEST(Roofline, decode_rate_is_achieved_bandwidth_over_bytes_per_token) {
  ModelFootprint m = model_1b();
  EXPECT_DOUBLE_EQ(m.bits_per_weight(), 8.0);
  EXPECT_DOUBLE_EQ(m.kv_bytes_per_position(2), 2.0 * 16 * 512 * 2);  // 32768
  RooflineCalibration cal;
  cal.bandwidth_efficiency = 0.5;
  cal.compute_efficiency = 0.25;
  SpeedEstimate s = estimate_speed(m, device("nano", 25.6, 45.8, 3.2, 10), cal, 128, 128, 2.0);
  // mean position 128 + 64 = 192; bytes = 0.9e9 (embedding table not streamed) + 32768 x 192
  double bytes = 0.9e9 + 32768.0 * 192;
  EXPECT_DOUBLE_EQ(s.bytes_per_token, bytes);
  EXPECT_NEAR(s.decode_tok_s, 0.5 * 25.6e9 / bytes, 1e-9);
  EXPECT_NEAR(s.decode_s, 128 / s.decode_tok_s, 1e-12);
  // prefill: 128 x (2 x (1e9 - 32000 x 2048) + 4 x 16 x 2048 x 64) FLOPs at 0.25 x 45.8 GFLOP/s
  double flops = 128 * (2.0 * (1e9 - 32000.0 * 2048) + 4.0 * 16 * 2048 * 64);
  EXPECT_NEAR(s.prefill_s, flops / (0.25 * 45.8e9), 1e-9);
  QueryEnergy e = estimate_query_energy(device("nano", 25.6, 45.8, 3.2, 10), s);
  EXPECT_NEAR(e.prefill_j, 10 * s.prefill_s, 1e-12);
  EXPECT_NEAR(e.decode_j, 10 * s.decode_s, 1e-12);
  EXPECT_EQ(e.provenance, Provenance::estimated);
}

TEST(Roofline, prefill_is_never_faster_than_one_pass_over_the_weights) {
  ModelFootprint m = model_1b();
  RooflineCalibration cal;
  // Huge compute, little bandwidth: the weight pass bounds a 1-token prefill.
  SpeedEstimate s = estimate_speed(m, device("gpu", 10, 1e9, 100, 100), cal, 1, 1, 2.0);
  EXPECT_NEAR(s.prefill_s, 0.9e9 / (0.6 * 10e9), 1e-12);
}

TEST(Roofline, calibration_on_the_host_reproduces_the_host_measurement) {
  ModelFootprint m = model_1b();
  DeviceClass host = device("host", 40, 500, 16, 35);
  RooflineCalibration cal = calibrate_roofline(m, host, 12.0, 150.0, 128 + 64, 2.0);
  EXPECT_EQ(cal.provenance, Provenance::measured);
  SpeedEstimate s = estimate_speed(m, host, cal, 128, 128, 2.0);
  EXPECT_NEAR(s.decode_tok_s, 12.0, 1e-9);
  // The same shares scale to a class with half the bandwidth: half the decode speed.
  SpeedEstimate half = estimate_speed(m, device("half", 20, 500, 16, 35), cal, 128, 128, 2.0);
  EXPECT_NEAR(half.decode_tok_s, 6.0, 1e-9);
}

TEST(Roofline, cache_resident_host_speed_is_clamped_to_full_bandwidth) {
  ModelFootprint m = model_1b();
  RooflineCalibration cal = calibrate_roofline(m, device("host", 1, 1, 16, 35), 1000.0, 1000.0, 10, 2.0);
  EXPECT_DOUBLE_EQ(cal.bandwidth_efficiency, 1.0);
  EXPECT_NE(cal.method.find("clamped"), std::string::npos) << cal.method;
}

TEST(Roofline, broken_footprint_is_named) {
  ModelFootprint m = model_1b();
  m.n_layers = 0;
  std::string msg = input_error_of([&] { m.check(); });
  EXPECT_NE(msg.find("m1b"), std::string::npos) << msg;
  EXPECT_NE(msg.find("n_layers"), std::string::npos) << msg;
}

TEST(Accessibility, model_larger_than_a_class_memory_is_not_deployable_there) {
  ModelFootprint m = model_1b();
  m.n_params = 5'000'000'000;
  m.weight_bytes = 5.0e9;
  m.token_embd_bytes = 0.2e9;
  std::vector<DeviceClass> devs{device("nano", 25.6, 45.8, 3.2, 10), device("h200", 4800, 989000, 135, 700)};
  AccessibilityConfig cfg;
  AccessibilityReport r = assess_accessibility(m, devs, RooflineCalibration{}, cfg);
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_FALSE(r.devices[0].fits);
  EXPECT_FALSE(r.devices[0].deployable());
  EXPECT_NE(r.devices[0].reason.find("needs"), std::string::npos) << r.devices[0].reason;
  EXPECT_NE(r.devices[0].reason.find("3.20 GB usable"), std::string::npos) << r.devices[0].reason;
  EXPECT_TRUE(r.devices[1].deployable()) << r.devices[1].reason;
  EXPECT_DOUBLE_EQ(r.score, 0.5);
  EXPECT_DOUBLE_EQ(r.storage_bytes, 5.0e9);
  // weights + KV(2048 positions x 32768 B) + 256 MB
  EXPECT_DOUBLE_EQ(r.devices[0].memory_needed_bytes, 5.0e9 + 2048 * 32768.0 + 256e6);
}

TEST(Accessibility, fitting_but_slow_class_is_not_deployable) {
  ModelFootprint m = model_1b();
  m.weight_bytes = 5.0e9;
  m.token_embd_bytes = 0.2e9;
  AccessibilityConfig cfg;
  // 0.6 x 17.1 GB/s / ~4.8 GB per token ~ 2.1 tok/s < 5
  AccessibilityReport r = assess_accessibility(m, {device("pi5", 17.1, 153.6, 7.0, 7)}, RooflineCalibration{}, cfg);
  EXPECT_TRUE(r.devices[0].fits);
  EXPECT_FALSE(r.devices[0].fast_enough);
  EXPECT_NE(r.devices[0].reason.find("tok/s <"), std::string::npos) << r.devices[0].reason;
  EXPECT_DOUBLE_EQ(r.score, 0.0);
}

TEST(Accessibility, kv_cache_is_capped_at_the_model_context) {
  ModelFootprint m = model_1b();
  m.seq_len = 256;
  AccessibilityConfig cfg;  // context_tokens 2048 > seq_len
  AccessibilityReport r = assess_accessibility(m, {device("big", 100, 100, 100, 10)}, RooflineCalibration{}, cfg);
  EXPECT_DOUBLE_EQ(r.devices[0].kv_cache_bytes, 256 * 32768.0);
}
