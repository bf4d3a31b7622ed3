#include "mec/profile.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::mec {

using nlohmann::json;

std::optional<Profile> ProfileSet::find(const std::string& device_class, const std::string& variant) const {
  for (const auto& p : entries)
    if (p.device_class == device_class && p.variant == variant) return p;
  return std::nullopt;
}

const Profile& ProfileSet::get(const std::string& device_class, const std::string& variant) const {
  for (const auto& p : entries)
    if (p.device_class == device_class && p.variant == variant) return p;
  std::string have;
  for (const auto& p : entries) have += (have.empty() ? "" : ", ") + p.device_class + "/" + p.variant;
  throw_input_error(path, "no profile for device_class '{}' variant '{}' (the file holds: {})", device_class,
                    variant, have.empty() ? "nothing" : have);
}

namespace {

// Reads one required number of an entry, checking its range; `where` names the entry.
double number_field(const json& e, const char* key, const std::string& path, const std::string& where,
                    double lo, double hi, const char* expectation) {
  if (!e.contains(key)) throw_input_error(path, "{}: missing field '{}'", where, key);
  const json& v = e.at(key);
  if (!v.is_number()) throw_input_error(path, "{}: field '{}' must be a number, got {}", where, key, v.dump());
  double x = v.get<double>();
  if (!(x >= lo && x <= hi)) throw_input_error(path, "{}: field '{}' = {} but expected {}", where, key, x, expectation);
  return x;
}

std::string string_field(const json& e, const char* key, const std::string& path, const std::string& where) {
  if (!e.contains(key)) throw_input_error(path, "{}: missing field '{}'", where, key);
  if (!e.at(key).is_string() || e.at(key).get<std::string>().empty())
    throw_input_error(path, "{}: field '{}' must be a non-empty string, got {}", where, key, e.at(key).dump());
  return e.at(key).get<std::string>();
}

std::array<double, kNumDifficulties> per_difficulty(const json& e, const char* key, const std::string& path,
                                                    const std::string& where) {
  if (!e.contains(key)) throw_input_error(path, "{}: missing field '{}'", where, key);
  const json& m = e.at(key);
  if (!m.is_object()) throw_input_error(path, "{}: field '{}' must be a map easy/medium/hard, got {}", where, key, m.dump());
  std::array<double, kNumDifficulties> out{};
  for (int k = 0; k < kNumDifficulties; ++k) {
    out[k] = number_field(m, kDifficultyNames[k], path, where + " field '" + key + "'", 0.0, 1.0, "a share in [0, 1]");
  }
  for (const auto& kv : m.items()) {
    bool known = false;
    for (auto* n : kDifficultyNames) known |= kv.key() == n;
    if (!known) throw_input_error(path, "{}: field '{}' has unknown difficulty '{}' (expected easy, medium, hard)", where, key, kv.key());
  }
  return out;
}

}  // namespace

ProfileSet load_profiles(const std::string& path) {
  if (!std::filesystem::exists(path)) throw_input_error(path, "profile file not found");
  json root;
  try {
    root = read_json_file(path);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw_input_error(path, "not valid JSON: {}", e.what());
  }
  if (!root.is_object()) throw_input_error(path, "expected a JSON object at the top level");
  if (!root.contains("format") || root["format"] != "mecllm-profiles/1")
    throw_input_error(path, "field 'format' must be \"mecllm-profiles/1\", got {}",
                      root.contains("format") ? root["format"].dump() : "nothing");
  if (!root.contains("entries") || !root["entries"].is_array())
    throw_input_error(path, "field 'entries' must be a list of profiles");

  ProfileSet set;
  set.path = path;
  const double kHuge = 1e15;
  for (size_t i = 0; i < root["entries"].size(); ++i) {
    const json& e = root["entries"][i];
    std::string where = "entries[" + std::to_string(i) + "]";
    if (!e.is_object()) throw_input_error(path, "{}: expected an object", where);
    Profile p;
    p.variant = string_field(e, "variant", path, where);
    p.device_class = string_field(e, "device_class", path, where);
    where += " (" + p.device_class + "/" + p.variant + ")";
    p.prefill_tok_s = number_field(e, "prefill_tok_s", path, where, 1e-9, kHuge, "a rate > 0");
    p.decode_tok_s = number_field(e, "decode_tok_s", path, where, 1e-9, kHuge, "a rate > 0");
    p.active_power_w = number_field(e, "active_power_w", path, where, 0.0, kHuge, "a power >= 0");
    p.idle_power_w = number_field(e, "idle_power_w", path, where, 0.0, kHuge, "a power >= 0");
    p.memory_bytes = number_field(e, "memory_bytes", path, where, 0.0, kHuge * 1e6, "a size >= 0");
    p.accuracy = per_difficulty(e, "accuracy", path, where);
    p.hallucination = per_difficulty(e, "hallucination", path, where);
    if (!e.contains("measured") || !e["measured"].is_boolean())
      throw_input_error(path, "{}: field 'measured' must be true or false", where);
    p.measured = e["measured"].get<bool>();
    p.source = string_field(e, "source", path, where);
    if (set.find(p.device_class, p.variant))
      throw_input_error(path, "{}: duplicate profile for {}/{}", where, p.device_class, p.variant);
    set.entries.push_back(std::move(p));
  }
  if (set.entries.empty()) throw_input_error(path, "field 'entries' is empty");
  return set;
}

}  // namespace mecllm::mec
