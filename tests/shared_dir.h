// The shared data folder (models, golden outputs) of the tests: $MECLLM_SHARED_DIR when set and
// non-empty (e.g. a copy carried inside the checkout on another machine), else the ../shared
// beside the source tree that tests/CMakeLists.txt compiles in as MECLLM_SHARED_DIR.
#pragma once

#include <cstdlib>
#include <filesystem>

namespace mecllm::testing {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("MECLLM_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return MECLLM_SHARED_DIR;
}

}  // namespace mecllm::testing
