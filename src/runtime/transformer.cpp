// The forward pass of the Llama-family decoder (see transformer.h). Sections in data-flow
// order: loading the weights, the building blocks (rmsnorm, rope, matmul, attention), forward.
#include "runtime/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "runtime/kernels.h"
#include "runtime/matmul.h"
#include "runtime/quant_blocks.h"
#include "runtime/rows8.h"

namespace mecllm::runtime {

// ---------------------------------------------------------------------------------------------
// Loading

namespace {

// The type a weight of row length `cols` is stored in when `want` is requested: the first of
// want -> Q4_0 -> Q8_0 -> F16 whose block divides the row (llama.cpp also falls back when a
// k-quant's 256-block does not fit).
QuantType fitting_type(QuantType want, int64_t cols) {
  if (row_fits(want, cols)) return want;
  constexpr QuantType chain[] = {QuantType::Q4_K, QuantType::Q4_0, QuantType::Q8_0, QuantType::F16};
  bool past_want = false;
  for (QuantType t : chain) {
    past_want = past_want || t == want;
    if (past_want && row_fits(t, cols)) return t;
  }
  return QuantType::F16;
}

}  // namespace

Transformer Transformer::load(const std::string& path, const LoadOptions& options) {
  return Transformer(ModelFile::open(path), options);
}

Transformer::Transformer(Transformer&&) noexcept = default;
Transformer& Transformer::operator=(Transformer&&) noexcept = default;
Transformer::~Transformer() = default;

Transformer::Transformer(ModelFile file, const LoadOptions& opt)
    : file_(std::make_unique<ModelFile>(std::move(file))), config_(file_->config()) {
  const ModelConfig& c = config_;
  const std::string& path = file_->path();
  pool_ = std::make_unique<ThreadPool>(opt.n_threads);  // InputError for threads < 1
  if (opt.context < 0 || opt.context > c.seq_len) {
    throw_input_error(path, "context = {}, expected 1..{} (the model's seq_len) or 0 for all of it", opt.context,
                      c.seq_len);
  }
  if (opt.max_batch < 1) throw InputError(fmt::format("max_batch = {}, expected at least 1", opt.max_batch));
  context_ = opt.context == 0 ? c.seq_len : opt.context;
  const int hs = c.head_size();
  if (hs % 2 != 0) throw_input_error(path, "head_size = {}, expected an even number (RoPE rotates pairs)", hs);

  auto vec = [&](const std::string& name) { return file_->get_f32(name); };
  auto mat = [&](const std::string& name) {
    const TensorView& t = file_->get(name);
    MECLLM_CHECK(t.shape.size() == 2, "{} has {} dims", name, t.shape.size());
    WeightMatrix m{t.type, t.shape[0], t.shape[1], row_size(t.type, t.shape[1]), t.data.data()};
    if (opt.weight_type && *opt.weight_type != t.type) {
      const QuantType target = fitting_type(*opt.weight_type, m.cols);
      if (target != *opt.weight_type) {
        notes_.push_back(fmt::format("{}: rows of {} values do not fit {} blocks of {}; stored as {}", name, m.cols,
                                     quant_type_name(*opt.weight_type), traits(*opt.weight_type).block_size,
                                     quant_type_name(target)));
      }
      if (target != t.type) {
        std::vector<float> row(static_cast<size_t>(m.cols));
        const size_t rb = row_size(target, m.cols);
        // every byte is written below, so the buffer is not zeroed first
        auto out = std::make_unique_for_overwrite<std::byte[]>(rb * static_cast<size_t>(m.rows));
        for (int64_t r = 0; r < m.rows; ++r) {
          traits(t.type).to_float(m.data + r * m.row_bytes, row.data(), m.cols);
          traits(target).from_float_ref(row.data(), out.get() + r * rb, m.cols);
        }
        owned_.push_back(std::move(out));
        m = WeightMatrix{target, m.rows, m.cols, rb, owned_.back().get()};
      }
    }
    return m;
  };
  // A matrix the products read goes into the rows8 layout where it can; the packed copy
  // replaces a re-quantised one, or the mapped original, whose pages are dropped.
  const bool interleave = opt.interleave_rows && rows8_env_enabled() && prepared_act_enabled();
  auto product_mat = [&](const std::string& name) {
    WeightMatrix m = mat(name);
    if (!interleave || !rows8_supported(m.type) || m.rows % kRows8 != 0) return m;
    auto packed = std::make_unique_for_overwrite<std::byte[]>(m.bytes());  // every byte is packed
    const size_t group_bytes = m.row_bytes * kRows8;
    pool_->parallel_for(m.rows / kRows8, 64, [&](int64_t g0, int64_t g1, int) {
      pack_rows8(m.type, m.data + g0 * group_bytes, (g1 - g0) * kRows8, m.cols, packed.get() + g0 * group_bytes);
    });
    if (!owned_.empty() && owned_.back().get() == m.data) owned_.pop_back();
    else file_->drop_pages({m.data, m.bytes()});  // the mapped original is not read again
    owned_.push_back(std::move(packed));
    m.data = owned_.back().get();
    m.rows8 = true;
    rows_interleaved_ = true;
    return m;
  };

  // the embedding only reads rows; tied, it is also the classifier's matrix
  w_.token_embd = c.tied_embeddings ? product_mat("token_embd.weight") : mat("token_embd.weight");
  if (w_.token_embd.rows8) embd_row_.resize(w_.token_embd.row_bytes);
  w_.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = w_.layers[static_cast<size_t>(l)];
    const std::string p = fmt::format("blk.{}.", l);
    L.attn_norm = vec(p + "attn_norm.weight");
    L.wq = product_mat(p + "attn_q.weight");
    L.wk = product_mat(p + "attn_k.weight");
    L.wv = product_mat(p + "attn_v.weight");
    L.wo = product_mat(p + "attn_output.weight");
    if (c.attn_bias) {
      L.bq = vec(p + "attn_q.bias");
      L.bk = vec(p + "attn_k.bias");
      L.bv = vec(p + "attn_v.bias");
    }
    if (c.qk_norm) {
      L.q_norm = vec(p + "attn_q_norm.weight");
      L.k_norm = vec(p + "attn_k_norm.weight");
    }
    L.ffn_norm = vec(p + "ffn_norm.weight");
    L.w_gate = product_mat(p + "ffn_gate.weight");
    L.w_down = product_mat(p + "ffn_down.weight");
    L.w_up = product_mat(p + "ffn_up.weight");
  }
  w_.output_norm = vec("output_norm.weight");
  w_.output = c.tied_embeddings ? w_.token_embd : product_mat("output.weight");

