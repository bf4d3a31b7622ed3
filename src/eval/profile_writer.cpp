#include "eval/profile_writer.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "eval/accessibility.h"
#include "eval/card_json.h"
#include "eval/deploy_scale.h"
#include "eval/device.h"
#include "eval/tasks.h"

namespace mecllm::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const json& at(const json& j, const std::string& path, const std::string& key_path) { return card_at(j, path, key_path); }
double number(const json& j, const std::string& path, const std::string& key_path) {
  return card_number(j, path, key_path);
}
}  // namespace

namespace {
struct Quality {
  json accuracy = json::object(), hallucination = json::object();
  std::string how;
};

// Quality per difficulty class: factworld by difficulty, else HaluEval overall.
Quality quality_of_card(const json& card, const std::string& path) {
  Quality q;
  const json& tasks = at(card, path, "tasks");
  if (tasks.contains("factworld")) {
    std::vector<std::string> filled;
    for (const auto& k : difficulty_classes()) {
      std::string base = at(card, path, "tasks.factworld.by_difficulty").contains(k)
                             ? "tasks.factworld.by_difficulty." + k
                             : "tasks.factworld.all";
      if (base == "tasks.factworld.all") filled.push_back(k);
      q.accuracy[k] = number(card, path, base + ".accuracy");
      q.hallucination[k] = number(card, path, base + ".hallucination_rate");
    }
    q.how = "factworld QA per difficulty (measured)";
    if (!filled.empty()) {
      std::string list;
      for (const auto& k : filled) list += (list.empty() ? "" : ", ") + k;
      q.how += "; no " + list + " items: overall figure used";
    }
  } else if (tasks.contains("halueval")) {
    for (const auto& k : difficulty_classes()) {
      q.accuracy[k] = number(card, path, "tasks.halueval.all.accuracy");
      q.hallucination[k] = number(card, path, "tasks.halueval.all.hallucination_rate");
    }
    q.how = "HaluEval QA overall for every difficulty (measured)";
  } else {
    throw_input_error(path, "model card has no QA task (factworld or halueval) for per-difficulty accuracy; run "
                            "`mecllm eval --tasks factworld`");
  }
  return q;
}

json entry(const std::string& variant, const std::string& device, double prefill, double decode, double active_w,
           double idle_w, double memory, const Quality& q, bool measured, const std::string& source) {
  return {{"variant", variant},          {"device_class", device},  {"prefill_tok_s", prefill},
          {"decode_tok_s", decode},      {"active_power_w", active_w}, {"idle_power_w", idle_w},
          {"memory_bytes", memory},      {"accuracy", q.accuracy},  {"hallucination", q.hallucination},
          {"measured", measured},        {"source", source}};
}

const json& device_list(const json& card, const std::string& path) {
  const json& devices = at(card, path, "accessibility.devices");
  if (!devices.is_array()) throw_input_error(path, "model card field 'accessibility.devices' must be a list");
  return devices;
}

std::string device_name(const json& card, const std::string& path, size_t i) {
  const json& name = at(card, path, "accessibility.devices." + std::to_string(i) + ".device");
  if (!name.is_string()) throw_input_error(path, "model card field 'accessibility.devices.{}.device' must be a string", i);
  return name.get<std::string>();
}
}  // namespace

std::vector<json> profiles_of_card(const json& card, const std::string& variant, const std::string& path) {
  const Quality q = quality_of_card(card, path);
  const json& devices = device_list(card, path);
  const std::string cal = at(card, path, "roofline_calibration.method").is_string()
                              ? at(card, path, "roofline_calibration.method").get<std::string>()
                              : "";
  std::vector<json> out;
  for (size_t i = 0; i < devices.size(); ++i) {
    std::string where = "accessibility.devices." + std::to_string(i);
    std::string device = device_name(card, path, i);
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
    out.push_back(entry(variant, device, prefill, decode, number(card, path, where + ".active_power_w"),
                        number(card, path, where + ".idle_power_w"), number(card, path, where + ".memory_needed_bytes"),
                        q, measured,
                        fmt::format("mecllm eval card {}: rates {}; power from configs/devices/{}.yaml; quality {}",
                                    path, speed_how, device, q.how)));
  }
  return out;
}

