// Stage III of ECLD: weight-only quantization of a whole model (RTN, GPTQ, AWQ; see
// quant_methods.h) with a mixed-precision rule, and llama.cpp's scoreboard against the
// unquantized model: bits per weight, size, perplexity, KL divergence and top-1 agreement,
// measured with the deployment engine (runtime/transformer.h) on the exported file.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "compress/dense_model.h"

namespace mecllm::compress {

struct QuantizeConfig {
  std::string type = "q4_k";      // q8_0 | q4_0 | q4_k
  std::string method = "rtn";     // rtn | gptq | awq
  std::string mixed = "none";     // none | sensitive: keep mixed_tensors at mixed_type
  std::string mixed_type = "q8_0";
  // "blk.last" names the last block.
  std::vector<std::string> mixed_tensors = {"token_embd.weight", "output.weight", "blk.0.ffn_down.weight",
                                            "blk.last.ffn_down.weight"};
  double gptq_damp = 0.01;        // damping x mean(diag H)
  int gptq_block = 128;           // lazy-batch columns
  int awq_grid = 20;              // alpha steps in [0, 1]
  int awq_max_tokens = 0;         // calibration tokens in the AWQ searches (0 = all)
  int awq_clip_grid = 10;         // clipping ratios tried per block (0 = no clipping search)
  double awq_clip_min_ratio = 0.5;  // smallest clipping ratio (share of the block's max |w|)
  int calib_sequences = 128;
  int calib_seq_len = 128;
  int eval_sequences = 16;        // windows of the evaluation text for perplexity / KL / top-1
  int threads = 2;                // engine threads for the evaluation

  template <class V>
  void visit(V& v) {
    v("type", type, "q8_0 | q4_0 | q4_k");
    v("method", method, "rtn | gptq | awq");
    v("mixed", mixed, "none | sensitive (mixed_tensors kept at mixed_type)");
    v("mixed_type", mixed_type, "type of the sensitive tensors: f32 f16 q8_0");
    v("mixed_tensors", mixed_tensors, "tensor names kept at higher precision; blk.last = last block");
    v("gptq_damp", gptq_damp, "GPTQ damping as a share of mean(diag H), > 0");
    v("gptq_block", gptq_block, "GPTQ lazy-batch width in columns");
    v("awq_grid", awq_grid, "AWQ alpha grid steps");
    v("awq_max_tokens", awq_max_tokens, "calibration tokens in the AWQ searches (0 = every calibration token)");
    v("awq_clip_grid", awq_clip_grid, "AWQ clipping ratios tried per block, 1 down to awq_clip_min_ratio; 0 = off");
    v("awq_clip_min_ratio", awq_clip_min_ratio, "smallest AWQ clipping ratio, in (0, 1]");
    v("calib_sequences", calib_sequences, "calibration windows (GPTQ/AWQ)");
    v("calib_seq_len", calib_seq_len, "tokens per calibration window");
    v("eval_sequences", eval_sequences, "evaluation windows (perplexity, KL, top-1); 0 = skip");
    v("threads", threads, "inference threads for the evaluation");
  }
  void validate(const config::ConfigErrors& err) const;
  runtime::QuantType quant_type() const;
};

// The deployed type of each tensor under cfg (type, mixed rule; block fallback not applied).
TypeRule quantize_type_rule(const QuantizeConfig& cfg, const runtime::ModelConfig& c);
// AWQ in place on m (scale search, folding, clipping search; see quant_methods.h), before the
// tensors are rounded by RTN with `rule`'s types. Returns the per-group report.
nlohmann::json apply_awq(DenseModel& m, const std::vector<std::vector<int32_t>>& calib, const QuantizeConfig& cfg,
                         const TypeRule& rule);

// The quantized tensors in expected_tensors order. calib may be empty for rtn.
struct QuantizeResult {
  std::vector<runtime::OwnedTensor> tensors;
  nlohmann::json report;  // per-tensor type, AWQ alphas, GPTQ/AWQ layer errors
};
QuantizeResult quantize_model(DenseModel m, const std::vector<std::vector<int32_t>>& calib, const QuantizeConfig& cfg);

// Perplexity of both models, mean KL(ref || test) per token and top-1 agreement on windows,
// with the runtime engine.
nlohmann::json compare_models(const std::string& ref_path, const std::string& test_path,
                              const std::vector<std::vector<int32_t>>& windows, int threads);

// `mecllm quantize`: writes out_path (GGUF) and <stem>.quant.json; returns the report. The
// evaluation text is eval_path, or text_heldout.txt when calib_path is a factworld directory.
nlohmann::json run_quantize(const std::string& model_path, const std::string& calib_path, const std::string& eval_path,
                            const QuantizeConfig& cfg, const std::string& out_path);

}  // namespace mecllm::compress