  kv_ = KvCache(opt.kv_type, c.n_layers, context_, c.kv_dim());

  const int B = opt.max_batch;
  const size_t wide = static_cast<size_t>(std::max({c.dim, c.q_dim(), c.hidden_dim}));
  s_.batch = B;
  s_.x.assign(static_cast<size_t>(B) * c.dim, 0.0f);
  s_.xb.assign(static_cast<size_t>(B) * c.dim, 0.0f);
  s_.xb2.assign(static_cast<size_t>(B) * std::max(c.dim, c.q_dim()), 0.0f);
  s_.q.assign(static_cast<size_t>(B) * c.q_dim(), 0.0f);
  s_.k.assign(static_cast<size_t>(B) * c.kv_dim(), 0.0f);
  s_.v.assign(static_cast<size_t>(B) * c.kv_dim(), 0.0f);
  s_.hb.assign(static_cast<size_t>(B) * c.hidden_dim, 0.0f);
  s_.hb2.assign(static_cast<size_t>(B) * c.hidden_dim, 0.0f);
  s_.rope_cs.assign(static_cast<size_t>(B) * hs, 0.0f);
  s_.att.assign(static_cast<size_t>(pool_->size()) * context_, 0.0f);
  s_.logits.assign(static_cast<size_t>(B) * c.vocab_size, 0.0f);
  // Q8_0 needs whole 32-blocks; a row that is not a multiple of 32 only ever meets float types.
  s_.act_q.resize(static_cast<size_t>(B) * act_q8_bytes(static_cast<int64_t>(wide / QK8_0 + 1) * QK8_0));