std::vector<json> deploy_profiles_of_card(const json& card, const std::string& variant, const std::string& path,
                                          double base_deploy_params, double kept_share, const ProfileOptions& opt) {
  const Quality q = quality_of_card(card, path);
  const DeployedVariant d = deploy_card(card, path, base_deploy_params * kept_share, opt.deploy_bandwidth_efficiency,
                                        opt.deploy_compute_efficiency);
  const std::string scaled =
      fmt::format("{}; {:.3g} parameters = {:.4g} (base at deployment) x {:.4f} (share of the measured base's "
                  "parameters this variant keeps)",
                  d.describe(), double(d.deployed.n_params), base_deploy_params, kept_share);
  std::vector<json> out;
  for (const auto& v : d.report.devices) {
    if (!v.fits) {
      log_info("profile: {} at {:.3g} parameters does not fit {}: {}", variant, double(d.deployed.n_params), v.device,
               v.reason);
      continue;
    }
    out.push_back(entry(variant, v.device, v.speed.prefill_tok_s, v.speed.decode_tok_s, v.active_power_w,
                        v.idle_power_w, v.memory_needed_bytes, q, false,
                        fmt::format("{}; power from configs/devices/{}.yaml; quality {} from mecllm eval card {} "
                                    "(not scaled)",
                                    scaled, v.device, q.how, path)));
  }
  return out;
}

json build_profiles(const std::vector<std::string>& card_dirs, const ProfileOptions& opt) {
  if (card_dirs.empty()) throw InputError("--variants: expected at least one directory with a model_card.json");
  json doc = {{"format", "mecllm-profiles/1"},
              {"comment", opt.deploy()
                              ? "Written by `mecllm profile` at deployment scale: quality (accuracy, hallucination per "
                                "difficulty) measured on factworld by `mecllm eval`; rates, memory and power are roofline "
                                "estimates for each variant's measured compression applied to a base model of the given "
                                "size (measured: false). Each entry's source says what was measured and what was scaled."
                              : "Written by `mecllm profile` from model cards of `mecllm eval`. Rates on device classes are "
                                "roofline estimates calibrated on the measuring host (measured: false); quality is measured."},
              {"entries", json::array()}};
  std::set<std::string> names;
  std::vector<std::pair<std::string, json>> cards;
  std::vector<std::string> card_paths;
  for (const auto& dir : card_dirs) {
    fs::path p = fs::path(dir);
    if (p.filename().empty()) p = p.parent_path();  // "runs/x/" -> "runs/x"
    std::string variant = p.filename().string();
    fs::path card_path = p / "model_card.json";
    if (!fs::exists(card_path)) throw InputError(card_path.string() + ": no model card (run `mecllm eval --out " + dir + "` first)");
    if (!names.insert(variant).second)
      throw InputError(dir + ": a second variant named '" + variant + "' (variant names are the directory names)");
    cards.emplace_back(variant, read_json_file(card_path));
    card_paths.push_back(card_path.string());
  }
  for (const auto& [v, p] : opt.deploy_params_for)
    if (!names.count(v)) throw InputError("--deploy-params-for " + v + ": no variant of that name among --variants");
  double base_params = opt.base_params;
  if (opt.deploy() && base_params <= 0) {
    for (size_t i = 0; i < cards.size(); ++i)
      if (cards[i].first == "base") base_params = number(cards[i].second, card_paths[i], "footprint.n_params");
    if (base_params <= 0)
      throw InputError("deployment scale: give --base-params N (the measured base model's parameters) or a variant "
                       "directory named 'base', so each variant's kept share of parameters is known");
  }
  for (size_t i = 0; i < cards.size(); ++i) {
    const auto& [variant, card] = cards[i];
    std::vector<json> entries;
    if (opt.deploy()) {
      auto it = opt.deploy_params_for.find(variant);
      double scale = it != opt.deploy_params_for.end() ? it->second : opt.deploy_params;
      if (!(scale > 0))
        throw InputError("deployment scale: no size for variant '" + variant + "' (give --deploy-params or "
                         "--deploy-params-for " + variant + "=N)");
      double kept = number(card, card_paths[i], "footprint.n_params") / base_params;
      entries = deploy_profiles_of_card(card, variant, card_paths[i], scale, kept, opt);
    } else {
      entries = profiles_of_card(card, variant, card_paths[i]);
    }
    for (auto& e : entries) doc["entries"].push_back(std::move(e));
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
