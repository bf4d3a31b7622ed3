// Stage I of ECLD: structured pruning from calibration importance (docs/compress.md).
//
//  - attention heads: mean L2 norm of each head's contribution to the residual stream
//    (o_h . W_o[:, h]^T), or (head_score = taylor, LibTorch builds) the first-order Taylor score
//    mean sum |w * dL/dw| over the head's q rows and W_o columns; removed per KV group so every group keeps the same number of query
//    heads (GQA), or whole KV groups (head_unit = kv_group);
//  - MLP channels: mean |silu(gate) * up| times the L2 norm of the matching ffn_down column;
//  - hidden (embedding) channels: mean |RMSNorm output| per channel summed over every norm
//    (Minitron, Muralidharan et al. 2024);
//  - whole layers: block influence 1 - cos(x_in, x_out) (ShortGPT, Men et al. 2024).
// The result is a dense, smaller model with a consistent config: no masks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "compress/dense_model.h"

namespace mecllm::compress {

struct PruneConfig {
  double heads = 0.0;               // share of query heads removed per KV group (or of KV groups), [0, 1)
  std::string head_unit = "head";   // head | kv_group
  std::string head_score = "norm";  // norm (output norm) | taylor (first-order |w * dL/dw|)
  double ffn = 0.0;                 // share of MLP channels removed, [0, 1)
  double hidden = 0.0;              // share of hidden channels removed, [0, 1)
  int layers = 0;                   // whole layers removed (lowest block influence)
  int64_t budget_bytes = 0;         // > 0: choose ratios so the model fits this many bytes
  std::string device = "";          // a device class: choose ratios so the model fits and runs on it
  std::string budget_type = "q4_k"; // storage type the byte budget assumes (the deployed type)
  std::vector<std::string> budget_axes = {"ffn", "heads"};  // axes a budget prunes, with one ratio
  double device_min_tok_s = 5.0;    // device target: decode speed at least this (roofline)
  double device_bw_efficiency = 0.6;  // achieved share of peak memory bandwidth on the device
  int round_to = 32;                // kept ffn / hidden widths are multiples of this (quant blocks)
  int calib_sequences = 64;         // calibration windows
  int calib_seq_len = 128;          // tokens per window (capped by the model's seq_len)

  template <class V>
  void visit(V& v) {
    v("heads", heads, "share of query heads (per KV group) or KV groups removed, [0, 1)");
    v("head_unit", head_unit, "head | kv_group");
    v("head_score", head_score, "head importance: norm (output norm) | taylor (|w * dL/dw|, needs LibTorch)");
    v("ffn", ffn, "share of MLP channels removed, [0, 1)");
    v("hidden", hidden, "share of hidden (embedding) channels removed, [0, 1)");
    v("layers", layers, "whole layers removed by lowest block influence");
    v("budget_bytes", budget_bytes, "> 0: prune until the model in budget_type fits this many bytes");
    v("device", device, "device class to fit (configs/devices/<name>.yaml); empty = none");
    v("budget_type", budget_type, "storage type the budget assumes: f32 f16 q8_0 q4_0 q4_k");
    v("budget_axes", budget_axes, "axes a budget/device target prunes: ffn, heads, hidden");
    v("device_min_tok_s", device_min_tok_s, "device target: decode tokens/s at least");
    v("device_bw_efficiency", device_bw_efficiency, "share of the device's peak bandwidth achieved");
    v("round_to", round_to, "kept MLP / hidden widths are multiples of this");
    v("calib_sequences", calib_sequences, "calibration windows");
    v("calib_seq_len", calib_seq_len, "tokens per calibration window");
  }
  void validate(const config::ConfigErrors& err) const;
};

// Scores per unit; higher = more important.
struct Importance {
  std::vector<std::vector<double>> heads;  // (n_layers, n_heads)
  std::vector<std::vector<double>> ffn;    // (n_layers, hidden_dim)
  std::vector<double> hidden;              // (dim)
  std::vector<double> layers;              // (n_layers) block influence
  int64_t n_tokens = 0;
  nlohmann::json to_json() const;
};

// head_score "taylor" replaces the head scores by taylor_head_importance.
Importance compute_importance(const DenseModel& m, const std::vector<std::vector<int32_t>>& calib,
                             const std::string& head_score = "norm");
// (n_layers, n_heads) mean over calibration windows of sum |w * dL/dw| (next-token cross-entropy)
// over each head's attn_q rows and attn_output columns. LibTorch builds only (prune_taylor.cpp).
std::vector<std::vector<double>> taylor_head_importance(const DenseModel& m,
                                                        const std::vector<std::vector<int32_t>>& calib);

// What to keep, in original indices (sorted).
struct PrunePlan {
  std::vector<int> keep_layers;
  std::vector<std::vector<int>> keep_heads;  // (n_layers) query heads, grouped by kv head
  std::vector<std::vector<int>> keep_kv;     // (n_layers) kv heads
  std::vector<std::vector<int>> keep_ffn;    // (n_layers)
  std::vector<int> keep_hidden;
};

// Picks the least important units for explicit ratios. InputError (naming the option) for a
// ratio outside [0, 1), fewer than one head per KV group, or all layers removed.
PrunePlan plan_pruning(const runtime::ModelConfig& c, const Importance& imp, const PruneConfig& cfg);
// The config a plan gives (shapes only).
runtime::ModelConfig pruned_config(const runtime::ModelConfig& c, const PrunePlan& plan);
// The dense smaller model: rows/columns gathered, config updated.
DenseModel apply_plan(const DenseModel& m, const PrunePlan& plan);

// Budget and device targets: the explicit-ratio config that meets them (one ratio on every
// budget axis, then whole layers if needed). InputError when even the smallest model is too big.
// `rule` (optional) gives each tensor's deployed type (mixed precision); default budget_type.
PruneConfig resolve_targets(const runtime::ModelConfig& c, const Importance& imp, const PruneConfig& cfg,
                            const TypeRule& rule = {});

struct PruneResult {
  DenseModel model;
  nlohmann::json report;  // importance, plan, sizes before/after
};
PruneResult prune_model(const DenseModel& m, const std::vector<std::vector<int32_t>>& calib, const PruneConfig& cfg,
                        const TypeRule& rule = {});

// `mecllm prune`: loads model and calibration data, prunes, writes the model to out_path and
// the report to <out_path stem>.prune.json. Returns the report.
nlohmann::json run_prune(const std::string& model_path, const std::string& calib_path, const PruneConfig& cfg,
                         const std::string& out_path, const std::string& tokenizer_path = "");

}  // namespace mecllm::compress
