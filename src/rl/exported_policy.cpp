#include "rl/exported_policy.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::rl {

nlohmann::json policy_to_json(const PolicyWeights& w) {
  nlohmann::json j;
  j["format"] = kPolicyFormat;
  j["version"] = kPolicyVersion;
  j["algo"] = w.algo;
  j["scenario"] = w.scenario;
  j["trained_users"] = w.trained_users;
  j["obs_dim"] = w.obs_dim;
  j["act_dim"] = w.act_dim;
  j["activation"] = w.activation;
  j["action_head"] = w.action_head;
  j["obs_norm"] = {{"enabled", w.norm_obs}, {"mean", w.obs_mean}, {"var", w.obs_var},
                   {"clip", w.obs_clip}, {"eps", w.obs_eps}};
  j["layers"] = nlohmann::json::array();
  for (const auto& l : w.layers)
    j["layers"].push_back({{"in", l.in}, {"out", l.out}, {"weight", l.weight}, {"bias", l.bias}});
  j["log_std"] = w.log_std;
  return j;
}

namespace {

template <class T>
T get_field(const nlohmann::json& j, const char* key, const std::string& where, const std::string& source) {
  if (!j.is_object() || !j.contains(key)) throw_input_error(source, "missing field '{}{}'", where, key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_input_error(source, "field '{}{}' has the wrong type: {}", where, key, j.at(key).dump().substr(0, 60));
  }
}

void require_size(size_t got, size_t want, const std::string& field, const std::string& source) {
  if (got != want) throw_input_error(source, "field '{}' has {} values, expected {}", field, got, want);
}

void require_finite(std::span<const float> v, const std::string& field, const std::string& source) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) throw_input_error(source, "field '{}' value {} is not finite", field, i);
}

}  // namespace

PolicyWeights policy_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw_input_error(source, "expected a JSON object");
  auto format = get_field<std::string>(j, "format", "", source);
  if (format != kPolicyFormat) throw_input_error(source, "field 'format' is '{}', expected '{}'", format, kPolicyFormat);
  int version = get_field<int>(j, "version", "", source);
  if (version == 1)
    throw_input_error(source, "field 'version' is 1: version-1 policies were trained on the older 19-feature simulator "
                      "observation, which this build no longer produces; retrain with `mecllm train`");
  if (version != kPolicyVersion)
    throw_input_error(source, "field 'version' is {}, this build reads version {}", version, kPolicyVersion);
  PolicyWeights w;
  w.algo = get_field<std::string>(j, "algo", "", source);
  w.scenario = get_field<std::string>(j, "scenario", "", source);
  w.trained_users = get_field<int>(j, "trained_users", "", source);
  w.obs_dim = get_field<int>(j, "obs_dim", "", source);
  w.act_dim = get_field<int>(j, "act_dim", "", source);
  if (w.obs_dim < 1 || w.obs_dim > 100000) throw_input_error(source, "field 'obs_dim' is {}, expected 1..100000", w.obs_dim);
  if (w.act_dim < 1 || w.act_dim > 16) throw_input_error(source, "field 'act_dim' is {}, expected 1..16", w.act_dim);
  w.activation = get_field<std::string>(j, "activation", "", source);
  if (w.activation != "tanh") throw_input_error(source, "field 'activation' is '{}', expected 'tanh'", w.activation);
  w.action_head = get_field<std::string>(j, "action_head", "", source);
  if (w.action_head != "sigmoid-gaussian")
    throw_input_error(source, "field 'action_head' is '{}', expected 'sigmoid-gaussian'", w.action_head);
  const auto& norm = j.at("obs_norm");
  w.norm_obs = get_field<bool>(norm, "enabled", "obs_norm.", source);
  w.obs_mean = get_field<std::vector<double>>(norm, "mean", "obs_norm.", source);
  w.obs_var = get_field<std::vector<double>>(norm, "var", "obs_norm.", source);
  w.obs_clip = get_field<double>(norm, "clip", "obs_norm.", source);
  w.obs_eps = get_field<double>(norm, "eps", "obs_norm.", source);
  require_size(w.obs_mean.size(), static_cast<size_t>(w.obs_dim), "obs_norm.mean", source);
  require_size(w.obs_var.size(), static_cast<size_t>(w.obs_dim), "obs_norm.var", source);
  for (double v : w.obs_var)
    if (!(v >= 0) || !std::isfinite(v)) throw_input_error(source, "field 'obs_norm.var' holds {}, expected >= 0", v);
  if (!(w.obs_clip > 0)) throw_input_error(source, "field 'obs_norm.clip' is {}, expected > 0", w.obs_clip);
  if (!j.contains("layers") || !j.at("layers").is_array() || j.at("layers").empty())
    throw_input_error(source, "field 'layers' must be a non-empty list");
  int prev = w.obs_dim;
  for (size_t i = 0; i < j.at("layers").size(); ++i) {
    const auto& lj = j.at("layers")[i];
    const std::string where = fmt::format("layers[{}].", i);
    DenseLayer l;
    l.in = get_field<int>(lj, "in", where, source);
    l.out = get_field<int>(lj, "out", where, source);
    if (l.in != prev) throw_input_error(source, "field '{}in' is {}, expected {} (previous layer's output)", where, l.in, prev);
    if (l.out < 1 || l.out > 65536) throw_input_error(source, "field '{}out' is {}, expected 1..65536", where, l.out);
    l.weight = get_field<std::vector<float>>(lj, "weight", where, source);
    l.bias = get_field<std::vector<float>>(lj, "bias", where, source);
    require_size(l.weight.size(), static_cast<size_t>(l.in) * l.out, where + "weight", source);
    require_size(l.bias.size(), static_cast<size_t>(l.out), where + "bias", source);
    require_finite(l.weight, where + "weight", source);
    require_finite(l.bias, where + "bias", source);
    prev = l.out;
    w.layers.push_back(std::move(l));
  }
  if (prev != w.act_dim)
    throw_input_error(source, "last layer has {} outputs, expected act_dim {}", prev, w.act_dim);
  w.log_std = get_field<std::vector<float>>(j, "log_std", "", source);
  require_size(w.log_std.size(), static_cast<size_t>(w.act_dim), "log_std", source);
  return w;
}

