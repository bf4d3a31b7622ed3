// Reading fields of a model card (model_card.json) with errors that name the file and the
// dotted key path ("accessibility.devices.0.idle_power_w"), for everything that consumes cards.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mecllm::eval {

// The value at a dotted key path (array items by index); InputError naming `path` and the key
// path when absent.
const nlohmann::json& card_at(const nlohmann::json& card, const std::string& path, const std::string& key_path);
// The same, required to be a number.
double card_number(const nlohmann::json& card, const std::string& path, const std::string& key_path);

}  // namespace mecllm::eval
