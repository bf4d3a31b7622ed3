// The trainable Llama-family decoder in LibTorch: RMSNorm, RoPE (interleaved or neox), grouped-
// query attention, SwiGLU, optional tied embeddings, QK-norm, q/k/v biases and a sliding window.
//
// Parameter names are llama.cpp's canonical GGUF names ("token_embd.weight",
// "blk.3.attn_q.weight", ...; runtime/model_config.h expected_tensors), with the same row-major
// {out, in} shapes, so weights move in and out through runtime::ModelFile and the runtime writers
// without a renaming table. This header includes LibTorch: include it only from code that trains
// (the rest uses llm/torch_lm.h).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "runtime/model_config.h"
#include "runtime/model_file.h"
#include "runtime/model_writer.h"

namespace mecllm::llm {

// A leaf holding one weight (and optionally a bias) under llama.cpp's name.
struct ParamImpl : torch::nn::Module {
  ParamImpl(std::vector<int64_t> shape, bool with_bias);
  torch::Tensor weight;  // shape as given: (out, in) for a projection, (n) for a norm
  torch::Tensor bias;    // (out) or undefined
};
TORCH_MODULE(Param);

struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(const runtime::ModelConfig& c);
  Param attn_norm{nullptr};    // (dim)
  Param attn_q{nullptr};       // (n_heads * head_size, dim) [+ bias]
  Param attn_k{nullptr};       // (n_kv_heads * head_size, dim) [+ bias]
  Param attn_v{nullptr};       // (n_kv_heads * head_size, dim) [+ bias]
  Param attn_q_norm{nullptr};  // (head_size), QK-norm only
  Param attn_k_norm{nullptr};  // (head_size), QK-norm only
  Param attn_output{nullptr};  // (dim, n_heads * head_size)
  Param ffn_norm{nullptr};     // (dim)
  Param ffn_gate{nullptr};     // (hidden_dim, dim)  llama2.c w1
  Param ffn_down{nullptr};     // (dim, hidden_dim)  llama2.c w2
  Param ffn_up{nullptr};       // (hidden_dim, dim)  llama2.c w3
};
TORCH_MODULE(Block);

struct TransformerImpl : torch::nn::Module {
  explicit TransformerImpl(const runtime::ModelConfig& config);

  // tokens (B, T) int64 -> logits (B, T, vocab_size). Causal over the T positions given.
  torch::Tensor forward(const torch::Tensor& tokens);
  // Same, returning the final normalised hidden states (B, T, dim) (for distillation losses).
  torch::Tensor hidden(const torch::Tensor& tokens);

  // GPT-2/llama2.c-style init: N(0, 0.02), residual output projections scaled by
  // 1/sqrt(2 n_layers), norms at 1, biases at 0. Uses torch's generator (seed it first).
  void init_weights();
  // Copies every tensor from `file` (dequantised); InputError when the config differs or a
  // tensor is missing or has another shape.
  void load_from(const runtime::ModelFile& file);
  // The weights as writer tensors, in expected_tensors() order; `type` applies to matrices,
  // norms and biases stay F32.
  std::vector<runtime::OwnedTensor> export_tensors(runtime::QuantType type);

  runtime::ModelConfig config;
  Param token_embd{nullptr};   // (vocab_size, dim)
  torch::nn::ModuleList blk;   // n_layers x Block
  Param output_norm{nullptr};  // (dim)
  Param output{nullptr};       // (vocab_size, dim), absent when tied
  torch::Tensor rope_cos;      // (seq_len, head_size / 2) buffer
  torch::Tensor rope_sin;      // (seq_len, head_size / 2) buffer
};
TORCH_MODULE(Transformer);

// "cpu", "cuda", "cuda:N" -> a device; InputError when unknown or CUDA is unavailable.
torch::Device parse_device(const std::string& name);

}  // namespace mecllm::llm