void save_policy(const PolicyWeights& w, const std::filesystem::path& path) {
  write_file_atomic(path, policy_to_json(w).dump() + "\n");
}

PolicyWeights load_policy(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(file)) file /= "policy.json";
  return policy_from_json(read_json_file(file), file.string());
}

ExportedPolicy::ExportedPolicy(PolicyWeights w) : w_(std::move(w)) {}

void ExportedPolicy::mean(std::span<const float> obs, std::span<float> means) {
  const size_t D = static_cast<size_t>(w_.obs_dim), K = static_cast<size_t>(w_.act_dim);
  MECLLM_CHECK(obs.size() % D == 0 && means.size() == obs.size() / D * K, "policy: obs {} means {}", obs.size(), means.size());
  const size_t n = obs.size() / D;
  size_t widest = D;
  for (const auto& l : w_.layers) widest = std::max(widest, static_cast<size_t>(l.out));
  if (a_.size() < n * widest) a_.resize(n * widest), b_.resize(n * widest);
  // Normalise exactly as during training (RunningMeanStd::normalize).
  for (size_t i = 0; i < n * D; ++i) {
    const size_t j = i % D;
    float x = obs[i];
    if (w_.norm_obs) {
      const float s = static_cast<float>(1.0 / std::sqrt(w_.obs_var[j] + w_.obs_eps));
      const float c = static_cast<float>(w_.obs_clip);
      x = std::clamp((x - static_cast<float>(w_.obs_mean[j])) * s, -c, c);
    }
    a_[i] = x;
  }
  float* in = a_.data();
  float* out = b_.data();
  for (size_t li = 0; li < w_.layers.size(); ++li) {
    const auto& l = w_.layers[li];
    const bool last = li + 1 == w_.layers.size();
    for (size_t r = 0; r < n; ++r) {
      const float* x = in + r * l.in;
      float* y = last ? means.data() + r * K : out + r * l.out;
      for (int o = 0; o < l.out; ++o) {
        const float* wrow = l.weight.data() + static_cast<size_t>(o) * l.in;
        float acc = l.bias[o];
        for (int k = 0; k < l.in; ++k) acc += wrow[k] * x[k];
        y[o] = last ? acc : std::tanh(acc);
      }
    }
    std::swap(in, out);
  }
}

void ExportedPolicy::act(std::span<const float> obs, std::span<float> actions) {
  mean(obs, actions);
  for (auto& a : actions) a = 1.0f / (1.0f + std::exp(-a));
}

}  // namespace mecllm::rl
