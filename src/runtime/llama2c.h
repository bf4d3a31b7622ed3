// llama2.c checkpoints (Karpathy's run.c "version 0" layout), read strictly.
//
//   7 x int32 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//   (vocab_size < 0: the classifier is not shared), then float32 arrays: token embedding
//   (vocab, dim); rms_att (layers, dim); wq (layers, dim, dim); wk (layers, kv_dim, dim);
//   wv (layers, kv_dim, dim); wo (layers, dim, dim); rms_ffn (layers, dim);
//   w1 (layers, hidden, dim); w2 (layers, dim, hidden); w3 (layers, hidden, dim);
//   rms_final (dim); two legacy RoPE tables (seq_len * head_size / 2 each, skipped);
//   classifier (vocab, dim) only when not shared.
// The file size must equal exactly what the header implies (the "llama2.c gap" check).
#pragma once

#include <string>

#include "runtime/mapped_file.h"
#include "runtime/model_file.h"

namespace mecllm::runtime {

// True when the first bytes look like a llama2.c header (7 plausible int32), used by detect.
bool looks_like_llama2c(std::span<const std::byte> bytes);

// Builds the parts of a ModelFile from a mapped llama2.c file (errors name map.path()).
ModelFile::Parts read_llama2c(MappedFile map);

// Expected byte size of a llama2.c file for `config` (header + arrays + RoPE tables).
uint64_t llama2c_file_size(const ModelConfig& config);

}  // namespace mecllm::runtime
