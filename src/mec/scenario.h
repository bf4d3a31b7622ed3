// A MEC offloading scenario: every default of ../shared/design/mec-model.md as a config field.
// Defaults live here; configs/scenarios/*.yaml only override (see docs/mec.md for the
// calibrated default scenario and each departure from mec-model.md).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "mec/profile.h"

namespace mecllm::mec {

struct ChannelConfig {
  double bandwidth_hz = 20e6;           // total bandwidth B shared by the users of the cell
  double tx_power_dbm = 23;             // user transmit power p_tx (23 dBm = 0.2 W)
  double circuit_power_w = 0.1;         // radio circuit power added while transmitting
  double rx_power_w = 0.1;              // device power while receiving the answer
  double bs_tx_power_dbm = 40;          // base-station power for the downlink
  double noise_psd_dbm_hz = -174;       // thermal noise density N0
  double noise_figure_db = 9;           // receiver noise figure added to N0
  double pathloss_intercept_db = 128.1; // PL(d) = intercept + slope log10(d / 1 km) (TR 36.814)
  double pathloss_slope_db = 37.6;
  double shadowing_sigma_db = 8;        // log-normal shadowing; 0 disables it
  double shadowing_decorrelation_m = 50;// Gudmundson: corr = exp(-moved / this)
  std::string fading = "rayleigh";      // none | rayleigh | rician
  double rician_k = 3;                  // Rician K factor (linear), used when fading = rician
  double fading_rho = 0.9;              // Gauss-Markov correlation of h between slots
  double min_distance_m = 10;           // distances are clamped here (path loss has a log)
  double upload_timeout_s = 30;         // an upload longer than this is abandoned (0: never)
  bool policy_bandwidth = false;        // the policy also outputs a bandwidth weight (act_dim 2)
  double bandwidth_softmax_scale = 4;   // share_n = softmax(scale * a_n) over offloading users

