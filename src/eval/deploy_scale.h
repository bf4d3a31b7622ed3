// Deployment-scale estimates (docs/eval.md "Deployment scale"). The project's own variants are
// tiny (about 1.4M parameters): their roofline rates on a Jetson would be thousands of tokens/s
// and every task would finish locally in milliseconds, so the offloading problem would be
// trivial. A deployment-scale estimate keeps what the variant's compression measurably did --
// the kept share of the base model's parameters (pruning) and the bits per weight
// (quantisation) -- applies it to a base model of an explicitly given size, and runs the same
// roofline as every other estimate. Quality figures are not scaled: they stay the measured ones.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "eval/accessibility.h"
#include "eval/roofline.h"

namespace mecllm::eval {

// The footprint as stored in a model card ("footprint": every field of ModelFootprint).
nlohmann::json footprint_to_json(const ModelFootprint& m);
// InputError naming `path` and the field when one is missing or not a number.
ModelFootprint footprint_from_json(const nlohmann::json& j, const std::string& path);
RooflineCalibration calibration_from_json(const nlohmann::json& j, const std::string& path);

// Context of a deployment-scale model at least (every 1B-class Llama model has >= 2048).
inline constexpr int64_t kDeployMinContext = 2048;

// The variant with `deployed_params` parameters at its measured bits per weight: parameter
// count, weight bytes and embedding bytes scale by deployed_params / n_params (and `dim`, so
// that the embedding's vocab x dim parameters scale with them). The layer shape (n_layers,
// kv_dim, q_dim) stays the measured one and the context becomes at least kDeployMinContext: KV-cache traffic and attention FLOPs are not
// extrapolated (for a 1B-class model they are under 1% of the bytes and FLOPs per token at the
// reference query's context, docs/eval.md).
ModelFootprint scale_footprint(const ModelFootprint& m, double deployed_params);

// Efficiencies for a deployment-scale model: the given shares (> 0), else the code defaults of
// RooflineCalibration, the same for every variant, labelled assumed. The variant's own host
// calibration is deliberately not used: a ~1.4M-parameter model is cache-resident on the host, so
// its bandwidth share says nothing about streaming a deployment-scale model from DRAM, and on a
// shared 2-core machine its measured compute share swung 0.18-0.96 between runs of the same file
// (docs/eval.md). Identical efficiencies make the variants differ only by their measured
// compression. `method` says what applied and quotes the host's measured shares for reference.
RooflineCalibration deploy_calibration(const RooflineCalibration& measured, double bandwidth_share, double compute_share);

// A variant of a model card (model_card.json) deployed at `deployed_params` parameters on every
// device class of the card except `host`: the scaled footprint, the efficiencies used and the
// accessibility verdicts (speed, memory, energy per reference query) under the card's own rule.
struct DeployedVariant {
  ModelFootprint measured;  // the variant as measured
  ModelFootprint deployed;  // scaled
  RooflineCalibration calibration;
  AccessibilityReport report;
  std::string describe() const;  // what was measured and what was scaled, for `source` strings
};
DeployedVariant deploy_card(const nlohmann::json& card, const std::string& path, double deployed_params,
                            double bandwidth_share, double compute_share);

}  // namespace mecllm::eval
