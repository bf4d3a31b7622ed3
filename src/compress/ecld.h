// The ECLD pipeline (ecld.md): prune -> distill -> quantize -> deploy, with a per-stage report
// (size, parameters, perplexity, factworld accuracy and hallucination, decode speed) and, with
// baselines, quantization-only, pruning-only and pruning+quantization without distillation.
// Output directory:
//   config.yaml, stages/{pruned.gguf, pruned.prune.json, distill/, ecld.gguf, ecld.quant.json},
//   baselines/{quant_only.gguf, prune_only_f16.gguf, prune_quant.gguf}, model_card.{json,md},
//   report.json (every variant), report.md (the table), summary.json.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/compress_config.h"

namespace mecllm::compress {

struct EcldTarget {
  std::string device;        // a device class to fit, or ""
  int64_t budget_bytes = 0;  // a byte budget for the deployed model, or 0
};

// data_dir: a factworld directory (calibration, distillation data and the QA evaluation).
nlohmann::json run_ecld(const std::string& base_path, const std::string& data_dir, const EcldTarget& target,
                        const EcldConfig& cfg, const std::filesystem::path& out_dir);

// Size, parameters, bits per weight, factworld QA and perplexity, host decode speed of one model.
nlohmann::json evaluate_variant(const std::string& name, const std::string& model_path, const std::string& data_dir,
                                int qa_max_questions);

}  // namespace mecllm::compress
