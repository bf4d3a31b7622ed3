// The shape of a Llama-family decoder, whatever file it came from (llama2.c, GGUF, HF).
//
// Field names follow llama2.c's Config (dim, hidden_dim, n_layers, ...); the extra fields
// cover Qwen2 (attention biases), Qwen3 (QK-norm, explicit head_dim) and Mistral (sliding
// window). Tensor names and shapes implied by a config are listed by expected_tensors(), the
// single table every reader and writer checks against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mecllm::runtime {

// How RoPE pairs the dimensions of a head, as the weights on disk expect it.
//  - interleaved: pairs (0,1), (2,3), ... as llama2.c and llama.cpp's `llama` arch (after the
//    q/k row permutation llama.cpp's converter applies to HF Llama/Mistral weights);
//  - neox: pairs (i, i + head_size/2), HF's rotate_half; llama.cpp's qwen2/qwen3 archs.
enum class RopeStyle { interleaved, neox };
std::string_view rope_style_name(RopeStyle s);

struct ModelConfig {
  std::string arch = "llama";   // "llama" | "qwen2" | "qwen3" | "mistral"
  int dim = 0;                  // model width (embedding length)
  int hidden_dim = 0;           // SwiGLU inner width (feed-forward length)
  int n_layers = 0;
  int n_heads = 0;              // query heads
  int n_kv_heads = 0;           // key/value heads (grouped-query attention when < n_heads)
  int vocab_size = 0;
  int seq_len = 0;              // maximum context (context_length)
  int head_dim = 0;             // 0: dim / n_heads; Qwen3 sets it explicitly
  float norm_eps = 1e-5f;       // RMSNorm epsilon
  float rope_theta = 10000.0f;  // RoPE base frequency
  RopeStyle rope_style = RopeStyle::interleaved;
  bool tied_embeddings = true;  // output projection reuses token_embd.weight
  bool qk_norm = false;         // Qwen3: RMSNorm per head on q and k (attn_q_norm / attn_k_norm)
  bool attn_bias = false;       // Qwen2: biases on q, k, v projections
  int sliding_window = 0;       // Mistral: attend to at most this many past tokens; 0 none
  int bos_id = 1;
  int eos_id = 2;

  int head_size() const { return head_dim > 0 ? head_dim : (n_heads > 0 ? dim / n_heads : 0); }
  int q_dim() const { return n_heads * head_size(); }    // rows of attn_q
  int kv_dim() const { return n_kv_heads * head_size(); }  // rows of attn_k / attn_v

  // Throws InputError "<path>: model config: <field> = <value>, expected ..." on the first
  // inconsistency: non-positive sizes, dim % n_heads (when head_dim is 0), n_heads % n_kv_heads,
  // odd head_size (RoPE pairs), unknown arch, absurd sizes (overflowing 64-bit parameter counts).
  void validate(const std::string& path) const;

  // Number of weights of all tensors of expected_tensors() (the tied output counted once).
  int64_t parameter_count() const;

  // One line: "llama dim=64 hidden=172 layers=5 heads=8/4 head_size=8 vocab=512 seq=512 tied".
  std::string summary() const;

  bool operator==(const ModelConfig&) const = default;
};

// A tensor the config implies, with its canonical (llama.cpp GGUF) name.
struct TensorSpec {
  std::string name;            // "blk.3.attn_q.weight"
  std::vector<int64_t> shape;  // row-major, outermost first: a weight is {out_features, in_features}
  bool is_norm_or_bias = false;  // 1-D: kept in F32 whatever the requested quantisation
};

// Every tensor of the model in file order: token_embd, then per block attn_norm, attn_q(+bias,
// +q_norm), attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_down, ffn_up, then
// output_norm and (untied) output.
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

// Known arch names: "llama", "qwen2", "qwen3", "mistral".
bool is_known_arch(std::string_view arch);

}  // namespace mecllm::runtime
