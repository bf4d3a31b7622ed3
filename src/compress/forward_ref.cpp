#include "compress/forward_ref.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "common/errors.h"
#include "runtime/kernels.h"

namespace mecllm::compress {

void matmul_xwt(const float* x, int64_t T, int64_t in, const float* w, int64_t out, float* y) {
  // The engine's dispatched f32 dot (AVX2/AVX-512 when present) is the inner loop.
  auto dot = runtime::kernels().vec_dot[runtime::quant_type_index(runtime::QuantType::F32)];
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = 0; o < out; ++o) y[t * out + o] = dot(w + o * in, x + t * in, in);
}

double log_softmax_row(const float* logits, int64_t n, std::vector<double>& logp) {
  logp.resize(n);
  double mx = *std::max_element(logits, logits + n);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(logits[i] - mx);
  double lse = mx + std::log(s);
  for (int64_t i = 0; i < n; ++i) logp[i] = logits[i] - lse;
  return lse;
}

namespace {

void rmsnorm(const float* x, const float* w, int64_t T, int64_t n, float eps, float* y) {
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[t * n + i]) * x[t * n + i];
    float r = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
    for (int64_t i = 0; i < n; ++i) y[t * n + i] = x[t * n + i] * r * w[i];
  }
}

// Pair i's angular frequency, with the config's RoPE scaling (linear, Llama 3.1) applied the
// way the runtime and the LibTorch module apply it.
std::vector<float> rope_frequencies(const runtime::ModelConfig& c) {
  const int hs = c.head_size();
  const auto divisors = runtime::rope_freq_divisors(c);
  std::vector<float> freq(static_cast<size_t>(hs / 2));
  for (int i = 0; i < hs / 2; ++i)
    freq[i] = static_cast<float>(std::pow(c.rope_theta, -2.0f * i / hs) / divisors[static_cast<size_t>(i)]);
  return freq;
}

// Rotates one head vector (head_size) at position pos.
void rope(float* v, int hs, int pos, std::span<const float> freq, runtime::RopeStyle style) {
  for (int i = 0; i < hs / 2; ++i) {
    float a = pos * freq[static_cast<size_t>(i)], c = std::cos(a), s = std::sin(a);
    int i0 = style == runtime::RopeStyle::interleaved ? 2 * i : i;
    int i1 = style == runtime::RopeStyle::interleaved ? 2 * i + 1 : i + hs / 2;
    float x0 = v[i0], x1 = v[i1];
    v[i0] = x0 * c - x1 * s;
    v[i1] = x0 * s + x1 * c;
  }
}

}  // namespace

