// Every figure the evaluator reports says how it was obtained: `measured` on this machine (a
// timer, an energy counter, a scorer run) or `estimated` (a roofline or power model).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mecllm::eval {

enum class Provenance { measured, estimated };

inline std::string_view provenance_name(Provenance p) { return p == Provenance::measured ? "measured" : "estimated"; }

// A number with its unit, provenance and a short note on the method ("rapl package-0",
// "roofline: 0.62 x 25.6 GB/s / 13.1 MB per token").
struct Figure {
  double value = 0.0;
  std::string unit;
  Provenance provenance = Provenance::estimated;
  std::string method;

  nlohmann::json to_json() const {
    return {{"value", value}, {"unit", unit}, {"provenance", provenance_name(provenance)}, {"method", method}};
  }
};

}  // namespace mecllm::eval
