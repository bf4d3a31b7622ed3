#include <gtest/gtest.h>

#include <cstdlib>

#include "eval/device.h"
#include "eval/host_probe.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

namespace {
struct UseSourceConfigs : ::testing::Test {
  void SetUp() override { setenv("MECLLM_CONFIG_DIR", (std::string(MECLLM_SOURCE_DIR) + "/configs").c_str(), 1); }
};
}  // namespace

TEST_F(UseSourceConfigs, every_shipped_class_loads_with_sources) {
  auto all = load_device_classes("all");
  ASSERT_GE(all.size(), 5u);
  EXPECT_EQ(all[0].name, "host");
  for (const auto& d : all) {
    EXPECT_FALSE(d.active_power_source.empty()) << d.name;
    if (d.measure_on_host) continue;
    EXPECT_GT(d.memory_bandwidth_gbs, 0) << d.name;
    EXPECT_FALSE(d.memory_bandwidth_source.empty()) << d.name;
    EXPECT_LE(d.usable_memory_gb, d.memory_gb) << d.name;
  }
}

TEST_F(UseSourceConfigs, design_numbers_are_the_shipped_ones) {
  DeviceClass nano = load_device_class("jetson-nano-4gb");
  EXPECT_DOUBLE_EQ(nano.memory_bandwidth_gbs, 25.6);
  EXPECT_DOUBLE_EQ(nano.memory_gb, 4.0);
  EXPECT_DOUBLE_EQ(nano.active_power_w, 10.0);
  DeviceClass h200 = load_device_class("edge-server-h200");
  EXPECT_DOUBLE_EQ(h200.memory_bandwidth_gbs, 4800.0);
  EXPECT_DOUBLE_EQ(h200.memory_gb, 141.0);
  EXPECT_DOUBLE_EQ(h200.active_power_w, 700.0);
  EXPECT_DOUBLE_EQ(load_device_class("snapdragon-865").memory_gb, 12.0);
  EXPECT_NEAR(load_device_class("raspberry-pi-5-8gb").memory_bandwidth_gbs, 17.0, 0.2);
}

TEST_F(UseSourceConfigs, unknown_class_names_the_directory) {
  std::string msg = input_error_of([] { load_device_classes("host,jetson-nano-8gb"); });
  EXPECT_NE(msg.find("jetson-nano-8gb"), std::string::npos) << msg;
  EXPECT_NE(msg.find("devices"), std::string::npos) << msg;
}

TEST(Device, number_without_source_is_rejected) {
  TempDir d("dev");
  std::string p = d.write("x.yaml",
                          "name: x\nmemory_bandwidth_gbs: 10\nmemory_gb: 2\nusable_memory_gb: 1\n"
                          "usable_memory_source: a\npeak_gflops: 5\npeak_gflops_source: b\nactive_power_w: 3\n"
                          "active_power_source: c\nidle_power_w: 1\nidle_power_source: d\n");
  std::string msg = input_error_of([&] { load_device_class(p); });
  EXPECT_NE(msg.find("x.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("memory_bandwidth_source"), std::string::npos) << msg;
}

TEST(Device, usable_above_installed_memory_and_unknown_keys_are_rejected) {
  TempDir d("dev");
  std::string base =
      "name: x\nmemory_bandwidth_gbs: 10\nmemory_bandwidth_source: s\nmemory_gb: 2\nusable_memory_source: a\n"
      "peak_gflops: 5\npeak_gflops_source: b\nactive_power_w: 3\nactive_power_source: c\nidle_power_w: 1\n"
      "idle_power_source: d\n";
  std::string msg = input_error_of([&] { load_device_class(d.write("a.yaml", base + "usable_memory_gb: 3\n")); });
  EXPECT_NE(msg.find("usable_memory_gb"), std::string::npos) << msg;
  msg = input_error_of([&] { load_device_class(d.write("b.yaml", base + "usable_memory_gb: 1\nbandwith: 3\n")); });
  EXPECT_NE(msg.find("unknown key 'bandwith'"), std::string::npos) << msg;
}

TEST(HostProbe, measurements_are_positive_and_finite) {
  double bw = measure_read_bandwidth_gbs(size_t(8) << 20, 1, 1);
  EXPECT_GT(bw, 0.05);
  EXPECT_LT(bw, 1e5);
  double gf = measure_peak_gflops(1, 0.02);
  EXPECT_GT(gf, 0.05);
  EXPECT_LT(gf, 1e5);
  EXPECT_GT(total_memory_gb(), 0.0);
  EXPECT_LE(available_memory_gb(), total_memory_gb());
}
