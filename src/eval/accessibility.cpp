#include "eval/accessibility.h"

#include <fmt/format.h>

#include <algorithm>

namespace mecllm::eval {

AccessibilityReport assess_accessibility(const ModelFootprint& model, const std::vector<DeviceClass>& devices,
                                         const RooflineCalibration& cal, const AccessibilityConfig& cfg) {
  model.check();
  AccessibilityReport r;
  r.storage_bytes = model.weight_bytes;
  int deployable = 0;
  const int64_t ctx = std::min<int64_t>(cfg.context_tokens, model.seq_len);
  for (const auto& d : devices) {
    DeviceVerdict v;
    v.device = d.name;
    v.active_power_w = d.active_power_w;
    v.idle_power_w = d.idle_power_w;
    v.kv_cache_bytes = model.kv_bytes_per_position(cfg.kv_elem_bytes) * double(ctx);
    v.memory_needed_bytes = model.weight_bytes + v.kv_cache_bytes + cfg.runtime_overhead_mb * 1e6;
    v.memory_usable_bytes = d.usable_memory_gb * 1e9;
    v.fits = v.memory_needed_bytes <= v.memory_usable_bytes;
    v.speed = estimate_speed(model, d, cal, std::min<int64_t>(cfg.prompt_tokens, model.seq_len), cfg.output_tokens,
                             cfg.kv_elem_bytes);
    v.energy = estimate_query_energy(d, v.speed);
    v.fast_enough = v.speed.decode_tok_s >= cfg.min_decode_tok_s;
    if (!v.fits)
      v.reason = fmt::format("needs {:.2f} GB (weights {:.2f} + KV {:.2f} + overhead {:.2f}) > {:.2f} GB usable",
                             v.memory_needed_bytes / 1e9, model.weight_bytes / 1e9, v.kv_cache_bytes / 1e9,
                             cfg.runtime_overhead_mb / 1e3, d.usable_memory_gb);
    else if (!v.fast_enough)
      v.reason = fmt::format("decodes at {:.2f} tok/s < {:.2f} tok/s", v.speed.decode_tok_s, cfg.min_decode_tok_s);
    deployable += v.deployable();
    r.devices.push_back(std::move(v));
  }
  r.score = devices.empty() ? 0.0 : double(deployable) / double(devices.size());
  return r;
}

}  // namespace mecllm::eval