  // RoPE: pair i of a head turns by pos * theta^(-2i / head_size), computed as llama2.c does,
  // divided by the config's scaling (linear, Llama 3.1; model_config.h).
  const std::vector<double> divisors = rope_freq_divisors(c);
  inv_freq_.resize(static_cast<size_t>(hs / 2));
  for (int i = 0; i < hs / 2; ++i) {
    const float base = 1.0f / std::pow(c.rope_theta, static_cast<float>(2 * i) / static_cast<float>(hs));
    inv_freq_[static_cast<size_t>(i)] = static_cast<float>(base / divisors[static_cast<size_t>(i)]);
  }
}

QuantType Transformer::weight_type() const {
  uint64_t by_type[kNumQuantTypes] = {};
  QuantType types[kNumQuantTypes] = {};
  auto add = [&](const WeightMatrix& m) {
    by_type[quant_type_index(m.type)] += m.bytes();
    types[quant_type_index(m.type)] = m.type;
  };
  for (const auto& L : w_.layers) {
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_down, &L.w_up}) add(*m);
  }
  const int best = static_cast<int>(std::max_element(by_type, by_type + kNumQuantTypes) - by_type);
  return by_type[best] > 0 ? types[best] : w_.token_embd.type;
}

uint64_t Transformer::weight_bytes_per_token() const {
  uint64_t total = w_.token_embd.row_bytes + w_.output.bytes();
  for (const auto& L : w_.layers) {
    for (const WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_down, &L.w_up}) total += m->bytes();
  }
  return total;
}

uint64_t Transformer::kv_bytes_at(int pos) const {
  const int window = config_.sliding_window > 0 ? std::min(pos + 1, config_.sliding_window) : pos + 1;
  return 2ull * static_cast<uint64_t>(config_.n_layers) * static_cast<uint64_t>(window) *
         static_cast<uint64_t>(config_.kv_dim()) * kv_.bytes_per_value();
}

// ---------------------------------------------------------------------------------------------
// Building blocks

namespace {

void rmsnorm(float* out, const float* x, const float* weight, int n, float eps) {
  float ss = 0.0f;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int i = 0; i < n; ++i) out[i] = weight[i] * (scale * x[i]);
}

void softmax(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  for (int i = 0; i < n; ++i) x[i] /= sum;
}

// cos and sin of every pair's angle pos * inv_freq[i] at one position, as [cos 0..half | sin
// 0..half]: computed once per token, then shared by every head of q and k in every layer.
void rope_angles(float* cs, int pos, const std::vector<float>& inv_freq) {
  const size_t half = inv_freq.size();
  for (size_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    cs[i] = std::cos(angle);
    cs[half + i] = std::sin(angle);
  }
}

