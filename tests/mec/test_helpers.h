// Shared helpers of the mec tests: scenarios built from the repository's configs.
#pragma once

#include <string>
#include <vector>

#include "mec/scenario.h"

namespace mecllm::mec::testing {

inline std::string config_path(const std::string& rel) { return std::string(MECLLM_SOURCE_DIR) + "/configs/" + rel; }

inline Scenario load(const std::string& name, const std::vector<std::string>& sets = {}) {
  return load_scenario({config_path("scenarios/" + name + ".yaml")}, sets);
}

}  // namespace mecllm::mec::testing
