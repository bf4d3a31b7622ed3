#include "eval/profile_writer.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "eval/tasks.h"

namespace mecllm::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// Walks a dotted key path of the card, failing with the file and the key.
const json& at(const json& j, const std::string& path, const std::string& key_path) {
  const json* cur = &j;
  size_t start = 0;
  while (start <= key_path.size()) {
    size_t dot = key_path.find('.', start);
    std::string key = key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur->is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
        std::stoull(key) < cur->size()) {
      cur = &(*cur)[std::stoull(key)];
    } else if (cur->is_object() && cur->contains(key)) {
      cur = &(*cur)[key];
    } else {
      throw_input_error(path, "model card field '{}' is missing (write the card with `mecllm eval`)", key_path);
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *cur;
}
double number(const json& j, const std::string& path, const std::string& key_path) {
  const json& v = at(j, path, key_path);
  if (!v.is_number()) throw_input_error(path, "model card field '{}' = {}, expected a number", key_path, v.dump());
  return v.get<double>();
}
}  // namespace

std::vector<json> profiles_of_card(const json& card, const std::string& variant, const std::string& path) {
  // Quality per difficulty class: factworld by difficulty, else HaluEval overall.
  json accuracy = json::object(), hallucination = json::object();
  std::string quality_how;
  const json& tasks = at(card, path, "tasks");
  if (tasks.contains("factworld")) {
    std::vector<std::string> filled;
    for (const auto& k : difficulty_classes()) {
      std::string base = at(card, path, "tasks.factworld.by_difficulty").contains(k)
                             ? "tasks.factworld.by_difficulty." + k
                             : "tasks.factworld.all";
      if (base == "tasks.factworld.all") filled.push_back(k);
      accuracy[k] = number(card, path, base + ".accuracy");
      hallucination[k] = number(card, path, base + ".hallucination_rate");
    }
    quality_how = "factworld QA per difficulty (measured)";
    if (!filled.empty()) {
      std::string list;
      for (const auto& k : filled) list += (list.empty() ? "" : ", ") + k;
      quality_how += "; no " + list + " items: overall figure used";
    }
  } else if (tasks.contains("halueval")) {
    for (const auto& k : difficulty_classes()) {
      accuracy[k] = number(card, path, "tasks.halueval.all.accuracy");
      hallucination[k] = number(card, path, "tasks.halueval.all.hallucination_rate");
    }
    quality_how = "HaluEval QA overall for every difficulty (measured)";
  } else {
    throw_input_error(path, "model card has no QA task (factworld or halueval) for per-difficulty accuracy; run "
                            "`mecllm eval --tasks factworld`");
  }
  const json& devices = at(card, path, "accessibility.devices");
  if (!devices.is_array()) throw_input_error(path, "model card field 'accessibility.devices' must be a list");
  const std::string cal = at(card, path, "roofline_calibration.method").is_string()
                              ? at(card, path, "roofline_calibration.method").get<std::string>()
                              : "";
  std::vector<json> out;
  for (size_t i = 0; i < devices.size(); ++i) {
    std::string where = "accessibility.devices." + std::to_string(i);
    const json& name = at(card, path, where + ".device");
    if (!name.is_string()) throw_input_error(path, "model card field '{}.device' must be a string", where);
    std::string device = name.get<std::string>();
    const json& fits = at(card, path, where + ".fits");
    if (!fits.is_boolean()) throw_input_error(path, "model card field '{}.fits' must be true or false", where);
    if (!fits.get<bool>()) {
      log_info("profile: {} does not fit {}: no entry", variant, device);
      continue;
    }
    double prefill = number(card, path, where + ".speed.prefill_tok_s");
    double decode = number(card, path, where + ".speed.decode_tok_s");
    bool measured = false;
    std::string speed_how = "roofline estimate (" + cal + ")";
    // The host's own rates were measured: use them as they are.
    if (device == "host" && card.contains("host_speed") && card["host_speed"].contains("decode_tok_s")) {
      prefill = number(card, path, "host_speed.prefill_tok_s.value");
      decode = number(card, path, "host_speed.decode_tok_s.value");
      measured = true;
      speed_how = "measured on the host";
    }
    if (!(prefill > 0) || !(decode > 0))
      throw_input_error(path, "model card device '{}': rates prefill {} / decode {} tok/s, expected > 0", device, prefill, decode);
    out.push_back({{"variant", variant},
                   {"device_class", device},
                   {"prefill_tok_s", prefill},
                   {"decode_tok_s", decode},
                   {"active_power_w", number(card, path, where + ".active_power_w")},
                   {"idle_power_w", number(card, path, where + ".idle_power_w")},
                   {"memory_bytes", number(card, path, where + ".memory_needed_bytes")},
                   {"accuracy", accuracy},
                   {"hallucination", hallucination},
                   {"measured", measured},
                   {"source", fmt::format("mecllm eval card {}: rates {}; power from configs/devices/{}.yaml; quality {}",
                                          path, speed_how, device, quality_how)}});
  }
  return out;
}

json build_profiles(const std::vector<std::string>& card_dirs) {
  if (card_dirs.empty()) throw InputError("--variants: expected at least one directory with a model_card.json");
  json doc = {{"format", "mecllm-profiles/1"},
              {"comment", "Written by `mecllm profile` from model cards of `mecllm eval`. Rates on device classes are "
                          "roofline estimates calibrated on the measuring host (measured: false); quality is measured."},
              {"entries", json::array()}};
  std::set<std::string> names;
  for (const auto& dir : card_dirs) {
    fs::path p = fs::path(dir);
    if (p.filename().empty()) p = p.parent_path();  // "runs/x/" -> "runs/x"
    std::string variant = p.filename().string();
    fs::path card_path = p / "model_card.json";
    if (!fs::exists(card_path)) throw InputError(card_path.string() + ": no model card (run `mecllm eval --out " + dir + "` first)");
    if (!names.insert(variant).second)
      throw InputError(dir + ": a second variant named '" + variant + "' (variant names are the directory names)");
    json card = read_json_file(card_path);
    for (auto& e : profiles_of_card(card, variant, card_path.string())) doc["entries"].push_back(std::move(e));
  }
  if (doc["entries"].empty())
    throw InputError("--variants: no variant fits any device class; nothing to write");
  return doc;
}

void write_profiles(const json& doc, const std::string& path) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  write_file_atomic(p, doc.dump(2) + "\n");
}

}  // namespace mecllm::eval
