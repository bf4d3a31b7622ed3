// The CPU inference engine: a Llama-family decoder (Llama, Mistral, Qwen2, Qwen3) run on the
// weights of a ModelFile in place, as llama2.c splits it into three roles:
//   ModelConfig (the blueprint, model_config.h), TransformerWeights (views into the mapped file
//   or re-quantised copies), RunState (activations for a batch of tokens) plus the KvCache.
//
// forward() takes a batch of tokens at consecutive positions, so a prompt is processed as
// matrix-matrix products (each weight row is read once per batch, not once per token) and
// generation is the batch of one. Every matrix product goes through the run-time dispatched
// kernels (kernels.h) and is split by rows over the thread pool; results do not depend on the
// number of threads (each output is one dot product computed by exactly one thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/kv_cache.h"
#include "runtime/model_config.h"
#include "runtime/model_file.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"

namespace mecllm::runtime {

struct LoadOptions {
  // Re-encode every 2-D weight into this type at load (e.g. run an F32 checkpoint as Q8_0).
  // A row length the type's block does not divide falls back (Q4_K -> Q4_0 -> Q8_0 -> F16),
  // as llama.cpp does; each fallback is listed in Transformer::notes().
  std::optional<QuantType> weight_type;
  QuantType kv_type = QuantType::F32;  // F32 or F16
  int n_threads = 1;                   // >= 1
  int context = 0;                     // positions to allocate; 0: the model's seq_len
  int max_batch = 64;                  // tokens per forward chunk (prompt processing)
  // Store Q4_0 / Q8_0 matrices with a multiple of 8 rows in the rows8 layout (rows8.h), a copy
  // the size of the weights, for the faster kernels; also off with MECLLM_ROWS8=off (A/B timing).
  bool interleave_rows = true;
};

// A 2-D weight: `rows` rows of `cols` values, row r at data + r * row_bytes, or, when rows8,
// groups of eight rows interleaved (rows8.h; same total size, read rows with row()).
struct WeightMatrix {
  QuantType type = QuantType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  const std::byte* data = nullptr;
  bool rows8 = false;
  uint64_t bytes() const { return static_cast<uint64_t>(rows) * row_bytes; }
};

struct LayerWeights {
  std::vector<float> attn_norm;  // (dim)
  WeightMatrix wq;               // (q_dim, dim)
  WeightMatrix wk;               // (kv_dim, dim)
  WeightMatrix wv;               // (kv_dim, dim)
  WeightMatrix wo;               // (dim, q_dim)
  std::vector<float> bq;         // (q_dim) Qwen2 attention bias; empty when absent
  std::vector<float> bk;         // (kv_dim)
  std::vector<float> bv;         // (kv_dim)
  std::vector<float> q_norm;     // (head_size) Qwen3 QK-norm; empty when absent
  std::vector<float> k_norm;     // (head_size)
  std::vector<float> ffn_norm;   // (dim)
  WeightMatrix w_gate;           // (hidden_dim, dim)  ffn_gate, llama2.c w1
  WeightMatrix w_down;           // (dim, hidden_dim)  ffn_down, llama2.c w2
  WeightMatrix w_up;             // (hidden_dim, dim)  ffn_up,   llama2.c w3
};

struct TransformerWeights {
  WeightMatrix token_embd;           // (vocab, dim)
  std::vector<LayerWeights> layers;  // (n_layers)
  std::vector<float> output_norm;    // (dim)
  WeightMatrix output;               // (vocab, dim); the token_embd view when tied
};

// Activations of one forward chunk of up to `batch` tokens (row t belongs to token t).
struct RunState {
  int batch = 0;
  std::vector<float> x;       // (batch, dim) residual stream
  std::vector<float> xb;      // (batch, dim) normed input of a sub-layer
  std::vector<float> xb2;     // (batch, max(dim, q_dim)) sub-layer output / attention output
  std::vector<float> q;       // (batch, q_dim)
  std::vector<float> k;       // (batch, kv_dim)
  std::vector<float> v;       // (batch, kv_dim)
  std::vector<float> hb;      // (batch, hidden_dim) gate, then SwiGLU product
  std::vector<float> hb2;     // (batch, hidden_dim) up
  std::vector<float> rope_cs;  // (batch, head_size) cos | sin of the RoPE angles at each token's position
  std::vector<float> att;     // (n_threads, context) attention scores, one row per thread
  std::vector<float> logits;  // (batch or 1, vocab)
  std::vector<std::byte> act_q;  // (batch, act_q8_bytes(max(dim, q_dim, hidden_dim))) prepared input
};

class Transformer {
 public:
  // Opens `path` with ModelFile::open and prepares the engine (InputError on a bad file or
  // bad options: threads < 1, kv_type not F32/F16, context <= 0 past the model's seq_len ...).
  static Transformer load(const std::string& path, const LoadOptions& options = {});
  Transformer(ModelFile file, const LoadOptions& options);
  Transformer(Transformer&&) noexcept;
  Transformer& operator=(Transformer&&) noexcept;
  ~Transformer();

  const ModelConfig& config() const { return config_; }
  const ModelFile& file() const { return *file_; }
  const TransformerWeights& weights() const { return w_; }
  int context_length() const { return context_; }
  int n_threads() const { return pool_->size(); }
  QuantType kv_type() const { return kv_.type(); }
  // The dominant 2-D weight type (most bytes), e.g. for reports.
  QuantType weight_type() const;
  // Whether some matrices are stored in the rows8 layout (LoadOptions::interleave_rows).
  bool rows_interleaved() const { return rows_interleaved_; }
  // Human-readable load notes (type fallbacks, conversions).
  const std::vector<std::string>& notes() const { return notes_; }

  // Runs tokens[0..n) at positions pos..pos+n-1 (keys/values of earlier positions must already
  // be in the cache) and returns the logits of the last token (vocab floats), or of every token
  // ((n, vocab) row-major) when all_logits. The span stays valid until the next call.
  // InputError when pos + n exceeds the context or a token id is outside the vocabulary.
  std::span<const float> forward(std::span<const int32_t> tokens, int pos, bool all_logits = false);
  std::span<const float> forward(int32_t token, int pos) { return forward(std::span<const int32_t>(&token, 1), pos); }

  // Bytes of weights read per generated token (every matrix once, one embedding row) and of
  // the KV cache read at position pos; for the roofline in `bench model`.
  uint64_t weight_bytes_per_token() const;
  uint64_t kv_bytes_at(int pos) const;

 private:
  void forward_chunk(const int32_t* tokens, int n, int pos, bool all_logits, float* logits_out);

  std::unique_ptr<ModelFile> file_;  // the mapping the weights point into
  ModelConfig config_;
  int context_ = 0;
  TransformerWeights w_;
  std::vector<std::unique_ptr<std::byte[]>> owned_;  // re-quantised / rows8-packed weights
  std::vector<std::string> notes_;
  bool rows_interleaved_ = false;
  std::vector<std::byte> embd_row_;  // one token_embd row in the block layout, when it is rows8
  KvCache kv_;
  RunState s_;
  std::vector<float> inv_freq_;  // (head_size / 2) RoPE inverse frequencies
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> all_logits_;  // (n_tokens, vocab) when forward(..., all_logits)
};

}  // namespace mecllm::runtime
