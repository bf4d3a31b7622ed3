#include <gtest/gtest.h>

#include "eval/energy.h"
#include "eval/tegrastats.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

namespace {
// A fake powercap tree: package-0 (with core and dram subzones) and psys.
void make_zone(const TempDir& d, const std::string& zone, const std::string& name, uint64_t energy, uint64_t range) {
  d.write(zone + "/name", name + "\n");
  d.write(zone + "/energy_uj", std::to_string(energy) + "\n");
  d.write(zone + "/max_energy_range_uj", std::to_string(range) + "\n");
}
constexpr uint64_t kRange = 262143328850ull;  // a real package range (2^18 J in uJ, rounded as the kernel reports)
}  // namespace

TEST(Rapl, counter_delta_handles_wrap_around) {
  EXPECT_EQ(rapl_counter_delta(100, 350, kRange), 250u);
  EXPECT_EQ(rapl_counter_delta(kRange - 1000, 500, kRange), 1500u);
  EXPECT_EQ(rapl_counter_delta(0, 0, kRange), 0u);
}

TEST(Rapl, reads_packages_and_dram_but_not_core_or_psys) {
  TempDir d("rapl");
  make_zone(d, "intel-rapl:0", "package-0", 1000, kRange);
  make_zone(d, "intel-rapl:0/intel-rapl:0:0", "core", 10, kRange);
  make_zone(d, "intel-rapl:0/intel-rapl:0:1", "dram", 20, kRange);
  make_zone(d, "intel-rapl:1", "psys", 5, kRange);
  RaplReader r(d.path);
  ASSERT_TRUE(r.available()) << r.unavailable_reason();
  EXPECT_EQ(r.describe(), "package-0 + dram");
  EXPECT_EQ(r.read(), (std::vector<uint64_t>{1000, 20}));
}

TEST(Rapl, measured_energy_across_a_wrap_on_a_fake_tree) {
  TempDir d("rapl");
  make_zone(d, "intel-rapl:0", "package-0", kRange - 2'000'000, kRange);  // 2 J before the wrap
  RaplReader r(d.path);
  ASSERT_TRUE(r.available());
  // The "work" advances the counter by 5 J, wrapping: 2 J to the top, then 3 J from 0.
  EnergyFigure f = measure_energy(r, 0.0, 99.0, [&] { d.write("intel-rapl:0/energy_uj", "3000000\n"); });
  EXPECT_EQ(f.provenance, Provenance::measured);
  EXPECT_NEAR(f.joules, 5.0, 1e-9);
  EXPECT_NE(f.method.find("rapl"), std::string::npos);
}

TEST(Rapl, idle_baseline_is_subtracted_and_clamped) {
  TempDir d("rapl");
  make_zone(d, "intel-rapl:0", "package-0", 0, kRange);
  RaplReader r(d.path);
  // A 1e6 W baseline over any positive duration exceeds the 1 J used: clamped to 0 with a note.
  EnergyFigure f = measure_energy(r, 1e6, 0.0, [&] { d.write("intel-rapl:0/energy_uj", "1000000\n"); });
  EXPECT_EQ(f.provenance, Provenance::measured);
  EXPECT_EQ(f.joules, 0.0);
  EXPECT_NE(f.note.find("clamped"), std::string::npos) << f.note;
  EXPECT_EQ(f.idle_power_w, 1e6);
}

TEST(Rapl, absent_counters_fall_back_to_the_estimate_and_say_so) {
  TempDir d("rapl");
  RaplReader r(d.path / "no-such-dir");
  EXPECT_FALSE(r.available());
  EXPECT_NE(r.unavailable_reason().find("no-such-dir"), std::string::npos) << r.unavailable_reason();
  EnergyFigure f = measure_energy(r, 0.0, 10.0, [] {});
  EXPECT_EQ(f.provenance, Provenance::estimated);
  EXPECT_NEAR(f.joules, 10.0 * f.seconds, 1e-12);
  EXPECT_NE(f.note.find("no energy counter"), std::string::npos) << f.note;
  EXPECT_NE(f.method.find("estimate"), std::string::npos) << f.method;
}

TEST(Rapl, malformed_counter_makes_rapl_unavailable) {
  TempDir d("rapl");
  make_zone(d, "intel-rapl:0", "package-0", 0, kRange);
  d.write("intel-rapl:0/energy_uj", "garbage\n");
  RaplReader r(d.path);
  EXPECT_FALSE(r.available());
  EXPECT_NE(r.unavailable_reason().find("not readable"), std::string::npos) << r.unavailable_reason();
}

TEST(Rapl, counter_that_breaks_mid_run_is_an_input_error_naming_the_file) {
  TempDir d("rapl");
  make_zone(d, "intel-rapl:0", "package-0", 0, kRange);
  RaplReader r(d.path);
  ASSERT_TRUE(r.available());
  d.write("intel-rapl:0/energy_uj", "-5\n");
  std::string msg = input_error_of([&] { r.read(); });
  EXPECT_NE(msg.find("intel-rapl:0/energy_uj"), std::string::npos) << msg;
}

TEST(Tegrastats, nano_log_energy_is_sum_of_current_times_interval) {
  TegrastatsLog log = parse_tegrastats_file(fixture("tegrastats_nano.log"));
  EXPECT_EQ(log.rail, "POM_5V_IN");
  ASSERT_EQ(log.samples.size(), 3u);
  EXPECT_EQ(log.samples[1].current_mw, 2000);
  EXPECT_EQ(log.samples[1].average_mw, 1500);
  EnergyFigure f = tegrastats_energy(log, 500);  // (1 + 2 + 3) W x 0.5 s
  EXPECT_NEAR(f.joules, 3.0, 1e-12);
  EXPECT_NEAR(f.seconds, 1.5, 1e-12);
  EXPECT_EQ(f.provenance, Provenance::measured);
  EXPECT_NEAR(tegrastats_mean_power_w(log), 2.0, 1e-12);
  EnergyFigure net = tegrastats_energy(log, 500, 1.0);  // minus 1 W x 1.5 s
  EXPECT_NEAR(net.joules, 1.5, 1e-12);
}

TEST(Tegrastats, orin_log_with_timestamps_and_mw_suffix) {
  TegrastatsLog log = parse_tegrastats_file(fixture("tegrastats_orin.log"));
  EXPECT_EQ(log.rail, "VDD_IN");
  ASSERT_EQ(log.samples.size(), 2u);
  EXPECT_EQ(log.samples[0].current_mw, 4000);
  EXPECT_NEAR(tegrastats_energy(log, 1000).joules, 10.0, 1e-12);
}

TEST(Tegrastats, rejects_lines_without_the_rail_or_with_bad_readings) {
  std::string msg = input_error_of([] { parse_tegrastats("RAM 1/2MB POM_5V_IN 100/100\nRAM 1/2MB CPU [1%]\n", "t.log"); });
  EXPECT_NE(msg.find("t.log:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("POM_5V_IN"), std::string::npos) << msg;
  msg = input_error_of([] { parse_tegrastats("VDD_IN 12abW/3\n", "t.log"); });
  EXPECT_NE(msg.find("t.log:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'12abW/3'"), std::string::npos) << msg;
  msg = input_error_of([] { parse_tegrastats("\n", "t.log"); });
  EXPECT_NE(msg.find("no tegrastats samples"), std::string::npos) << msg;
  TegrastatsLog log = parse_tegrastats("VDD_IN 1/1\n", "t.log");
  msg = input_error_of([&] { tegrastats_energy(log, 0); });
  EXPECT_NE(msg.find("interval"), std::string::npos) << msg;
}
