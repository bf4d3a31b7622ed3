// The engine against a plain double-precision reference forward pass written here, on random
// models of each family feature: grouped-query attention, untied output, sliding window
// (Mistral), attention biases + neox RoPE (Qwen2), QK-norm + explicit head_dim (Qwen3). The
// models are written with the GGUF writer and read back through ModelFile, as real files are.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "common/rng.h"
#include "runtime/model_writer.h"
#include "runtime/transformer.h"
#include "test_formats_util.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// max |engine - reference| over max |reference| of a logit row
constexpr double kMaxRelErr = 1e-4;

// A narrow model of the family (test_formats_util.h), weights large enough that every layer
// moves the logits, written with the GGUF writer into `dir`.
ModelConfig base_config(const std::string& arch) {
  ModelConfig c = mecllm::runtime::testing::small_config(arch, 32);
  c.tied_embeddings = true;
  return c;
}

std::string write_random_model(const mecllm::runtime::testing::TempDir& dir, const ModelConfig& c, const std::string& name, uint64_t seed) {
  const auto tensors = mecllm::runtime::testing::random_model(c, seed, 0.3, 0.2);
  const std::string path = dir.file(name + ".gguf");
  write_gguf(path, c, views_of(tensors));
  return path;
}

// Straightforward reference: every step spelled out in double precision.
class Reference {
 public:
  explicit Reference(const ModelFile& f) : f_(f), c_(f.config()) {
    kc_.resize(static_cast<size_t>(c_.n_layers));
    vc_.resize(static_cast<size_t>(c_.n_layers));
  }
  std::vector<double> forward(int token, int pos) {
    const int dim = c_.dim, hs = c_.head_size();
    std::vector<double> x(static_cast<size_t>(dim));
    const auto emb = t("token_embd.weight");
    for (int i = 0; i < dim; ++i) x[static_cast<size_t>(i)] = emb[static_cast<size_t>(token * dim + i)];
    for (int l = 0; l < c_.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      auto xb = rmsnorm(x, t(p + "attn_norm.weight"));
      auto q = matvec(p + "attn_q.weight", xb), k = matvec(p + "attn_k.weight", xb), v = matvec(p + "attn_v.weight", xb);
      if (c_.attn_bias) {
        add(q, t(p + "attn_q.bias"));
        add(k, t(p + "attn_k.bias"));
        add(v, t(p + "attn_v.bias"));
      }
      for (int h = 0; h < c_.n_heads; ++h) head_ops(q, h, p + "attn_q_norm.weight", pos);
      for (int h = 0; h < c_.n_kv_heads; ++h) head_ops(k, h, p + "attn_k_norm.weight", pos);
      kc_[static_cast<size_t>(l)].push_back(k);
      vc_[static_cast<size_t>(l)].push_back(v);
      std::vector<double> att_out(static_cast<size_t>(c_.q_dim()), 0.0);
      const int group = c_.n_heads / c_.n_kv_heads;
      const int start = c_.sliding_window > 0 ? std::max(0, pos - c_.sliding_window + 1) : 0;
      for (int h = 0; h < c_.n_heads; ++h) {
        const int kvh = h / group;
        std::vector<double> s;
        for (int j = start; j <= pos; ++j) {
          double d = 0;
          for (int i = 0; i < hs; ++i) d += q[static_cast<size_t>(h * hs + i)] * kc_[static_cast<size_t>(l)][static_cast<size_t>(j)][static_cast<size_t>(kvh * hs + i)];
          s.push_back(d / std::sqrt(static_cast<double>(hs)));
        }
        const double mx = *std::max_element(s.begin(), s.end());
        double z = 0;
        for (double& e : s) z += (e = std::exp(e - mx));
        for (int j = start; j <= pos; ++j) {
          for (int i = 0; i < hs; ++i) {
            att_out[static_cast<size_t>(h * hs + i)] += s[static_cast<size_t>(j - start)] / z * vc_[static_cast<size_t>(l)][static_cast<size_t>(j)][static_cast<size_t>(kvh * hs + i)];
          }
        }
      }
      add(x, matvec(p + "attn_output.weight", att_out));
      xb = rmsnorm(x, t(p + "ffn_norm.weight"));
      auto g = matvec(p + "ffn_gate.weight", xb), u = matvec(p + "ffn_up.weight", xb);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
      add(x, matvec(p + "ffn_down.weight", g));
    }
    x = rmsnorm(x, t("output_norm.weight"));
    return matvec(c_.tied_embeddings ? "token_embd.weight" : "output.weight", x);
  }

