#include "eval/roofline.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.h"

namespace mecllm::eval {

double ModelFootprint::flops_per_token(double pos) const {
  double matmul_params = double(n_params) - (tied_embeddings ? 0.0 : double(vocab_size * dim));
  // The tied head is a matmul over the whole embedding table, already in n_params once.
  return 2.0 * std::max(0.0, matmul_params) + 4.0 * double(n_layers * q_dim) * pos;
}

void ModelFootprint::check() const {
  auto bad = [&](const char* field, double v, const char* expected) {
    throw InputError(fmt::format("model '{}': {} = {}, expected {}", name, field, v, expected));
  };
  if (n_params <= 0) bad("n_params", double(n_params), "> 0");
  if (!(weight_bytes > 0)) bad("weight_bytes", weight_bytes, "> 0");
  if (token_embd_bytes < 0 || token_embd_bytes >= weight_bytes) bad("token_embd_bytes", token_embd_bytes, "in [0, weight_bytes)");
  if (n_layers <= 0) bad("n_layers", double(n_layers), "> 0");
  if (kv_dim <= 0) bad("kv_dim", double(kv_dim), "> 0");
  if (q_dim <= 0) bad("q_dim", double(q_dim), "> 0");
  if (seq_len <= 0) bad("seq_len", double(seq_len), "> 0");
}

RooflineCalibration calibrate_roofline(const ModelFootprint& model, const DeviceClass& host, double decode_tok_s,
                                       double prefill_tok_s, double context_pos, double kv_elem_bytes) {
  model.check();
  MECLLM_CHECK(host.memory_bandwidth_gbs > 0 && host.peak_gflops > 0);
  RooflineCalibration c;
  double bytes = model.weight_bytes_per_token() + model.kv_bytes_per_position(kv_elem_bytes) * context_pos;
  double bw = bytes * decode_tok_s / (host.memory_bandwidth_gbs * 1e9);
  double flops = model.flops_per_token(context_pos) * prefill_tok_s / (host.peak_gflops * 1e9);
  // A tiny model fits in cache and can beat the DRAM roofline; a share above 1 is clamped so
  // the scaled estimate never exceeds a class's peak.
  c.bandwidth_share_raw = bw;
  c.compute_share_raw = flops;
  c.bandwidth_efficiency = std::clamp(bw, 1e-4, 1.0);
  c.compute_efficiency = std::clamp(flops, 1e-4, 1.0);
  c.provenance = Provenance::measured;
  c.method = fmt::format(
      "host: {:.1f} tok/s x {:.2f} MB/token = {:.2f} of {:.1f} GB/s{}; prefill {:.1f} tok/s = {:.3f} of {:.1f} GFLOP/s{}",
      decode_tok_s, bytes / 1e6, bw, host.memory_bandwidth_gbs, bw > 1.0 ? " (clamped to 1: cache-resident)" : "",
      prefill_tok_s, flops, host.peak_gflops, flops > 1.0 ? " (clamped to 1)" : "");
  return c;
}

SpeedEstimate estimate_speed(const ModelFootprint& model, const DeviceClass& device, const RooflineCalibration& cal,
                             int64_t prompt_tokens, int64_t output_tokens, double kv_elem_bytes) {
  model.check();
  MECLLM_CHECK(prompt_tokens >= 1 && output_tokens >= 0);
  SpeedEstimate s;
  const double bw = cal.bandwidth_efficiency * device.memory_bandwidth_gbs * 1e9;  // B/s achieved
  const double fl = cal.compute_efficiency * device.peak_gflops * 1e9;             // FLOP/s achieved
  const double mean_pos = double(prompt_tokens) + double(output_tokens) / 2.0;
  s.bytes_per_token = model.weight_bytes_per_token() + model.kv_bytes_per_position(kv_elem_bytes) * mean_pos;
  s.decode_tok_s = bw / s.bytes_per_token;
  s.decode_s = double(output_tokens) / s.decode_tok_s;
  double compute_s = double(prompt_tokens) * model.flops_per_token(double(prompt_tokens) / 2.0) / fl;
  double memory_s = model.weight_bytes_per_token() / bw;  // one pass over the weights per batch
  s.prefill_s = std::max(compute_s, memory_s);
  s.prefill_tok_s = double(prompt_tokens) / s.prefill_s;
  return s;
}

QueryEnergy estimate_query_energy(const DeviceClass& device, const SpeedEstimate& speed) {
  QueryEnergy e;
  e.prefill_j = device.active_power_w * speed.prefill_s;
  e.decode_j = device.active_power_w * speed.decode_s;
  e.provenance = Provenance::estimated;
  e.method = fmt::format("{:.1f} W x ({:.3f} s prefill + {:.3f} s decode)", device.active_power_w, speed.prefill_s,
                         speed.decode_s);
  return e;
}

}  // namespace mecllm::eval
