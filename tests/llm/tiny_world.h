// A small factworld (12 people, 8 invented ones, a 320-token BPE) generated once per test
// program, for the tests that train on it (train-lm on the CPU and on CUDA).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/log.h"
#include "common/rundir.h"
#include "llm/factworld.h"

namespace mecllm::llm::testing {

// An empty path under the system temp folder, unique to this process; removed first if present.
inline std::filesystem::path fresh_temp_dir(const std::string& prefix, const std::string& name) {
  std::filesystem::path p =
      std::filesystem::temp_directory_path() / (prefix + name + "_" + std::to_string(::getpid()));
  remove_tree(p);
  return p;
}

inline const std::filesystem::path& tiny_world_dir() {
  static const std::filesystem::path dir = [] {
    set_log_sink(nullptr);
    std::filesystem::path d = fresh_temp_dir("mecllm_test_world_", "tiny");
    FactworldConfig w;
    w.n_entities = 12;
    w.n_fake_entities = 8;
    w.bios_per_entity = 2;
    w.tokenizer_vocab = 320;
    generate_factworld(w, d);
    return d;
  }();
  return dir;
}

}  // namespace mecllm::llm::testing
