// `mecllm convert`: any checkpoint format to any other, optionally re-quantising the matrices.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/model_config.h"
#include "runtime/model_file.h"

namespace mecllm::runtime {

struct ConvertOptions {
  std::string input;      // llama2.c .bin, .gguf, .safetensors or HF directory
  std::string output;     // format from the name: .gguf, .bin (llama2.c), .safetensors, or a directory (trailing '/')
  std::string type;       // "" keeps the source types where the output can hold them; f32|f16|bf16|q8_0|q4_0|q4_k
  std::string tokenizer;  // tokenizer file to embed in GGUF output (llama2.c tok*.bin, tokenizer.json, *.model)
  bool show_progress = true;
};

struct ConvertReport {
  ModelFormat input_format = ModelFormat::gguf;
  ModelFormat output_format = ModelFormat::gguf;
  ModelConfig config;
  int n_tensors = 0;
  int n_converted = 0;     // tensors whose type changed
  int n_fallback = 0;      // matrices whose rows did not fit the requested block size (kept finer)
  uint64_t input_bytes = 0;   // tensor data
  uint64_t output_bytes = 0;  // tensor data
  double output_bits_per_weight = 0;
  std::string tokenizer;   // what happened to the tokenizer, one line
};

// The output format a path asks for: "x.gguf", "x.bin", "x.safetensors", "dir/" or an existing
// directory (Hugging Face layout). InputError naming the path otherwise.
ModelFormat output_format_for(const std::string& path);

// Reads, converts and writes (atomically). Matrices take `type`; 1-D tensors (norms, biases)
// stay F32 in GGUF/llama2.c and take the float type in safetensors. A matrix whose row length
// is not a multiple of the type's block gets the next finer type that fits (q4_k -> q4_0 ->
// q8_0 -> f16), as llama.cpp's quantizer falls back, and is counted in n_fallback.
ConvertReport convert_model(const ConvertOptions& options);

}  // namespace mecllm::runtime
