// Accessibility (ecld.md, "The four metrics"): a variant is deployable on a device class when
//   weights + KV cache for the configured context + runtime overhead <= usable memory
// and its roofline decode speed is >= min_decode_tok_s. The score is the share of classes
// where it is deployable. Storage size and time to first token are reported beside it.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "eval/device.h"
#include "eval/roofline.h"

namespace mecllm::eval {

struct AccessibilityConfig {
  int context_tokens = 2048;         // KV cache sized for this context (capped at the model's seq_len)
  double kv_elem_bytes = 2.0;        // F16 KV cache
  double runtime_overhead_mb = 256;  // engine, activations, tokenizer, OS slack (MB, 1e6 B)
  double min_decode_tok_s = 5.0;     // usable speed
  int prompt_tokens = 128;           // the reference query for speed, TTFT and energy
  int output_tokens = 128;

  template <class V>
  void visit(V& v) {
    v("context_tokens", context_tokens, "context the KV cache is sized for");
    v("kv_elem_bytes", kv_elem_bytes, "bytes per KV cache element (2: F16, 4: F32)");
    v("runtime_overhead_mb", runtime_overhead_mb, "runtime memory besides weights and KV (MB)");
    v("min_decode_tok_s", min_decode_tok_s, "decode speed a class must reach to count (tok/s)");
    v("prompt_tokens", prompt_tokens, "reference query: prompt tokens");
    v("output_tokens", output_tokens, "reference query: generated tokens");
  }
  void validate(const config::ConfigErrors& err) const {
    err.require(context_tokens > 0, "context_tokens", "must be > 0");
    err.require(kv_elem_bytes > 0, "kv_elem_bytes", "must be > 0");
    err.require(runtime_overhead_mb >= 0, "runtime_overhead_mb", "must be >= 0");
    err.require(min_decode_tok_s > 0, "min_decode_tok_s", "must be > 0");
    err.require(prompt_tokens > 0, "prompt_tokens", "must be > 0");
    err.require(output_tokens > 0, "output_tokens", "must be > 0");
  }
};

struct DeviceVerdict {
  std::string device;
  double memory_needed_bytes = 0.0;  // weights + KV + overhead
  double memory_usable_bytes = 0.0;
  double kv_cache_bytes = 0.0;
  bool fits = false;
  bool fast_enough = false;
  bool deployable() const { return fits && fast_enough; }
  double active_power_w = 0.0;  // the class's figures, carried for the profile
  double idle_power_w = 0.0;
  SpeedEstimate speed;     // roofline, reference query
  QueryEnergy energy;      // estimated per reference query
  std::string reason;      // why not deployable ("needs 5.2 GB > 3.2 GB usable"), "" when it is
};

struct AccessibilityReport {
  std::vector<DeviceVerdict> devices;
  double score = 0.0;          // share of classes where deployable
  double storage_bytes = 0.0;  // weights as stored
};

// One verdict per class. `cal` is the calibration to apply on every class.
AccessibilityReport assess_accessibility(const ModelFootprint& model, const std::vector<DeviceClass>& devices,
                                         const RooflineCalibration& cal, const AccessibilityConfig& cfg);

}  // namespace mecllm::eval
