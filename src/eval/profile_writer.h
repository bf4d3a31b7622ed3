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
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mecllm::eval {

// Reads <dir>/model_card.json of every dir and builds the profile document. InputError naming
// the card file and field on anything missing or malformed, or on two dirs with one name.
nlohmann::json build_profiles(const std::vector<std::string>& card_dirs);

// Entries of one card (variant = `variant`); `path` names the card in errors.
std::vector<nlohmann::json> profiles_of_card(const nlohmann::json& card, const std::string& variant,
                                             const std::string& path);

// Writes the document atomically (parent directories created).
void write_profiles(const nlohmann::json& doc, const std::string& path);

}  // namespace mecllm::eval
