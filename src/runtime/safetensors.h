// Safetensors (Hugging Face) reading and the HF <-> GGUF tensor name mapping.
//
//   u64 header_len | header_len bytes of JSON: {"__metadata__": {str: str}?,
//   "<name>": {"dtype": "F32"|"F16"|"BF16", "shape": [..], "data_offsets": [begin, end]}, ...}
//   | data (offsets relative to the end of the header)
// Offsets are checked to lie in the file, to match dtype x shape exactly, and not to overlap.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/model_config.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

struct SafetensorsTensor {
  std::string name;            // as in the file (HF name)
  QuantType type = QuantType::F32;
  std::vector<int64_t> shape;  // row-major, outermost first
  uint64_t begin = 0;          // absolute file offsets [begin, end)
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsTensor> tensors;        // in data order
  std::map<std::string, std::string> metadata;   // __metadata__
};

// Parses and validates the header of the file image `bytes` (errors name `path`).
SafetensorsHeader parse_safetensors(const std::string& path, std::span<const std::byte> bytes);

// HF name -> canonical GGUF name ("model.layers.3.self_attn.q_proj.weight" ->
// "blk.3.attn_q.weight"); nullopt for names that have no GGUF counterpart.
std::optional<std::string> hf_to_gguf_name(const std::string& hf_name);
// Canonical GGUF name -> HF name (InternalError for a name outside expected_tensors()).
std::string gguf_to_hf_name(const std::string& gguf_name);

// Row permutation between HF's rotate_half q/k layout and the interleaved layout llama.cpp
// uses for the llama arch (convert_hf_to_gguf.py's permute): within each head of head_size
// rows, HF row i * head_size/2 + j becomes row 2 * j + i. `rows` = n_head * head_size rows of
// `row_bytes` bytes each. to_interleaved=false applies the inverse.
void permute_qk_rows(std::span<const std::byte> src, std::span<std::byte> dst, int n_head, int head_size,
                     size_t row_bytes, bool to_interleaved);

// Whether HF q/k weights of this config need that permutation (llama / mistral).
bool hf_needs_qk_permute(const ModelConfig& config);

}  // namespace mecllm::runtime