 private:
  const std::vector<float>& t(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) it = cache_.emplace(name, f_.get_f32(name)).first;
    return it->second;
  }
  std::vector<double> matvec(const std::string& name, const std::vector<double>& x) {
    const auto& w = t(name);
    const size_t cols = x.size(), rows = w.size() / cols;
    std::vector<double> y(rows, 0.0);
    for (size_t r = 0; r < rows; ++r)
      for (size_t i = 0; i < cols; ++i) y[r] += w[r * cols + i] * x[i];
    return y;
  }
  std::vector<double> rmsnorm(const std::vector<double>& x, const std::vector<float>& w) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double s = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + c_.norm_eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = w[i] * x[i] * s;
    return y;
  }
  static void add(std::vector<double>& x, const std::vector<float>& b) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += b[i];
  }
  static void add(std::vector<double>& x, const std::vector<double>& b) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += b[i];
  }
  // QK-norm (Qwen3) then RoPE on head h of v.
  void head_ops(std::vector<double>& v, int h, const std::string& norm_name, int pos) {
    const int hs = c_.head_size();
    std::vector<double> head(v.begin() + h * hs, v.begin() + (h + 1) * hs);
    if (c_.qk_norm) head = rmsnorm(head, t(norm_name));
    const std::vector<double> divisors = rope_freq_divisors(c_);  // pinned by test_rope_scaling.cpp
    for (int i = 0; i < hs / 2; ++i) {
      const double freq = std::pow(static_cast<double>(c_.rope_theta), -2.0 * i / hs) / divisors[static_cast<size_t>(i)];
      const double a = pos * freq, cs = std::cos(a), sn = std::sin(a);
      const int i0 = c_.rope_style == RopeStyle::interleaved ? 2 * i : i;
      const int i1 = c_.rope_style == RopeStyle::interleaved ? 2 * i + 1 : i + hs / 2;
      const double x0 = head[static_cast<size_t>(i0)], x1 = head[static_cast<size_t>(i1)];
      head[static_cast<size_t>(i0)] = x0 * cs - x1 * sn;
      head[static_cast<size_t>(i1)] = x0 * sn + x1 * cs;
    }
    std::copy(head.begin(), head.end(), v.begin() + h * hs);
  }
  const ModelFile& f_;
  ModelConfig c_;
  std::map<std::string, std::vector<float>> cache_;
  std::vector<std::vector<std::vector<double>>> kc_, vc_;  // (layer, pos, kv_dim)
};

double rel_err(std::span<const float> got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num = std::max(num, std::fabs(got[i] - want[i]));
    den = std::max(den, std::fabs(want[i]));
  }
  return num / den;
}

void check_family(const ModelConfig& c, const std::string& name) {
  const mecllm::runtime::testing::TempDir dir;
  const std::string path = write_random_model(dir, c, name, 1234);
  LoadOptions one;
  Transformer tr = Transformer::load(path, one);
  ASSERT_EQ(tr.config().qk_norm, c.qk_norm) << name;
  ASSERT_EQ(tr.config().attn_bias, c.attn_bias) << name;
  ASSERT_EQ(tr.config().sliding_window, c.sliding_window) << name;
  Reference ref(tr.file());
  Rng rng(9);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 12; ++i) tokens.push_back(static_cast<int32_t>(rng.below(static_cast<uint64_t>(c.vocab_size))));
  std::vector<std::vector<float>> step_logits;
  for (int pos = 0; pos < 12; ++pos) {
    const auto want = ref.forward(tokens[static_cast<size_t>(pos)], pos);
    const auto got = tr.forward(tokens[static_cast<size_t>(pos)], pos);
    EXPECT_LE(rel_err(got, want), kMaxRelErr) << name << " pos " << pos;
    step_logits.emplace_back(got.begin(), got.end());
  }
  // batched in uneven chunks on two threads: the same logits as token by token
  LoadOptions batched;
  batched.max_batch = 5;
  batched.n_threads = 2;
  Transformer tb = Transformer::load(path, batched);
  const auto all = tb.forward(tokens, 0, true);
  const size_t V = static_cast<size_t>(c.vocab_size);
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    for (size_t i = 0; i < V; ++i) EXPECT_NEAR(all[pos * V + i], step_logits[pos][i], 1e-4) << name << " pos " << pos;
  }
}

}  // namespace

TEST(TransformerArch, llama_gqa_untied_matches_reference) {
  ModelConfig c = base_config("llama");
  c.tied_embeddings = false;
  check_family(c, "llama");
}

TEST(TransformerArch, mistral_sliding_window_matches_reference) {
  ModelConfig c = base_config("mistral");
  c.n_kv_heads = 1;
  c.sliding_window = 4;
  check_family(c, "mistral");
}

TEST(TransformerArch, qwen2_biases_and_neox_rope_match_reference) {
  ModelConfig c = base_config("qwen2");
  c.attn_bias = true;
  check_family(c, "qwen2");
}

TEST(TransformerArch, qwen3_qk_norm_and_head_dim_match_reference) {
  ModelConfig c = base_config("qwen3");
  c.qk_norm = true;
  c.head_dim = 16;  // q_dim 64 != dim 32
  check_family(c, "qwen3");
}

// Head size 8 (frequencies 1, 0.1, 0.01, 0.001; wavelengths 6.3, 63, 628, 6283) against an
// original context of 64: one pair of each kind (kept, blended, divided by the factor).
TEST(TransformerArch, llama3_rope_scaling_matches_reference) {
  ModelConfig c = base_config("llama");
  c.rope_scaling = RopeScaling::llama3;
  c.rope_factor = 8.0f;
  c.rope_freq_factors = llama3_rope_freq_factors(c.rope_theta, c.head_size(), 8.0f, 1.0f, 4.0f, 64);
  ASSERT_GT(c.rope_freq_factors[1], 1.0f);
  ASSERT_LT(c.rope_freq_factors[1], 8.0f);
  check_family(c, "llama3");
}

TEST(TransformerArch, linear_rope_scaling_matches_reference) {
  ModelConfig c = base_config("qwen2");
  c.rope_scaling = RopeScaling::linear;
  c.rope_factor = 4.0f;
  check_family(c, "qwen2_linear");
}
