// Writing checkpoints: GGUF v3, llama2.c, safetensors (+ config.json). Every writer goes
// through a temporary file renamed into place, so a failure leaves no partial output.
//
// Tensors are given with canonical names and row-major shapes (model_file.h); writers check
// them against expected_tensors(config) first, so a file that is written can be read back.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "runtime/gguf.h"
#include "runtime/model_config.h"
#include "runtime/model_file.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

struct OwnedTensor {
  std::string name;
  QuantType type = QuantType::F32;
  std::vector<int64_t> shape;     // row-major, outermost first
  std::vector<std::byte> bytes;   // row_size(type, shape.back()) * rows

  TensorView view() const { return {name, type, shape, bytes}; }
};

// Quantises (or converts) float values into `type` with traits(type).from_float_ref.
// InputError when the row length shape.back() is not a multiple of the type's block size or
// values.size() does not match the shape.
OwnedTensor make_tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values,
                        QuantType type);
// Dequantises `src` and re-encodes it as `type` (a plain copy when the type is the same).
OwnedTensor convert_tensor(const TensorView& src, QuantType type);
std::vector<TensorView> views_of(const std::vector<OwnedTensor>& tensors);

// GGUF v3 with llama.cpp's keys for the config (config_to_gguf) plus every key of `extra`
// (tokenizer.ggml.*, general.name, ...; model keys in `extra` are overridden by the config).
void write_gguf(const std::string& path, const ModelConfig& config, std::span<const TensorView> tensors,
                const GgufMetadata& extra = GgufMetadata{});

// llama2.c layout: F32 only, arch llama with interleaved RoPE, no biases or QK-norm, head_dim
// dim/n_heads; untied models get a negative vocab_size and the classifier at the end.
// The RoPE tables llama2.c's format reserves are written as the real frequencies.
void write_llama2c(const std::string& path, const ModelConfig& config, std::span<const TensorView> tensors);

// Safetensors with Hugging Face names (model.layers.N.self_attn.q_proj.weight, ...; q/k rows
// permuted back for llama/mistral). `path` ending in ".safetensors" writes that file and a
// config.json beside it; otherwise `path` is a directory receiving model.safetensors and
// config.json. Types F32, F16 or BF16 (InputError otherwise).
void write_safetensors(const std::string& path, const ModelConfig& config, std::span<const TensorView> tensors);

}  // namespace mecllm::runtime