Trace forward_trace(const DenseModel& m, std::span<const int32_t> tokens, bool keep_layers) {
  const auto& c = m.config;
  const int64_t T = static_cast<int64_t>(tokens.size()), dim = c.dim, hs = c.head_size(), qd = c.q_dim(),
                kvd = c.kv_dim(), hid = c.hidden_dim, V = c.vocab_size;
  MECLLM_CHECK(T > 0 && T <= c.seq_len, "T = {} outside [1, seq_len {}]", T, c.seq_len);
  const int group = c.n_heads / c.n_kv_heads;
  const auto freq = rope_frequencies(c);
  Trace tr;
  tr.n_tokens = static_cast<int>(T);
  std::vector<float> x(T * dim), xb(T * dim), q(T * qd), k(T * kvd), v(T * kvd), att(T * qd), tmp(T * dim),
      g(T * hid), u(T * hid), scores(T);
  const auto& emb = m.at("token_embd.weight");
  for (int64_t t = 0; t < T; ++t) {
    MECLLM_CHECK(tokens[t] >= 0 && tokens[t] < V, "token {} outside vocab {}", tokens[t], V);
    std::copy_n(emb.data() + static_cast<int64_t>(tokens[t]) * dim, dim, x.data() + t * dim);
  }
  for (int l = 0; l < c.n_layers; ++l) {
    auto name = [&](const char* s) { return "blk." + std::to_string(l) + "." + s; };
    LayerTrace lt;
    if (keep_layers) lt.x_in = x;
    // ---- attention: rmsnorm, q/k/v (+bias, +qk-norm), RoPE, causal softmax over kv group
    rmsnorm(x.data(), m.at(name("attn_norm.weight")).data(), T, dim, c.norm_eps, xb.data());
    matmul_xwt(xb.data(), T, dim, m.at(name("attn_q.weight")).data(), qd, q.data());
    matmul_xwt(xb.data(), T, dim, m.at(name("attn_k.weight")).data(), kvd, k.data());
    matmul_xwt(xb.data(), T, dim, m.at(name("attn_v.weight")).data(), kvd, v.data());
    if (c.attn_bias) {
      const auto &bq = m.at(name("attn_q.bias")), &bk = m.at(name("attn_k.bias")), &bv = m.at(name("attn_v.bias"));
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t i = 0; i < qd; ++i) q[t * qd + i] += bq[i];
        for (int64_t i = 0; i < kvd; ++i) k[t * kvd + i] += bk[i], v[t * kvd + i] += bv[i];
      }
    }
    if (c.qk_norm) {
      std::vector<float> tmp_h(hs);
      const auto &qn = m.at(name("attn_q_norm.weight")), &kn = m.at(name("attn_k_norm.weight"));
      for (int64_t r = 0; r < T * c.n_heads; ++r) {
        rmsnorm(q.data() + r * hs, qn.data(), 1, hs, c.norm_eps, tmp_h.data());
        std::copy(tmp_h.begin(), tmp_h.end(), q.begin() + r * hs);
      }
      for (int64_t r = 0; r < T * c.n_kv_heads; ++r) {
        rmsnorm(k.data() + r * hs, kn.data(), 1, hs, c.norm_eps, tmp_h.data());
        std::copy(tmp_h.begin(), tmp_h.end(), k.begin() + r * hs);
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      for (int h = 0; h < c.n_heads; ++h) rope(q.data() + t * qd + h * hs, hs, t, freq, c.rope_style);
      for (int h = 0; h < c.n_kv_heads; ++h) rope(k.data() + t * kvd + h * hs, hs, t, freq, c.rope_style);
    }
    if (keep_layers) lt.attn_in = xb;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
    std::fill(att.begin(), att.end(), 0.0f);
    for (int64_t t = 0; t < T; ++t) {
      int64_t t0 = c.sliding_window > 0 ? std::max<int64_t>(0, t - c.sliding_window + 1) : 0;
      for (int h = 0; h < c.n_heads; ++h) {
        const float* qh = q.data() + t * qd + h * hs;
        const int kvh = h / group;
        float mx = -INFINITY;
        for (int64_t s = t0; s <= t; ++s) {
          const float* kh = k.data() + s * kvd + kvh * hs;
          float d = 0;
          for (int64_t i = 0; i < hs; ++i) d += qh[i] * kh[i];
          scores[s] = d * scale;
          mx = std::max(mx, scores[s]);
        }
        float sum = 0;
        for (int64_t s = t0; s <= t; ++s) sum += scores[s] = std::exp(scores[s] - mx);
        float* out = att.data() + t * qd + h * hs;
        for (int64_t s = t0; s <= t; ++s) {
          const float* vh = v.data() + s * kvd + kvh * hs;
          float p = scores[s] / sum;
          for (int64_t i = 0; i < hs; ++i) out[i] += p * vh[i];
        }
      }
    }
    if (keep_layers) lt.attn_out = att;
    matmul_xwt(att.data(), T, qd, m.at(name("attn_output.weight")).data(), dim, tmp.data());
    for (int64_t i = 0; i < T * dim; ++i) x[i] += tmp[i];
    // ---- SwiGLU MLP
    rmsnorm(x.data(), m.at(name("ffn_norm.weight")).data(), T, dim, c.norm_eps, xb.data());
    if (keep_layers) lt.ffn_in = xb;
    matmul_xwt(xb.data(), T, dim, m.at(name("ffn_gate.weight")).data(), hid, g.data());
    matmul_xwt(xb.data(), T, dim, m.at(name("ffn_up.weight")).data(), hid, u.data());
    for (int64_t i = 0; i < T * hid; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
    if (keep_layers) lt.ffn_act = g;
    matmul_xwt(g.data(), T, hid, m.at(name("ffn_down.weight")).data(), dim, tmp.data());
    for (int64_t i = 0; i < T * dim; ++i) x[i] += tmp[i];
    if (keep_layers) {
      lt.x_out = x;
      tr.layers.push_back(std::move(lt));
    }
  }
  tr.final_in.resize(T * dim);
  rmsnorm(x.data(), m.at("output_norm.weight").data(), T, dim, c.norm_eps, tr.final_in.data());
  tr.logits.resize(T * V);
  const auto& out_w = c.tied_embeddings ? emb : m.at("output.weight");
  matmul_xwt(tr.final_in.data(), T, dim, out_w.data(), V, tr.logits.data());
  return tr;
}

}  // namespace mecllm::compress
