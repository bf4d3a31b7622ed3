#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "mec/policy.h"
#include "mec/profile.h"
#include "mec/vec_env.h"
#include "test_helpers.h"

namespace mecllm::mec {
namespace {

namespace fs = std::filesystem;

// Expects `f` to throw InputError whose message contains every needle.
template <class F>
void expect_input_error(F f, std::initializer_list<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown";
  } catch (const InputError& e) {
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
  }
}

fs::path temp_file(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "mecllm_test_mec";
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

TEST(Scenario, default_tiny_and_handwritten_load_with_their_profiles) {
  Scenario s = testing::load("default");
  EXPECT_EQ(s.name, "default");
  EXPECT_EQ(s.group_profiles.size(), s.user_groups.size());
  EXPECT_EQ(s.edge_profiles.at(0).device_class, "edge-server-h200");
  // The default reads the profiles written by `mecllm profile` from the project's ECLD variants.
  EXPECT_EQ(s.group_profiles.at(0).variant, "ecld");
  EXPECT_NE(s.group_profiles.at(0).source.find("deployment-scale"), std::string::npos);
  Scenario t = testing::load("tiny");
  EXPECT_EQ(t.name, "tiny");
  EXPECT_LT(t.horizon, s.horizon);
  Scenario h = testing::load("handwritten");
  EXPECT_EQ(h.group_profiles.at(0).variant, "ecld-1b-q4");
}

TEST(Scenario, rejects_unknown_key_with_a_hint) {
  expect_input_error([] { testing::load("default", {"channel.bandwidht_hz=1e6"}); },
                     {"unknown key 'channel.bandwidht_hz'", "bandwidth_hz"});
}

TEST(Scenario, rejects_negative_bandwidth_naming_the_key_and_value) {
  expect_input_error([] { testing::load("default", {"channel.bandwidth_hz=-5"}); },
                     {"channel.bandwidth_hz", "-5", "> 0"});
}

TEST(Scenario, rejects_zero_users) {
  expect_input_error([] { testing::load("default", {"num_users=0"}); }, {"num_users", "got 0"});
  Scenario s = testing::load("tiny");
  expect_input_error([&] { VecEnv env(s, 1, 0, 1); }, {"num_users", "got 0"});
}

TEST(Scenario, rejects_bad_difficulty_mix_and_probability) {
  expect_input_error([] { testing::load("default", {"workload.difficulty_mix=[0.5,0.5,0.5]"}); },
                     {"workload.difficulty_mix", "summing to 1"});
  expect_input_error([] { testing::load("default", {"user_groups=[{arrival_prob: 1.5}]"}); },
                     {"user_groups[0].arrival_prob", "1.5"});
}

TEST(Scenario, missing_profile_file_is_named) {
  expect_input_error([] { testing::load("default", {"profiles=no_such_profiles.json"}); },
                     {"no_such_profiles.json", "not found"});
}

TEST(Scenario, unknown_device_class_lists_what_the_profile_file_holds) {
  expect_input_error([] { testing::load("default", {"edge_servers=[{device_class: tpu-v9}]"}); },
                     {"tpu-v9", "edge-server-h200"});
}

TEST(Profiles, rejects_missing_field_naming_file_entry_and_field) {
  auto p = temp_file("missing.json", R"({"format": "mecllm-profiles/1", "entries": [
    {"variant": "v", "device_class": "d", "prefill_tok_s": 10, "active_power_w": 1, "idle_power_w": 0.5,
     "memory_bytes": 1, "accuracy": {"easy": 1, "medium": 1, "hard": 1},
     "hallucination": {"easy": 0, "medium": 0, "hard": 0}, "measured": false, "source": "test"}]})");
  expect_input_error([&] { load_profiles(p.string()); }, {p.string(), "entries[0]", "decode_tok_s", "missing"});
}

TEST(Profiles, rejects_negative_rate) {
  auto p = temp_file("negative.json", R"({"format": "mecllm-profiles/1", "entries": [
    {"variant": "v", "device_class": "d", "prefill_tok_s": -3, "decode_tok_s": 2, "active_power_w": 1,
     "idle_power_w": 0.5, "memory_bytes": 1, "accuracy": {"easy": 1, "medium": 1, "hard": 1},
     "hallucination": {"easy": 0, "medium": 0, "hard": 0}, "measured": false, "source": "test"}]})");
  expect_input_error([&] { load_profiles(p.string()); }, {p.string(), "prefill_tok_s", "-3", "rate > 0"});
}

TEST(Profiles, rejects_wrong_format_bad_json_and_quality_out_of_range) {
  auto a = temp_file("format.json", R"({"format": "other/2", "entries": []})");
  expect_input_error([&] { load_profiles(a.string()); }, {a.string(), "mecllm-profiles/1"});
  auto b = temp_file("broken.json", R"({"format": "mecllm-profiles/1", "entries": [)");
  expect_input_error([&] { load_profiles(b.string()); }, {b.string(), "JSON"});
  auto c = temp_file("quality.json", R"({"format": "mecllm-profiles/1", "entries": [
    {"variant": "v", "device_class": "d", "prefill_tok_s": 3, "decode_tok_s": 2, "active_power_w": 1,
     "idle_power_w": 0.5, "memory_bytes": 1, "accuracy": {"easy": 1.2, "medium": 1, "hard": 1},
     "hallucination": {"easy": 0, "medium": 0, "hard": 0}, "measured": false, "source": "test"}]})");
  expect_input_error([&] { load_profiles(c.string()); }, {c.string(), "accuracy", "easy", "1.2"});
}

TEST(Profiles, shipped_files_cover_every_device_class_with_a_source) {
  for (const char* file : {"profiles/ecld-factworld.json", "profiles/handwritten.json"}) {
    ProfileSet set = load_profiles(testing::config_path(file));
    for (const char* dc : {"jetson-nano-4gb", "snapdragon-865", "raspberry-pi-5-8gb", "edge-server-h200"}) {
      bool found = false;
      for (const auto& p : set.entries)
        if (p.device_class == dc) {
          found = true;
          EXPECT_FALSE(p.source.empty());
        }
      EXPECT_TRUE(found) << file << ": " << dc;
    }
  }
}

TEST(Policies, unknown_baseline_lists_valid_names) {
  Scenario s = testing::load("tiny");
  expect_input_error([&] { make_baseline("always-lcoal", s); }, {"always-lcoal", "always-local", "lyapunov"});
  for (const auto& n : baseline_names()) EXPECT_EQ(make_baseline(n, s)->name(), n);
}

}  // namespace
}  // namespace mecllm::mec
