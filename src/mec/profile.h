// Device/model profiles: how fast a model variant runs on a device class, what it draws and how
// good its answers are per difficulty class. Produced by `mecllm eval` (ecld.md), read here.
//
// File format "mecllm-profiles/1" (JSON, documented in docs/mec.md):
//   {"format": "mecllm-profiles/1",
//    "entries": [{"variant": "...", "device_class": "...", "prefill_tok_s": 80, "decode_tok_s": 14,
//                 "active_power_w": 6.5, "idle_power_w": 1.9, "memory_bytes": 1.1e9,
//                 "accuracy": {"easy": .., "medium": .., "hard": ..},
//                 "hallucination": {"easy": .., "medium": .., "hard": ..},
//                 "measured": false, "source": "..."}]}
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace mecllm::mec {

inline constexpr int kNumDifficulties = 3;  // easy, medium, hard
inline constexpr std::array<const char*, kNumDifficulties> kDifficultyNames = {"easy", "medium", "hard"};

struct Profile {
  std::string variant;
  std::string device_class;
  double prefill_tok_s = 0;   // prompt tokens per second at batch 1
  double decode_tok_s = 0;    // generated tokens per second at batch 1
  double active_power_w = 0;  // board power while running the model
  double idle_power_w = 0;    // board power while idle
  double memory_bytes = 0;    // resident footprint of the variant
  std::array<double, kNumDifficulties> accuracy{};       // in [0,1], per difficulty class
  std::array<double, kNumDifficulties> hallucination{};  // in [0,1], per difficulty class
  bool measured = false;      // true when produced by a measurement, false for an estimate
  std::string source;         // where the numbers come from
};

struct ProfileSet {
  std::string path;  // the file it was read from, for messages
  std::vector<Profile> entries;

  std::optional<Profile> find(const std::string& device_class, const std::string& variant) const;
  // Throws InputError naming the file and listing what it holds.
  const Profile& get(const std::string& device_class, const std::string& variant) const;
};

// Reads and validates a profile file: every field present, rates and powers > 0 (idle >= 0),
// qualities in [0,1], no duplicate (device_class, variant). Errors name the file, entry and field.
ProfileSet load_profiles(const std::string& path);

}  // namespace mecllm::mec
