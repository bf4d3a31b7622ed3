#include "mec/scenario.h"

#include <filesystem>
#include <numeric>

namespace mecllm::mec {

namespace fs = std::filesystem;
using config::ConfigErrors;

namespace {
std::string got(double v) { return fmt::format(", got {}", v); }
}  // namespace

void ChannelConfig::validate(const ConfigErrors& err) const {
  err.require(bandwidth_hz > 0, "bandwidth_hz", "a bandwidth > 0 Hz" + got(bandwidth_hz));
  err.require(circuit_power_w >= 0, "circuit_power_w", "a power >= 0 W" + got(circuit_power_w));
  err.require(rx_power_w >= 0, "rx_power_w", "a power >= 0 W" + got(rx_power_w));
  err.require(noise_figure_db >= 0, "noise_figure_db", "a noise figure >= 0 dB" + got(noise_figure_db));
  err.require(shadowing_sigma_db >= 0, "shadowing_sigma_db", "a std >= 0 dB" + got(shadowing_sigma_db));
  err.require(shadowing_decorrelation_m > 0, "shadowing_decorrelation_m", "a distance > 0 m" + got(shadowing_decorrelation_m));
  err.require(fading == "none" || fading == "rayleigh" || fading == "rician", "fading",
              "one of none, rayleigh, rician, got '" + fading + "'");
  err.require(rician_k >= 0, "rician_k", "a K factor >= 0" + got(rician_k));
  err.require(fading_rho >= 0 && fading_rho <= 1, "fading_rho", "a correlation in [0, 1]" + got(fading_rho));
  err.require(upload_timeout_s >= 0, "upload_timeout_s", "a time >= 0 s (0 = never)" + got(upload_timeout_s));
  err.require(min_distance_m > 0, "min_distance_m", "a distance > 0 m" + got(min_distance_m));
  err.require(bandwidth_softmax_scale >= 0, "bandwidth_softmax_scale", ">= 0" + got(bandwidth_softmax_scale));
}

void MobilityConfig::validate(const ConfigErrors& err) const {
  err.require(cell_radius_m > 0, "cell_radius_m", "a radius > 0 m" + got(cell_radius_m));
  err.require(speed_min_mps >= 0, "speed_min_mps", "a speed >= 0" + got(speed_min_mps));
  err.require(speed_max_mps >= speed_min_mps, "speed_max_mps", "a speed >= speed_min_mps" + got(speed_max_mps));
}

void WorkloadConfig::validate(const ConfigErrors& err) const {
  err.require(prompts_min >= 1, "prompts_min", fmt::format("at least 1 prompt, got {}", prompts_min));
  err.require(prompts_max >= prompts_min && prompts_max <= 64, "prompts_max",
              fmt::format("in [prompts_min, 64], got {}", prompts_max));
  err.require(input_tokens_median > 0, "input_tokens_median", "> 0" + got(input_tokens_median));
  err.require(output_tokens_median > 0, "output_tokens_median", "> 0" + got(output_tokens_median));
  err.require(tokens_sigma >= 0, "tokens_sigma", ">= 0" + got(tokens_sigma));
  err.require(tokens_min > 0, "tokens_min", "> 0" + got(tokens_min));
  err.require(tokens_max >= tokens_min, "tokens_max", ">= tokens_min" + got(tokens_max));
  err.require(context_bytes_median >= 0, "context_bytes_median", ">= 0" + got(context_bytes_median));
  err.require(context_sigma >= 0, "context_sigma", ">= 0" + got(context_sigma));
  err.require(context_bytes_max >= 0, "context_bytes_max", ">= 0" + got(context_bytes_max));
  err.require(request_overhead_bytes >= 0, "request_overhead_bytes", ">= 0" + got(request_overhead_bytes));
  err.require(bits_per_token > 0, "bits_per_token", "> 0" + got(bits_per_token));
  err.require(difficulty_mix.size() == 3, "difficulty_mix",
              fmt::format("3 probabilities (easy, medium, hard), got {}", difficulty_mix.size()));
  double sum = 0;
  for (double p : difficulty_mix) {
    err.require(p >= 0, "difficulty_mix", "probabilities >= 0" + got(p));
    sum += p;
  }
  err.require(std::abs(sum - 1.0) < 1e-6, "difficulty_mix", "probabilities summing to 1" + got(sum));
}

void UserGroup::validate(const ConfigErrors& err) const {
  err.require(!device_class.empty(), "device_class", "a device class name");
  err.require(!variant.empty(), "variant", "a model variant name");
  err.require(share > 0, "share", "a share > 0" + got(share));
  err.require(arrival_prob >= 0 && arrival_prob <= 1, "arrival_prob", "a probability in [0, 1]" + got(arrival_prob));
  err.require(energy_budget_j >= 0, "energy_budget_j", "a budget >= 0 J" + got(energy_budget_j));
}

void EdgeServerConfig::validate(const ConfigErrors& err) const {
  err.require(!device_class.empty(), "device_class", "a device class name");
  err.require(!variant.empty(), "variant", "a model variant name");
  err.require(max_batch >= 1 && max_batch <= 1024, "max_batch", fmt::format("in [1, 1024], got {}", max_batch));
  err.require(batch_kappa >= 0, "batch_kappa", ">= 0" + got(batch_kappa));
}

void ConstraintConfig::validate(const ConfigErrors& err) const {
  err.require(accuracy_min >= 0 && accuracy_min <= 1, "accuracy_min", "in [0, 1]" + got(accuracy_min));
  err.require(hallucination_max >= 0 && hallucination_max <= 1, "hallucination_max", "in [0, 1]" + got(hallucination_max));
}

void BaselineConfig::validate(const ConfigErrors& err) const {
  err.require(threshold_min_difficulty >= 0 && threshold_min_difficulty <= 2, "threshold_min_difficulty",
              fmt::format("0 (easy), 1 (medium) or 2 (hard), got {}", threshold_min_difficulty));
  err.require(lyapunov_v >= 0, "lyapunov_v", ">= 0" + got(lyapunov_v));
  err.require(search_grid >= 2 && search_grid <= 1001, "search_grid", fmt::format("in [2, 1001], got {}", search_grid));
}

void Scenario::validate(const ConfigErrors& err) const {
  err.require(!name.empty(), "name", "a non-empty name");
  err.require(num_users >= 1 && num_users <= 100000, "num_users", fmt::format("in [1, 100000], got {}", num_users));
  err.require(horizon >= 1, "horizon", fmt::format("at least 1 slot, got {}", horizon));
  err.require(slot_s > 0, "slot_s", "a slot length > 0 s" + got(slot_s));
  err.require(latency_ref_s > 0, "latency_ref_s", "> 0 s" + got(latency_ref_s));
  channel.validate(err.nested("channel"));
  mobility.validate(err.nested("mobility"));
  workload.validate(err.nested("workload"));
  err.require(!user_groups.empty() && user_groups.size() <= 255, "user_groups",
              fmt::format("1 to 255 groups, got {}", user_groups.size()));
  for (size_t i = 0; i < user_groups.size(); ++i)
    user_groups[i].validate(err.nested("user_groups[" + std::to_string(i) + "]"));
  err.require(!edge_servers.empty(), "edge_servers", "at least one edge server");
  for (size_t i = 0; i < edge_servers.size(); ++i)
    edge_servers[i].validate(err.nested("edge_servers[" + std::to_string(i) + "]"));
  constraints.validate(err.nested("constraints"));
  baselines.validate(err.nested("baselines"));
}

void resolve_profiles(Scenario& s, const std::string& base_dir) {
  fs::path p(s.profiles);
  fs::path chosen;
  if (p.is_absolute()) {
    chosen = p;
  } else if (!base_dir.empty() && fs::exists(fs::path(base_dir) / p)) {
    chosen = fs::path(base_dir) / p;
  } else if (fs::exists(fs::path(config::config_dir()) / p)) {
    chosen = fs::path(config::config_dir()) / p;
  } else if (fs::exists(p)) {
    chosen = p;
  } else {
    throw InputError(fmt::format("scenario '{}': key 'profiles': profile file '{}' not found (looked in '{}' and '{}')",
                                 s.name, s.profiles, base_dir.empty() ? "." : base_dir, config::config_dir()));
  }
  ProfileSet set = load_profiles(chosen.string());
  s.profiles_path = chosen.string();
  s.group_profiles.clear();
  s.edge_profiles.clear();
  for (const auto& g : s.user_groups) s.group_profiles.push_back(set.get(g.device_class, g.variant));
  for (const auto& e : s.edge_servers) s.edge_profiles.push_back(set.get(e.device_class, e.variant));
}

Scenario load_scenario(const std::vector<std::string>& files, const std::vector<std::string>& sets) {
  Scenario s;
  config::load_layers(s, files, sets, "scenarios");
  std::string base_dir;
  if (!files.empty()) base_dir = fs::path(config::resolve_config_path(files.back(), "scenarios")).parent_path().string();
  resolve_profiles(s, base_dir);
  return s;
}

std::string scenario_yaml(const Scenario& scenario) {
  Scenario copy = scenario;
  std::string out = config::to_yaml(copy);
  if (!scenario.profiles_path.empty()) out += "# profiles read from: " + scenario.profiles_path + "\n";
  return out;
}

}  // namespace mecllm::mec
