#include "runtime/model_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/errors.h"

namespace mecllm::runtime {

std::string_view rope_style_name(RopeStyle s) { return s == RopeStyle::neox ? "neox" : "interleaved"; }

std::string_view rope_scaling_name(RopeScaling s) {
  switch (s) {
    case RopeScaling::none: return "none";
    case RopeScaling::linear: return "linear";
    case RopeScaling::llama3: return "llama3";
  }
  return "?";
}

std::vector<float> llama3_rope_freq_factors(float theta, int head_size, float factor, float low_freq_factor,
                                            float high_freq_factor, int original_context) {
  constexpr double kPi = 3.14159265358979323846;
  const double original = original_context;
  const double low_wavelen = original / low_freq_factor, high_wavelen = original / high_freq_factor;
  std::vector<float> out(static_cast<size_t>(head_size / 2));
  for (int i = 0; i < head_size / 2; ++i) {
    const double freq = std::pow(static_cast<double>(theta), -2.0 * i / head_size);
    const double wavelen = 2.0 * kPi / freq;
    double divisor = 1.0;
    if (wavelen > low_wavelen) {
      divisor = factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (original / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      divisor = 1.0 / ((1.0 - smooth) / factor + smooth);
    }
    out[static_cast<size_t>(i)] = static_cast<float>(divisor);
  }
  return out;
}

std::vector<double> rope_freq_divisors(const ModelConfig& c) {
  std::vector<double> out(static_cast<size_t>(c.head_size() / 2), 1.0);
  if (c.rope_scaling == RopeScaling::linear) std::fill(out.begin(), out.end(), static_cast<double>(c.rope_factor));
  if (c.rope_scaling == RopeScaling::llama3) std::copy(c.rope_freq_factors.begin(), c.rope_freq_factors.end(), out.begin());
  return out;
}

bool is_known_arch(std::string_view arch) {
  return arch == "llama" || arch == "qwen2" || arch == "qwen3" || arch == "mistral";
}

void ModelConfig::validate(const std::string& path) const {
  auto fail = [&](std::string_view field, auto value, std::string_view expected) {
    throw_input_error(path, "model config: {} = {}, expected {}", field, value, expected);
  };
  if (!is_known_arch(arch)) fail("arch", fmt::format("'{}'", arch), "one of llama, qwen2, qwen3, mistral");
  // Upper bounds are far above any real model but keep products of sizes inside int64 and
  // stop a corrupt header from asking for terabytes.
  constexpr int kMaxWidth = 1 << 20, kMaxLayers = 4096, kMaxVocab = 1 << 24, kMaxSeq = 1 << 24;
  auto positive = [&](std::string_view field, int v, int max) {
    if (v <= 0 || v > max) fail(field, v, fmt::format("a size in 1..{}", max));
  };
  positive("dim", dim, kMaxWidth);
  positive("hidden_dim", hidden_dim, kMaxWidth);
  positive("n_layers", n_layers, kMaxLayers);
  positive("n_heads", n_heads, kMaxWidth);
  positive("n_kv_heads", n_kv_heads, kMaxWidth);
  positive("vocab_size", vocab_size, kMaxVocab);
  positive("seq_len", seq_len, kMaxSeq);
  if (head_dim < 0 || head_dim > kMaxWidth) fail("head_dim", head_dim, "0 (dim / n_heads) or a positive size");
  if (head_dim == 0 && dim % n_heads != 0)
    fail("dim", dim, fmt::format("a multiple of n_heads = {} (or an explicit head_dim)", n_heads));
  if (n_heads % n_kv_heads != 0) fail("n_kv_heads", n_kv_heads, fmt::format("a divisor of n_heads = {}", n_heads));
  if (head_size() % 2 != 0) fail("head_size", head_size(), "an even number (RoPE rotates pairs)");
  if (static_cast<int64_t>(n_heads) * head_size() > kMaxWidth)
    fail("n_heads * head_size", static_cast<int64_t>(n_heads) * head_size(), fmt::format("at most {}", kMaxWidth));
  if (!(norm_eps > 0.0f) || !std::isfinite(norm_eps)) fail("norm_eps", norm_eps, "a positive finite number");
  if (!(rope_theta > 0.0f) || !std::isfinite(rope_theta)) fail("rope_theta", rope_theta, "a positive finite number");
  if (sliding_window < 0) fail("sliding_window", sliding_window, "0 (none) or a positive window");
  if (rope_scaling != RopeScaling::none && !(rope_factor >= 1.0f && std::isfinite(rope_factor)))
    fail("rope_factor", rope_factor, "a finite factor >= 1");
  if (rope_scaling == RopeScaling::llama3) {
    if (rope_freq_factors.size() != static_cast<size_t>(head_size() / 2))
      fail("rope_freq_factors", fmt::format("{} values", rope_freq_factors.size()),
           fmt::format("head_size / 2 = {} values", head_size() / 2));
    for (float f : rope_freq_factors)
      if (!(f > 0.0f) || !std::isfinite(f)) fail("rope_freq_factors", f, "positive finite divisors");
  } else if (!rope_freq_factors.empty()) {
    fail("rope_freq_factors", fmt::format("{} values", rope_freq_factors.size()), "none unless rope_scaling is llama3");
  }
  if (bos_id < -1 || bos_id >= vocab_size) fail("bos_id", bos_id, fmt::format("-1 or an id below vocab_size = {}", vocab_size));
  if (eos_id < -1 || eos_id >= vocab_size) fail("eos_id", eos_id, fmt::format("-1 or an id below vocab_size = {}", vocab_size));
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  const int64_t dim = c.dim, hidden = c.hidden_dim, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hs = c.head_size();
  std::vector<TensorSpec> out;
  out.push_back({"token_embd.weight", {c.vocab_size, dim}, false});
  for (int l = 0; l < c.n_layers; ++l) {
    auto n = [l](std::string_view what) { return fmt::format("blk.{}.{}", l, what); };
    out.push_back({n("attn_norm.weight"), {dim}, true});
    out.push_back({n("attn_q.weight"), {q_dim, dim}, false});
    if (c.attn_bias) out.push_back({n("attn_q.bias"), {q_dim}, true});
    out.push_back({n("attn_k.weight"), {kv_dim, dim}, false});
    if (c.attn_bias) out.push_back({n("attn_k.bias"), {kv_dim}, true});
    out.push_back({n("attn_v.weight"), {kv_dim, dim}, false});
    if (c.attn_bias) out.push_back({n("attn_v.bias"), {kv_dim}, true});
    if (c.qk_norm) {
      out.push_back({n("attn_q_norm.weight"), {hs}, true});
      out.push_back({n("attn_k_norm.weight"), {hs}, true});
    }
    out.push_back({n("attn_output.weight"), {dim, q_dim}, false});
    out.push_back({n("ffn_norm.weight"), {dim}, true});
    out.push_back({n("ffn_gate.weight"), {hidden, dim}, false});
    out.push_back({n("ffn_down.weight"), {dim, hidden}, false});
    out.push_back({n("ffn_up.weight"), {hidden, dim}, false});
  }
  out.push_back({"output_norm.weight", {dim}, true});
  if (!c.tied_embeddings) out.push_back({"output.weight", {c.vocab_size, dim}, false});
  return out;
}

int64_t ModelConfig::parameter_count() const {
  int64_t total = 0;
  for (const auto& t : expected_tensors(*this)) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    total += n;
  }
  return total;
}

std::string ModelConfig::summary() const {
  std::string s = fmt::format("{} dim={} hidden={} layers={} heads={}/{} head_size={} vocab={} seq={} rope={}(theta {})",
                              arch, dim, hidden_dim, n_layers, n_heads, n_kv_heads, head_size(), vocab_size,
                              seq_len, rope_style_name(rope_style), rope_theta);
  s += tied_embeddings ? " tied" : " untied";
  if (qk_norm) s += " qk_norm";
  if (attn_bias) s += " attn_bias";
  if (sliding_window > 0) s += fmt::format(" sliding_window={}", sliding_window);
  if (rope_scaling != RopeScaling::none) s += fmt::format(" rope_scaling={}(factor {})", rope_scaling_name(rope_scaling), rope_factor);
  return s;
}

}  // namespace mecllm::runtime
