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

// RoPE frequency scaling, for contexts longer than the model was first trained on:
//  - none;
//  - linear: every frequency divided by rope_factor (positions / factor; HF "linear", llama.cpp
//    `<arch>.rope.scaling.type = linear` with `<arch>.rope.scaling.factor`);
//  - llama3 (Llama 3.1): pair i's frequency divided by rope_freq_factors[i], 1 for short wavelengths,
//    rope_factor for long ones and a smooth blend between (llama3_rope_freq_factors). HF's
//    config.json gives the parameters; llama.cpp's GGUF stores only the per-pair divisors, as the
//    F32 tensor `rope_freqs.weight` of head_size / 2 values.
enum class RopeScaling { none, linear, llama3 };
inline constexpr std::string_view kRopeFreqsTensor = "rope_freqs.weight";
std::string_view rope_scaling_name(RopeScaling s);

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
  RopeScaling rope_scaling = RopeScaling::none;
  float rope_factor = 1.0f;               // linear / llama3: how far the context was stretched
  std::vector<float> rope_freq_factors;   // llama3: one divisor per pair (head_size / 2 values)
  // llama3's parameters when known (HF config.json), so config.json can be written back; 0 when
  // the divisors came from a GGUF file, which does not keep them.
  float rope_low_freq_factor = 0.0f;
  float rope_high_freq_factor = 0.0f;
  int rope_original_context = 0;          // original_max_position_embeddings
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

// Llama 3.1's per-pair frequency divisors (Meta's published formula, also HF's
// `_compute_llama3_parameters` and llama.cpp's converter): with wavelength 2 pi / f_i of the
// unscaled frequency f_i = theta^(-2i / head_size), low = original / low_freq_factor and
// high = original / high_freq_factor: divisor 1 when wavelength < high, `factor` when
// wavelength > low, else 1 / ((1 - s) / factor + s) with s = (original / wavelength -
// low_freq_factor) / (high_freq_factor - low_freq_factor).
std::vector<float> llama3_rope_freq_factors(float theta, int head_size, float factor, float low_freq_factor,
                                            float high_freq_factor, int original_context);

// What pair i's unscaled frequency is divided by under the config's scaling (head_size / 2
// values; all 1 for none). The runtime and the LibTorch module both scale with it.
std::vector<double> rope_freq_divisors(const ModelConfig& config);

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
