// A plain float forward pass of a DenseModel that keeps every intermediate activation: the
// calibration "taps" that pruning importance, GPTQ Hessians and AWQ scale search read. The
// deployment engine (runtime/transformer.h) is built for speed and exposes no taps, so this is
// a second, deliberately simple implementation; tests check it gives the engine's logits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "compress/dense_model.h"

namespace mecllm::compress {

struct LayerTrace {
  std::vector<float> x_in;      // (T, dim) residual stream entering the block
  std::vector<float> attn_in;   // (T, dim) attn_norm output: input of attn_q/k/v
  std::vector<float> attn_out;  // (T, q_dim) per-head attention output: input of attn_output
  std::vector<float> ffn_in;    // (T, dim) ffn_norm output: input of ffn_gate/ffn_up
  std::vector<float> ffn_act;   // (T, hidden_dim) silu(gate) * up: input of ffn_down
  std::vector<float> x_out;     // (T, dim) residual stream leaving the block
};

struct Trace {
  int n_tokens = 0;
  std::vector<LayerTrace> layers;  // (n_layers), empty when not kept
  std::vector<float> final_in;     // (T, dim) output_norm output: input of the output head
  std::vector<float> logits;       // (T, vocab_size)
};

// One causal pass over tokens[0..T) at positions 0..T-1 (T <= seq_len).
Trace forward_trace(const DenseModel& m, std::span<const int32_t> tokens, bool keep_layers = true);

// y (T, out) = x (T, in) . W^T with W (out, in) row-major.
void matmul_xwt(const float* x, int64_t T, int64_t in, const float* w, int64_t out, float* y);

// Softmax of logits (n) at temperature 1 into p (n); returns log-sum-exp.
double log_softmax_row(const float* logits, int64_t n, std::vector<double>& logp);

}  // namespace mecllm::compress
