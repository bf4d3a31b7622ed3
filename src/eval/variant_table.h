// The ECLD comparison table (`mecllm experiment ecld-table`, ecld.md "Baselines always built
// beside ECLD"): one row per variant (base, quantization-only, pruning-only,
// pruning+quantization, ECLD) with the four metrics plus size and speed, built from the
// variants' model cards, and written as Markdown, CSV and JSON with two plots (size vs
// accuracy, energy vs hallucination).
//
// Every figure says where it comes from: size, bits per weight, quality and host speed are
// measured on the variant itself; accessibility and energy are given at the variant's own scale
// (estimated on every class with the host-calibrated roofline, as `mecllm eval` reports them)
// and at a deployment scale (deploy_scale.h: the variant's measured compression applied to a
// base of `deploy_params` parameters), where the tiny variants stop fitting everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mecllm::eval {

struct VariantTableOptions {
  double deploy_params = 1.2e9;                 // base size at deployment for every row
  std::string energy_device = "jetson-nano-4gb";  // the class whose energy/speed the table shows
  double deploy_bandwidth_efficiency = 0;       // 0: deploy_calibration's assumed share
  double deploy_compute_efficiency = 0;
};

struct VariantRow {
  std::string variant;
  std::string card_path;
  double n_params = 0, file_bytes = 0, weight_bytes = 0, bits_per_weight = 0;
  double kept_share = 0;                 // of the base's parameters
  double generalization_accuracy = 0;    // measured
  double hallucination_rate = 0;         // measured
  double host_decode_tok_s = 0, host_prefill_tok_s = 0;  // measured on this machine
  double accessibility = 0;              // share of classes, the variant's own scale (estimated)
  double deployed_params = 0;
  double deployed_accessibility = 0;     // share of classes at deployment scale (estimated)
  double deployed_energy_j = 0;          // reference query on energy_device (estimated)
  double deployed_decode_tok_s = 0;      // on energy_device (estimated)
  bool deployed_fits = false;            // on energy_device
};

// One row per (variant name, card directory); kept shares are relative to the row named "base"
// (InputError without one). InputError naming the card and field on anything missing.
std::vector<VariantRow> build_variant_rows(const std::vector<std::pair<std::string, std::string>>& cards,
                                           const VariantTableOptions& opt);

std::string variant_table_markdown(const std::vector<VariantRow>& rows, const VariantTableOptions& opt);
std::string variant_table_csv(const std::vector<VariantRow>& rows);
nlohmann::json variant_table_json(const std::vector<VariantRow>& rows, const VariantTableOptions& opt);

// Writes table.md, table.csv, table.json, size_vs_accuracy.png and energy_vs_hallucination.png
// (with their .dat/.gp) into dir.
void write_variant_table(const std::vector<VariantRow>& rows, const VariantTableOptions& opt,
                         const std::filesystem::path& dir);

}  // namespace mecllm::eval
