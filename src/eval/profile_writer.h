// `mecllm profile`: turns model cards (written by `mecllm eval`) into the profile file the MEC
// simulator reads (format "mecllm-profiles/1", src/mec/profile.h, docs/mec.md): one entry per
// variant x device class where the variant fits in memory, with
//   prefill_tok_s, decode_tok_s     roofline estimates of the card (host: measured)
//   active_power_w, idle_power_w    the device class's figures (host: RAPL when readable)
//   memory_bytes                    weights + KV cache + runtime overhead of the card's rule
//   accuracy, hallucination         per difficulty class from the card's factworld QA (a class
//                                   absent from the data takes the overall figure, and the
//                                   entry's source says so), else HaluEval QA overall
// The variant name is the card directory's name.
//
// With a deployment scale (ProfileOptions, eval/deploy_scale.h) the rates, memory and
// accessibility are instead roofline estimates for the variant's compression applied to a base
// model of `deploy_params` parameters on every device class of the card except `host`; quality
// stays the measured one, and each entry's `source` says what was measured and what was scaled.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace mecllm::eval {

struct ProfileOptions {
  double deploy_params = 0;                         // base size at deployment (0: the cards' own scale)
  std::map<std::string, double> deploy_params_for;  // variant -> its base size at deployment (overrides)
  double base_params = 0;                           // measured base's parameters (0: the variant named "base")
  double deploy_bandwidth_efficiency = 0;           // > 0 overrides the assumed share (deploy_calibration)
  double deploy_compute_efficiency = 0;             // > 0 overrides the assumed share
  bool deploy() const { return deploy_params > 0 || !deploy_params_for.empty(); }
};

// Reads <dir>/model_card.json of every dir and builds the profile document. InputError naming
// the card file and field on anything missing or malformed, or on two dirs with one name.
nlohmann::json build_profiles(const std::vector<std::string>& card_dirs, const ProfileOptions& opt = {});

// Entries of one card (variant = `variant`); `path` names the card in errors.
std::vector<nlohmann::json> profiles_of_card(const nlohmann::json& card, const std::string& variant,
                                             const std::string& path);
// Entries of one card at deployment scale: the variant keeps `kept_share` of a base model of
// `base_deploy_params` parameters.
std::vector<nlohmann::json> deploy_profiles_of_card(const nlohmann::json& card, const std::string& variant,
                                                    const std::string& path, double base_deploy_params,
                                                    double kept_share, const ProfileOptions& opt);

// Writes the document atomically (parent directories created).
void write_profiles(const nlohmann::json& doc, const std::string& path);

}  // namespace mecllm::eval
