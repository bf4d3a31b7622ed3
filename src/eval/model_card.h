// The model card of one variant (ecld.md, "Stage IV"): size, bits per weight, speed on this
// machine, the four metrics (accessibility, energy per query, hallucination rate,
// generalization accuracy) and every task score, each figure labelled measured or estimated.
// Written as model_card.json (machine-readable; `mecllm profile` reads it) and model_card.md.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "eval/accessibility.h"
#include "eval/energy.h"
#include "eval/provenance.h"
#include "eval/scorers_ll.h"
#include "eval/scorers_qa.h"

namespace mecllm::eval {

struct ModelCard {
  std::string model_path;
  std::string arch_summary;  // "llama dim=64 hidden=172 layers=5 ..."
  ModelFootprint footprint;
  double file_bytes = 0.0;   // size of the model file on disk (measured)

  std::optional<Figure> host_decode_tok_s;   // measured on this machine
  std::optional<Figure> host_prefill_tok_s;  // measured on this machine
  std::optional<EnergyFigure> host_energy_per_query;  // RAPL-measured, or estimated with the reason
  RooflineCalibration calibration;
  AccessibilityConfig accessibility_config;
  AccessibilityReport accessibility;

  std::optional<QaResult> factworld;
  std::optional<QaResult> halueval;
  std::optional<McResult> mc;
  std::optional<TruthfulQaResult> truthfulqa;
  std::optional<PerplexityResult> perplexity;

  // The headline quality figures with the task they come from (nullopt: no task run).
  // Hallucination: factworld, else HaluEval, else TruthfulQA (1 - MC1).
  // Generalization accuracy: factworld held-out answerable, else MC acc, else HaluEval.
  std::optional<Figure> hallucination_rate() const;
  std::optional<Figure> generalization_accuracy() const;

  nlohmann::json to_json() const;
  std::string to_markdown() const;
};

nlohmann::json qa_to_json(const QaResult& r);
nlohmann::json qa_stats_to_json(const QaStats& s);

// Writes <dir>/model_card.json and <dir>/model_card.md atomically.
void write_model_card(const ModelCard& card, const std::filesystem::path& dir);

}  // namespace mecllm::eval
