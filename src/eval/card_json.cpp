#include "eval/card_json.h"

#include "common/errors.h"

namespace mecllm::eval {

using nlohmann::json;
// Walks a dotted key path of the card, failing with the file and the key.
const json& card_at(const json& j, const std::string& path, const std::string& key_path) {
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
double card_number(const json& j, const std::string& path, const std::string& key_path) {
  const json& v = card_at(j, path, key_path);
  if (!v.is_number()) throw_input_error(path, "model card field '{}' = {}, expected a number", key_path, v.dump());
  return v.get<double>();
}

}  // namespace mecllm::eval
