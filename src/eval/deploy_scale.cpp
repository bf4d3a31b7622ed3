#include "eval/deploy_scale.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "eval/card_json.h"
#include "eval/device.h"

namespace mecllm::eval {

using nlohmann::json;

namespace {
double num(const json& j, const std::string& key, const std::string& path, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw_input_error(path, "model card field '{}.{}' is missing (write the card with this `mecllm eval`)", where, key);
  if (!j[key].is_number())
    throw_input_error(path, "model card field '{}.{}' = {}, expected a number", where, key, j[key].dump());
  return j[key].get<double>();
}
}  // namespace

json footprint_to_json(const ModelFootprint& m) {
  return {{"name", m.name},         {"n_params", m.n_params},   {"weight_bytes", m.weight_bytes},
          {"token_embd_bytes", m.token_embd_bytes}, {"tied_embeddings", m.tied_embeddings},
          {"n_layers", m.n_layers}, {"kv_dim", m.kv_dim},       {"q_dim", m.q_dim},
          {"seq_len", m.seq_len},   {"vocab_size", m.vocab_size}, {"dim", m.dim}};
}

ModelFootprint footprint_from_json(const json& j, const std::string& path) {
  const std::string w = "footprint";
  ModelFootprint m;
  if (!j.is_object()) throw_input_error(path, "model card field 'footprint' is missing or not an object");
  m.name = j.value("name", std::string());
  m.n_params = static_cast<int64_t>(num(j, "n_params", path, w));
  m.weight_bytes = num(j, "weight_bytes", path, w);
  m.token_embd_bytes = num(j, "token_embd_bytes", path, w);
  if (!j.contains("tied_embeddings") || !j["tied_embeddings"].is_boolean())
    throw_input_error(path, "model card field 'footprint.tied_embeddings' must be true or false");
  m.tied_embeddings = j["tied_embeddings"].get<bool>();
  m.n_layers = static_cast<int64_t>(num(j, "n_layers", path, w));
  m.kv_dim = static_cast<int64_t>(num(j, "kv_dim", path, w));
  m.q_dim = static_cast<int64_t>(num(j, "q_dim", path, w));
  m.seq_len = static_cast<int64_t>(num(j, "seq_len", path, w));
  m.vocab_size = static_cast<int64_t>(num(j, "vocab_size", path, w));
  m.dim = static_cast<int64_t>(num(j, "dim", path, w));
  try {
    m.check();
  } catch (const InputError& e) {
    throw_input_error(path, "model card footprint: {}", e.what());
  }
  return m;
}

RooflineCalibration calibration_from_json(const json& j, const std::string& path) {
  const std::string w = "roofline_calibration";
  RooflineCalibration c;
  c.bandwidth_efficiency = num(j, "bandwidth_efficiency", path, w);
  c.compute_efficiency = num(j, "compute_efficiency", path, w);
  c.bandwidth_share_raw = num(j, "bandwidth_share_raw", path, w);
  c.compute_share_raw = num(j, "compute_share_raw", path, w);
  c.provenance = j.value("provenance", std::string()) == "measured" ? Provenance::measured : Provenance::estimated;
  c.method = j.value("method", std::string());
  return c;
}

ModelFootprint scale_footprint(const ModelFootprint& m, double deployed_params) {
  m.check();
  if (!(deployed_params >= 1.0) || !std::isfinite(deployed_params))
    throw InputError(fmt::format("model '{}': deployment size {} parameters, expected >= 1", m.name, deployed_params));
  const double f = deployed_params / double(m.n_params);
  ModelFootprint s = m;
  s.n_params = std::llround(deployed_params);
  s.weight_bytes = m.weight_bytes * f;
  s.token_embd_bytes = m.token_embd_bytes * f;
  s.dim = std::max<int64_t>(1, std::llround(double(m.dim) * f));
  // The reference query (128 + 128 tokens) must not be cut at a tiny model's context.
  s.seq_len = std::max<int64_t>(m.seq_len, kDeployMinContext);
  return s;
}

RooflineCalibration deploy_calibration(const RooflineCalibration& measured, double bandwidth_share,
                                       double compute_share) {
  const RooflineCalibration defaults;
  RooflineCalibration c;
  c.provenance = Provenance::estimated;
  auto pick = [](double given, double fallback) { return given > 0 ? std::min(1.0, given) : fallback; };
  c.bandwidth_efficiency = pick(bandwidth_share, defaults.bandwidth_efficiency);
  c.compute_efficiency = pick(compute_share, defaults.compute_efficiency);
  c.method = fmt::format("bandwidth share {:.2f} ({}), compute share {:.2f} ({}), the same for every variant; not the "
                         "host's shares for this tiny variant (bandwidth {:.2f}, compute {:.3f}: cache-resident and noisy)",
                         c.bandwidth_efficiency, bandwidth_share > 0 ? "given" : "assumed, code default",
                         c.compute_efficiency, compute_share > 0 ? "given" : "assumed, code default",
                         measured.bandwidth_share_raw, measured.compute_share_raw);
  return c;
}

DeployedVariant deploy_card(const json& card, const std::string& path, double deployed_params, double bandwidth_share,
                            double compute_share) {
  DeployedVariant d;
  d.measured = footprint_from_json(card_at(card, path, "footprint"), path);
  d.deployed = scale_footprint(d.measured, deployed_params);
  d.calibration = deploy_calibration(calibration_from_json(card_at(card, path, "roofline_calibration"), path),
                                     bandwidth_share, compute_share);
  auto rule_num = [&](const char* key) { return card_number(card, path, std::string("accessibility.rule.") + key); };
  AccessibilityConfig rule;
  rule.context_tokens = int(rule_num("context_tokens"));
  rule.kv_elem_bytes = rule_num("kv_elem_bytes");
  rule.runtime_overhead_mb = rule_num("runtime_overhead_mb");
  rule.min_decode_tok_s = rule_num("min_decode_tok_s");
  rule.prompt_tokens = int(rule_num("prompt_tokens"));
  rule.output_tokens = int(rule_num("output_tokens"));
  const json& devices = card_at(card, path, "accessibility.devices");
  if (!devices.is_array()) throw_input_error(path, "model card field 'accessibility.devices' must be a list");
  std::vector<DeviceClass> classes;
  for (size_t i = 0; i < devices.size(); ++i) {
    const json& name = card_at(card, path, "accessibility.devices." + std::to_string(i) + ".device");
    if (!name.is_string()) throw_input_error(path, "model card field 'accessibility.devices.{}.device' must be a string", i);
    // The host was measured running the tiny variant itself; a deployment-scale host figure
    // would be one more roofline estimate that nothing uses.
    if (name != "host") classes.push_back(load_device_class(name.get<std::string>()));
  }
  d.report = assess_accessibility(d.deployed, classes, d.calibration, rule);
  return d;
}

std::string DeployedVariant::describe() const {
  return fmt::format(
      "deployment-scale estimate: {:.3g} parameters (the measured variant has {} at {:.2f} bits per weight); "
      "roofline: {}; KV cache and attention terms of the measured shape (not extrapolated)",
      double(deployed.n_params), measured.n_params, measured.bits_per_weight(), calibration.method);
}

}  // namespace mecllm::eval
