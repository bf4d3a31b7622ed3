// The shared data folder (models, golden outputs) of the tests: $MECLLM_SHARED_DIR when set and
// non-empty (e.g. a copy carried inside the checkout on another machine), else the ../shared
// beside the source tree that tests/CMakeLists.txt compiles in as MECLLM_SHARED_DIR.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mecllm::testing {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("MECLLM_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return MECLLM_SHARED_DIR;
}

// One JSON value per non-empty line (the golden logits files are JSON Lines).
inline std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// |got - want| / max(1, |want|): the relative measure the golden README asks for.
inline double golden_rel_err(double got, double want) { return std::abs(got - want) / std::max(1.0, std::abs(want)); }

// The largest relative error of one position's logits (V of them) against its golden row: the
// logits' sum, the largest logit and the first eight logits.
inline double golden_row_error(const float* row, size_t V, const nlohmann::json& g) {
  double sum = 0;
  for (size_t v = 0; v < V; ++v) sum += row[v];
  double err = std::max(golden_rel_err(sum, g["logits_sum"].get<double>()),
                        golden_rel_err(*std::max_element(row, row + V), g["max_logit"].get<double>()));
  for (size_t k = 0; k < 8; ++k) err = std::max(err, golden_rel_err(row[k], g["logits_first8"][k].get<double>()));
  return err;
}

}  // namespace mecllm::testing
