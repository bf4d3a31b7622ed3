// Roofline estimates of speed and energy of a model on a device class (ecld.md, "Device
// classes"):
//   decode tokens/s  = bandwidth_efficiency x class bandwidth / bytes read per token
//   prefill of L tokens takes max(L x FLOPs per token / (compute_efficiency x class peak),
//                                 one pass over the weights / (bandwidth_efficiency x bandwidth))
//   energy per query = active power x (prefill time + decode time), reported split.
// The efficiencies are the achieved shares of bandwidth and compute measured on the host
// (calibrate_roofline), or documented defaults labelled estimated when nothing was measured.
#pragma once

#include <cstdint>
#include <string>

#include "eval/device.h"
#include "eval/provenance.h"

namespace mecllm::eval {

// What the roofline needs to know about a model variant (filled from a model file by the
// runtime adapter, or by hand in tests).
struct ModelFootprint {
  std::string name;
  int64_t n_params = 0;            // all weights
  double weight_bytes = 0.0;       // bytes of all tensors as stored (quantised blocks included)
  double token_embd_bytes = 0.0;   // bytes of token_embd.weight (only one row is read per token when untied)
  bool tied_embeddings = false;    // the output head reads the whole token_embd
  int64_t n_layers = 0;
  int64_t kv_dim = 0;              // n_kv_heads x head_size
  int64_t q_dim = 0;               // n_heads x head_size
  int64_t seq_len = 0;             // the model's maximum context
  int64_t vocab_size = 0;
  int64_t dim = 0;

  double bits_per_weight() const { return n_params > 0 ? 8.0 * weight_bytes / double(n_params) : 0.0; }
  // Weight bytes streamed to decode one token (everything but the embedding table, which is
  // only gathered one row at a time unless it is also the output head).
  double weight_bytes_per_token() const { return tied_embeddings ? weight_bytes : weight_bytes - token_embd_bytes; }
  // KV cache bytes per position for all layers (K and V) at kv_elem_bytes per element.
  double kv_bytes_per_position(double kv_elem_bytes) const { return 2.0 * double(n_layers * kv_dim) * kv_elem_bytes; }
  // Matmul FLOPs per token at position `pos`: 2 per weight of every projection and the head,
  // plus attention (q.k and p.v over pos positions: 4 x n_layers x q_dim x pos).
  double flops_per_token(double pos) const;
  // Validates the fields (names the variant), so a broken footprint fails early.
  void check() const;
};

struct RooflineCalibration {
  double bandwidth_efficiency = 0.6;  // achieved decode bandwidth / peak bandwidth
  double compute_efficiency = 0.3;    // achieved prefill FLOP/s / peak FLOP/s
  // The shares as measured, before clamping (0: not measured), kept in the model card: a
  // bandwidth share above 1 shows the model was cache-resident on the host.
  double bandwidth_share_raw = 0.0;
  double compute_share_raw = 0.0;
  Provenance provenance = Provenance::estimated;
  std::string method = "default efficiencies (nothing measured)";
};

// Achieved shares on the host: decode bytes per token x measured decode tok/s / measured
// bandwidth, prefill FLOPs x measured prefill tok/s / measured peak (each clamped to (0, 1]).
RooflineCalibration calibrate_roofline(const ModelFootprint& model, const DeviceClass& host,
                                       double decode_tok_s, double prefill_tok_s, double context_pos,
                                       double kv_elem_bytes);

struct SpeedEstimate {
  double decode_tok_s = 0.0;      // at the mean context position of the query
  double prefill_tok_s = 0.0;     // for a prompt of prompt_tokens
  double prefill_s = 0.0;         // time to first token
  double decode_s = 0.0;          // output_tokens at decode_tok_s
  double bytes_per_token = 0.0;   // weights + KV read per decoded token
};

// Speed of a query of prompt_tokens in and output_tokens out.
SpeedEstimate estimate_speed(const ModelFootprint& model, const DeviceClass& device, const RooflineCalibration& cal,
                             int64_t prompt_tokens, int64_t output_tokens, double kv_elem_bytes);

struct QueryEnergy {
  double prefill_j = 0.0;
  double decode_j = 0.0;
  double total_j() const { return prefill_j + decode_j; }
  Provenance provenance = Provenance::estimated;
  std::string method;
};

// active power x time per phase (estimated).
QueryEnergy estimate_query_energy(const DeviceClass& device, const SpeedEstimate& speed);

}  // namespace mecllm::eval