// Rotates every head of `v` (n_heads * hs values) by the angles `cs` of rope_angles.
void rope(float* v, int n_heads, int hs, const float* cs, RopeStyle style) {
  const int half = hs / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* head = v + h * hs;
    for (int i = 0; i < half; ++i) {
      const float c = cs[i], s = cs[half + i];
      // interleaved pairs (2i, 2i+1); neox pairs (i, i + hs/2)
      const int a = style == RopeStyle::interleaved ? 2 * i : i;
      const int b = style == RopeStyle::interleaved ? 2 * i + 1 : i + half;
      const float x0 = head[a], x1 = head[b];
      head[a] = x0 * c - x1 * s;
      head[b] = x0 * s + x1 * c;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Forward

std::span<const float> Transformer::forward(std::span<const int32_t> tokens, int pos, bool all_logits) {
  const int n = static_cast<int>(tokens.size());
  if (n < 1) throw InputError("forward: no tokens given");
  if (pos < 0 || static_cast<int64_t>(pos) + n > context_) {
    throw InputError(fmt::format("forward: positions {}..{} exceed the context of {} tokens", pos, pos + n - 1,
                                 context_));
  }
  for (int32_t t : tokens) {
    if (t < 0 || t >= config_.vocab_size) {
      throw InputError(fmt::format("forward: token id {} is outside the vocabulary 0..{}", t, config_.vocab_size - 1));
    }
  }
  const size_t V = static_cast<size_t>(config_.vocab_size);
  if (all_logits) all_logits_.resize(static_cast<size_t>(n) * V);
  for (int done = 0; done < n;) {
    const int chunk = std::min(s_.batch, n - done);
    const bool last = done + chunk == n;
    forward_chunk(tokens.data() + done, chunk, pos + done, all_logits,
                  all_logits ? all_logits_.data() + static_cast<size_t>(done) * V : nullptr);
    if (!all_logits && last) break;
    done += chunk;
  }
  if (all_logits) return {all_logits_.data(), static_cast<size_t>(n) * V};
  return {s_.logits.data(), V};
}

void Transformer::forward_chunk(const int32_t* tokens, int n, int pos, bool all_logits, float* logits_out) {
  // convenience variables
  const ModelConfig& c = config_;
  const int dim = c.dim, hs = c.head_size(), q_dim = c.q_dim(), kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  const int n_heads = c.n_heads, n_kv_heads = c.n_kv_heads, group = n_heads / n_kv_heads;
  const float eps = c.norm_eps;
  const float attn_scale = 1.0f / std::sqrt(static_cast<float>(hs));
  RunState& s = s_;
  ThreadPool& pool = *pool_;
  const KernelTable& k = kernels();

  // token embeddings (one row of token_embd each, dequantised) and RoPE angles of each position
  for (int t = 0; t < n; ++t) {
    const WeightMatrix& e = w_.token_embd;
    const std::byte* row = e.data + static_cast<size_t>(tokens[t]) * e.row_bytes;
    if (e.rows8) {
      unpack_row8(e.type, e.data, tokens[t], e.cols, embd_row_.data());
      row = embd_row_.data();
    }
    traits(e.type).to_float(row, s.x.data() + static_cast<size_t>(t) * dim, dim);
    rope_angles(&s.rope_cs[static_cast<size_t>(t) * hs], pos + t, inv_freq_);
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w_.layers[static_cast<size_t>(l)];

    // attention rmsnorm
    for (int t = 0; t < n; ++t) rmsnorm(&s.xb[static_cast<size_t>(t) * dim], &s.x[static_cast<size_t>(t) * dim], L.attn_norm.data(), dim, eps);

    // q, k, v projections in one parallel step
    const MatmulJob qkv[] = {{&L.wq, s.xb.data(), dim, s.q.data(), q_dim},
                             {&L.wk, s.xb.data(), dim, s.k.data(), kv_dim},
                             {&L.wv, s.xb.data(), dim, s.v.data(), kv_dim}};
    matmul(pool, qkv, n, s.act_q);

    for (int t = 0; t < n; ++t) {
      float* q = &s.q[static_cast<size_t>(t) * q_dim];
      float* kk = &s.k[static_cast<size_t>(t) * kv_dim];
      float* v = &s.v[static_cast<size_t>(t) * kv_dim];
      if (c.attn_bias) {  // Qwen2
        for (int i = 0; i < q_dim; ++i) q[i] += L.bq[static_cast<size_t>(i)];
        for (int i = 0; i < kv_dim; ++i) kk[i] += L.bk[static_cast<size_t>(i)];
        for (int i = 0; i < kv_dim; ++i) v[i] += L.bv[static_cast<size_t>(i)];
      }
      if (c.qk_norm) {  // Qwen3: RMSNorm of every head before RoPE
        for (int h = 0; h < n_heads; ++h) rmsnorm(q + h * hs, q + h * hs, L.q_norm.data(), hs, eps);
        for (int h = 0; h < n_kv_heads; ++h) rmsnorm(kk + h * hs, kk + h * hs, L.k_norm.data(), hs, eps);
      }
      // RoPE on q and k, then k and v into the cache
      const float* cs = &s.rope_cs[static_cast<size_t>(t) * hs];
      rope(q, n_heads, hs, cs, c.rope_style);
      rope(kk, n_kv_heads, hs, cs, c.rope_style);
      kv_.store(l, pos + t, kk, v);
    }

    // multi-head attention: each (token, head) pair is independent; causal because token t
    // only reads cache positions <= pos + t, all written above.
    const int64_t att_work = static_cast<int64_t>(n) * n_heads * (pos + n) * hs * 2;
    const bool f16 = kv_.is_f16();
    const AttnScoresFn attn_scores = f16 ? k.attn_scores_f16 : k.attn_scores_f32;
    const AttnMixFn attn_mix = f16 ? k.attn_mix_f16 : k.attn_mix_f32;
    // kv head kvh's slice of a cache row; the rows of consecutive positions are kv_dim apart
    auto head_slice = [&](const void* row, int kvh) -> const void* {
      return f16 ? static_cast<const void*>(static_cast<const uint16_t*>(row) + kvh * hs)
                 : static_cast<const void*>(static_cast<const float*>(row) + kvh * hs);
    };
    run_parallel(pool, att_work, static_cast<int64_t>(n) * n_heads, 1, [&](int64_t begin, int64_t end, int thread) {
      float* att = &s.att[static_cast<size_t>(thread) * context_];
      for (int64_t task = begin; task < end; ++task) {
        const int t = static_cast<int>(task / n_heads), h = static_cast<int>(task % n_heads);
        const int p = pos + t;
        const int kvh = h / group;  // grouped-query attention: `group` query heads share a kv head
        const int start = c.sliding_window > 0 ? std::max(0, p - c.sliding_window + 1) : 0;
        const float* q = &s.q[static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hs];
        const int n_pos = p - start + 1;
        float* out = &s.xb2[static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hs];
        attn_scores(head_slice(kv_.key(l, start), kvh), static_cast<size_t>(kv_dim), n_pos, q, hs, attn_scale, att);
        softmax(att, n_pos);
        attn_mix(att, head_slice(kv_.value(l, start), kvh), static_cast<size_t>(kv_dim), n_pos, hs, out);
      }
    });

    // output projection and residual
    const MatmulJob o[] = {{&L.wo, s.xb2.data(), q_dim, s.xb.data(), dim}};
    matmul(pool, o, n, s.act_q);
    for (size_t i = 0; i < static_cast<size_t>(n) * dim; ++i) s.x[i] += s.xb[i];

    // feed-forward: rmsnorm, gate, up and SwiGLU in one step, down, residual
    for (int t = 0; t < n; ++t) rmsnorm(&s.xb[static_cast<size_t>(t) * dim], &s.x[static_cast<size_t>(t) * dim], L.ffn_norm.data(), dim, eps);
    const MatmulJob gate_up[] = {{&L.w_gate, s.xb.data(), dim, s.hb.data(), hidden},
                                 {&L.w_up, s.xb.data(), dim, s.hb2.data(), hidden}};
    matmul_swiglu(pool, gate_up[0], gate_up[1], n, s.act_q);  // s.hb = silu(gate) * up
    const MatmulJob down[] = {{&L.w_down, s.hb.data(), hidden, s.xb.data(), dim}};
    matmul(pool, down, n, s.act_q);
    for (size_t i = 0; i < static_cast<size_t>(n) * dim; ++i) s.x[i] += s.xb[i];
  }

  // final rmsnorm and classifier: every token when all logits are wanted, else the last one
  const int first = all_logits ? 0 : n - 1;
  const int n_out = n - first;
  for (int t = first; t < n; ++t) {
    rmsnorm(&s.xb[static_cast<size_t>(t - first) * dim], &s.x[static_cast<size_t>(t) * dim], w_.output_norm.data(), dim, eps);
  }
  float* logits = logits_out != nullptr ? logits_out : s.logits.data();
  const MatmulJob cls[] = {{&w_.output, s.xb.data(), dim, logits, c.vocab_size}};
  matmul(pool, cls, n_out, s.act_q);
  if (logits_out != nullptr && n_out > 0) {
    // keep the last token's logits in s.logits too, for callers reading them after all_logits
    std::memcpy(s.logits.data(), logits + static_cast<size_t>(n_out - 1) * c.vocab_size,
                static_cast<size_t>(c.vocab_size) * sizeof(float));
  }
}

}  // namespace mecllm::runtime