  template <class V>
  void visit(V& v) {
    v("bandwidth_hz", bandwidth_hz, "total bandwidth B (Hz)");
    v("tx_power_dbm", tx_power_dbm, "user transmit power (dBm)");
    v("circuit_power_w", circuit_power_w, "radio circuit power while transmitting (W)");
    v("rx_power_w", rx_power_w, "device power while receiving (W)");
    v("bs_tx_power_dbm", bs_tx_power_dbm, "base station downlink power (dBm)");
    v("noise_psd_dbm_hz", noise_psd_dbm_hz, "noise power spectral density N0 (dBm/Hz)");
    v("noise_figure_db", noise_figure_db, "receiver noise figure (dB)");
    v("pathloss_intercept_db", pathloss_intercept_db, "path loss at 1 km (dB)");
    v("pathloss_slope_db", pathloss_slope_db, "path loss per decade of distance (dB)");
    v("shadowing_sigma_db", shadowing_sigma_db, "log-normal shadowing std (dB), 0 = off");
    v("shadowing_decorrelation_m", shadowing_decorrelation_m, "shadowing decorrelation distance (m)");
    v("fading", fading, "small-scale fading: none | rayleigh | rician");
    v("rician_k", rician_k, "Rician K factor (linear)");
    v("fading_rho", fading_rho, "Gauss-Markov correlation of fading between slots");
    v("min_distance_m", min_distance_m, "minimum user-BS distance (m)");
    v("upload_timeout_s", upload_timeout_s, "abandon an upload after this long and run locally (s, 0 = never)");
    v("policy_bandwidth", policy_bandwidth, "policy outputs a bandwidth weight as a second action");
    v("bandwidth_softmax_scale", bandwidth_softmax_scale, "softmax scale of the bandwidth action");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct MobilityConfig {
  double cell_radius_m = 250;  // users live in a disc of this radius around the base station
  double speed_min_mps = 0;    // random waypoint speed range
  double speed_max_mps = 2;

  template <class V>
  void visit(V& v) {
    v("cell_radius_m", cell_radius_m, "cell radius R (m)");
    v("speed_min_mps", speed_min_mps, "random waypoint minimum speed (m/s)");
    v("speed_max_mps", speed_max_mps, "random waypoint maximum speed (m/s)");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct WorkloadConfig {
  int prompts_min = 1;                   // J ~ uniform{prompts_min..prompts_max}
  int prompts_max = 8;
  double input_tokens_median = 128;      // L_in log-normal
  double output_tokens_median = 96;      // L_out log-normal
  double tokens_sigma = 0.5;             // log-normal shape of both token lengths
  double tokens_min = 8;                 // clip range of token lengths
  double tokens_max = 2048;
  double context_bytes_median = 100e3;   // attached context C per prompt, log-normal
  double context_sigma = 1.0;
  double context_bytes_max = 2e6;        // clip range [0, this]
  double request_overhead_bytes = 2048;  // fixed per offloaded prompt
  double bits_per_token = 32;            // beta_tok
  std::vector<double> difficulty_mix = {0.5, 0.3, 0.2};  // easy, medium, hard
  bool round_to_prompts = true;          // x is rounded to whole prompts (else a fluid share)
  bool sample_outcomes = false;          // Bernoulli accuracy/hallucination per prompt (testbed-like)

  template <class V>
  void visit(V& v) {
    v("prompts_min", prompts_min, "fewest prompts J in a task");
    v("prompts_max", prompts_max, "most prompts J in a task");
    v("input_tokens_median", input_tokens_median, "median prompt length L_in (tokens)");
    v("output_tokens_median", output_tokens_median, "median answer length L_out (tokens)");
    v("tokens_sigma", tokens_sigma, "log-normal sigma of token lengths");
    v("tokens_min", tokens_min, "token lengths are clipped to [tokens_min, tokens_max]");
    v("tokens_max", tokens_max, "");
    v("context_bytes_median", context_bytes_median, "median attached context per prompt (bytes)");
    v("context_sigma", context_sigma, "log-normal sigma of the context size");
    v("context_bytes_max", context_bytes_max, "context size clip (bytes)");
    v("request_overhead_bytes", request_overhead_bytes, "fixed overhead per offloaded prompt (bytes)");
    v("bits_per_token", bits_per_token, "bits per token on the air (beta_tok)");
    v("difficulty_mix", difficulty_mix, "probabilities of easy, medium, hard");
    v("round_to_prompts", round_to_prompts, "round x to whole prompts (false: fluid share)");
    v("sample_outcomes", sample_outcomes, "sample accuracy/hallucination per prompt (Bernoulli)");
  }
  void validate(const config::ConfigErrors& err) const;
};

// A group of users sharing a device class, a local model variant, a load and an energy budget.
struct UserGroup {
  std::string name = "users";
  std::string device_class = "jetson-nano-4gb";
  std::string variant = "ecld";
  double share = 1.0;            // fraction of the N users in this group (normalised over groups)
  double arrival_prob = 0.02;    // p_n: a new task per slot with this probability
  double energy_budget_j = 1.0;  // Ebar_n: average device energy per slot (J)

  template <class V>
  void visit(V& v) {
    v("name", name, "label in reports");
    v("device_class", device_class, "profile device class of these users");
    v("variant", variant, "profile variant of the local compact model");
    v("share", share, "fraction of users in this group");
    v("arrival_prob", arrival_prob, "task arrival probability per slot p_n");
    v("energy_budget_j", energy_budget_j, "average energy budget per slot (J)");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct EdgeServerConfig {
  std::string device_class = "edge-server-h200";
  std::string variant = "base";
  int max_batch = 32;         // b_max: sequences decoded concurrently for this cell
  double batch_kappa = 0.05;  // t_dec(b) = t_dec(1) (1 + kappa (b - 1))

  template <class V>
  void visit(V& v) {
    v("device_class", device_class, "profile device class of the server");
    v("variant", variant, "profile variant of the edge model");
    v("max_batch", max_batch, "b_max: concurrent sequences granted to this cell");
    v("batch_kappa", batch_kappa, "decode slow-down per extra sequence in the batch");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct ConstraintConfig {
  double accuracy_min = 0.65;      // A_min on the mean effective accuracy
  double hallucination_max = 0.10; // H_max on the mean hallucination rate

  template <class V>
  void visit(V& v) {
    v("accuracy_min", accuracy_min, "floor on average effective accuracy A_min");
    v("hallucination_max", hallucination_max, "ceiling on average hallucination H_max");
  }
  void validate(const config::ConfigErrors& err) const;
};

// Parameters of the heuristic baselines (baselines.h), so a sweep can tune them like the rest.
struct BaselineConfig {
  double threshold_gain_db = -100;   // threshold router: "good channel" = gain at least this (dB)
  int threshold_min_difficulty = 2;  // threshold router: offload tasks at least this hard (0..2)
  double lyapunov_v = 0.1;           // drift-plus-penalty weight V of latency / T_ref
  int search_grid = 11;              // candidate x values of the per-slot searches (fluid mode)
  bool sequential_in_slot = true;    // per-slot searches see the load of users decided before them

  template <class V>
  void visit(V& v) {
    v("threshold_gain_db", threshold_gain_db, "threshold router: offload if channel gain >= this (dB)");
    v("threshold_min_difficulty", threshold_min_difficulty, "threshold router: offload if difficulty >= this (0 easy, 2 hard)");
    v("lyapunov_v", lyapunov_v, "drift-plus-penalty V (weight of latency against the virtual queues)");
    v("search_grid", search_grid, "number of candidate x in the greedy/Lyapunov searches when x is fluid");
    v("sequential_in_slot", sequential_in_slot,
      "greedy/Lyapunov users decide in turn and see the edge load of those before them (false: all decide on the "
      "slot-start state at once, as a learned policy does)");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct Scenario {
  std::string name = "default";
  std::string profiles = "profiles/ecld-factworld.json";  // relative to the scenario file, then configs/
  int num_users = 10;        // N when a command does not say
  int horizon = 200;         // slots per episode
  double slot_s = 1.0;       // slot length Delta (s)
  double latency_ref_s = 10; // T_ref of the reward
  bool observe_greedy_share = false;  // one more observation feature (VecEnv::Impl::greedy_share)
  ChannelConfig channel;
  MobilityConfig mobility;
  WorkloadConfig workload;
  std::vector<UserGroup> user_groups = {UserGroup{}};
  std::vector<EdgeServerConfig> edge_servers = {EdgeServerConfig{}};
  ConstraintConfig constraints;
  BaselineConfig baselines;

  // Resolved by load_scenario()/resolve_profiles(), not part of the YAML:
  std::string profiles_path;           // the file actually read
  std::vector<Profile> group_profiles; // one per user group
  std::vector<Profile> edge_profiles;  // one per edge server

  template <class V>
  void visit(V& v) {
    v("name", name, "scenario name used in run directory names");
    v("profiles", profiles, "profile JSON (relative to the scenario file, then configs/)");
    v("num_users", num_users, "default number of users N");
    v("horizon", horizon, "slots per episode");
    v("slot_s", slot_s, "slot length (s)");
    v("latency_ref_s", latency_ref_s, "latency normaliser T_ref of the reward (s)");
    v("observe_greedy_share", observe_greedy_share,
      "append to each observation the offload share of least latency against the slot-start state (what "
      "greedy-latency picks when all users decide at once; a deployment then needs the server's queue state)");
    v("channel", channel);
    v("mobility", mobility);
    v("workload", workload);
    v("user_groups", user_groups);
    v("edge_servers", edge_servers);
    v("constraints", constraints);
    v("baselines", baselines);
  }
  void validate(const config::ConfigErrors& err) const;
  int act_dim() const { return channel.policy_bandwidth ? 2 : 1; }
};

// Loads scenario layers (names like "default"/"tiny" look in configs/scenarios/, or paths),
// then --set overrides, validates, and reads the profile file. `profiles` is resolved relative
// to the directory of the last scenario file that set it, then relative to configs/.
Scenario load_scenario(const std::vector<std::string>& files, const std::vector<std::string>& sets = {});

// Reads scenario.profiles (relative to base_dir, then configs/) and fills the resolved fields.
void resolve_profiles(Scenario& scenario, const std::string& base_dir);

// The resolved scenario as YAML (for config.yaml echoes).
std::string scenario_yaml(const Scenario& scenario);

}  // namespace mecllm::mec
