#include "llm/transformer_torch.h"

#include <cmath>

#include "common/errors.h"
#include "llm/torch_lm.h"

namespace mecllm::llm {

// ---------------------------------------------------------------- modules
ParamImpl::ParamImpl(std::vector<int64_t> shape, bool with_bias) {
  weight = register_parameter("weight", torch::zeros(shape));
  if (with_bias) bias = register_parameter("bias", torch::zeros({shape.front()}));
}

BlockImpl::BlockImpl(const runtime::ModelConfig& c) {
  const int64_t dim = c.dim, hs = c.head_size(), q_dim = c.q_dim(), kv_dim = c.kv_dim();
  attn_norm = register_module("attn_norm", Param(std::vector<int64_t>{dim}, false));
  attn_q = register_module("attn_q", Param(std::vector<int64_t>{q_dim, dim}, c.attn_bias));
  attn_k = register_module("attn_k", Param(std::vector<int64_t>{kv_dim, dim}, c.attn_bias));
  attn_v = register_module("attn_v", Param(std::vector<int64_t>{kv_dim, dim}, c.attn_bias));
  if (c.qk_norm) {
    attn_q_norm = register_module("attn_q_norm", Param(std::vector<int64_t>{hs}, false));
    attn_k_norm = register_module("attn_k_norm", Param(std::vector<int64_t>{hs}, false));
  }
  attn_output = register_module("attn_output", Param(std::vector<int64_t>{dim, q_dim}, false));
  ffn_norm = register_module("ffn_norm", Param(std::vector<int64_t>{dim}, false));
  ffn_gate = register_module("ffn_gate", Param(std::vector<int64_t>{c.hidden_dim, dim}, false));
  ffn_down = register_module("ffn_down", Param(std::vector<int64_t>{dim, c.hidden_dim}, false));
  ffn_up = register_module("ffn_up", Param(std::vector<int64_t>{c.hidden_dim, dim}, false));
}

TransformerImpl::TransformerImpl(const runtime::ModelConfig& c) : config(c) {
  config.validate("transformer config");
  token_embd = register_module("token_embd", Param(std::vector<int64_t>{c.vocab_size, c.dim}, false));
  blk = register_module("blk", torch::nn::ModuleList());
  for (int l = 0; l < c.n_layers; ++l) blk->push_back(Block(c));
  output_norm = register_module("output_norm", Param(std::vector<int64_t>{c.dim}, false));
  if (!c.tied_embeddings) output = register_module("output", Param(std::vector<int64_t>{c.vocab_size, c.dim}, false));

  // RoPE tables in double, as llama2.c's per-pair frequency theta^(-2i/head_size), divided by
  // the config's scaling (linear, Llama 3.1; runtime::rope_freq_divisors).
  const int64_t half = c.head_size() / 2;
  auto pos = torch::arange(c.seq_len, torch::kFloat64).unsqueeze(1);                    // (seq_len, 1)
  std::vector<double> divisors = runtime::rope_freq_divisors(c);
  auto inv = torch::pow(static_cast<double>(c.rope_theta),
                        -torch::arange(half, torch::kFloat64) * 2.0 / static_cast<double>(c.head_size())) /
             torch::tensor(divisors, torch::kFloat64);                                   // (half)
  auto ang = pos * inv.unsqueeze(0);                                                     // (seq_len, half)
  rope_cos = register_buffer("rope_cos", torch::cos(ang).to(torch::kFloat32));
  rope_sin = register_buffer("rope_sin", torch::sin(ang).to(torch::kFloat32));
  init_weights();
}

void TransformerImpl::init_weights() {
  torch::NoGradGuard no_grad;
  const double resid_std = 0.02 / std::sqrt(2.0 * config.n_layers);
  for (auto& p : named_parameters()) {
    const std::string& name = p.key();
    auto& t = p.value();
    if (t.dim() == 1) {
      // Norm gains start at 1, biases at 0.
      t.fill_(name.ends_with(".bias") ? 0.0 : 1.0);
    } else if (name.ends_with("attn_output.weight") || name.ends_with("ffn_down.weight")) {
      t.normal_(0.0, resid_std);
    } else {
      t.normal_(0.0, 0.02);
    }
  }
}

namespace {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

// x (B, T, H, hs); cos/sin (T, hs/2).
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                         runtime::RopeStyle style) {
  const int64_t hs = x.size(3), half = hs / 2;
  auto c = cos.view({1, cos.size(0), 1, half});
  auto s = sin.view({1, sin.size(0), 1, half});
  if (style == runtime::RopeStyle::interleaved) {
    // Pairs (0,1), (2,3), ...: llama2.c and llama.cpp's `llama` arch.
    auto xp = x.reshape({x.size(0), x.size(1), x.size(2), half, 2});
    auto x0 = xp.select(-1, 0), x1 = xp.select(-1, 1);
    return torch::stack({x0 * c - x1 * s, x0 * s + x1 * c}, -1).flatten(-2);
  }
  // neox / HF rotate_half: pairs (i, i + hs/2).
  auto x0 = x.narrow(-1, 0, half), x1 = x.narrow(-1, half, half);
  return torch::cat({x0 * c - x1 * s, x0 * s + x1 * c}, -1);
}

torch::Tensor linear(const torch::Tensor& x, const Param& p) {
  return torch::nn::functional::linear(x, p->weight, p->bias.defined() ? p->bias : torch::Tensor());
}

}  // namespace

torch::Tensor TransformerImpl::hidden(const torch::Tensor& tokens) {
  const auto& c = config;
  const int64_t B = tokens.size(0), T = tokens.size(1), hs = c.head_size();
  MECLLM_CHECK(T <= c.seq_len, "sequence of {} tokens exceeds seq_len {}", T, c.seq_len);
  const double eps = c.norm_eps;
  auto x = torch::embedding(token_embd->weight, tokens);  // (B, T, dim)
  auto cos = rope_cos.narrow(0, 0, T), sin = rope_sin.narrow(0, 0, T);

  // Additive mask (T, T): -inf above the diagonal and, with a window, beyond it.
  auto idx = torch::arange(T, tokens.options());
  auto dist = idx.unsqueeze(1) - idx.unsqueeze(0);  // i - j
  auto allowed = dist >= 0;
  if (c.sliding_window > 0) allowed = allowed & (dist < c.sliding_window);
  auto mask = torch::zeros({T, T}, x.options()).masked_fill(allowed.logical_not(), -INFINITY);

  const int64_t group = c.n_heads / c.n_kv_heads;
  for (const auto& m : *blk) {
    auto* b = m->as<BlockImpl>();
    // attention: rmsnorm, qkv, (qk-norm), RoPE, scaled dot product with GQA, output projection
    auto h = rms_norm(x, b->attn_norm->weight, eps);
    auto q = linear(h, b->attn_q).view({B, T, c.n_heads, hs});
    auto k = linear(h, b->attn_k).view({B, T, c.n_kv_heads, hs});
    auto v = linear(h, b->attn_v).view({B, T, c.n_kv_heads, hs});
    if (c.qk_norm) {
      q = rms_norm(q, b->attn_q_norm->weight, eps);
      k = rms_norm(k, b->attn_k_norm->weight, eps);
    }
    q = apply_rope(q, cos, sin, c.rope_style).transpose(1, 2);  // (B, H, T, hs)
    k = apply_rope(k, cos, sin, c.rope_style).transpose(1, 2);  // (B, KV, T, hs)
    v = v.transpose(1, 2);                                      // (B, KV, T, hs)
    if (group > 1) {
      // Query head h reads KV head h / group, as llama.cpp and llama2.c do.
      k = k.repeat_interleave(group, 1);
      v = v.repeat_interleave(group, 1);
    }
    auto att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hs)) + mask;  // (B, H, T, T)
    att = torch::softmax(att, -1);
    auto y = torch::matmul(att, v).transpose(1, 2).reshape({B, T, c.n_heads * hs});  // (B, T, q_dim)
    x = x + linear(y, b->attn_output);
    // feed-forward: rmsnorm, SwiGLU
    h = rms_norm(x, b->ffn_norm->weight, eps);
    x = x + linear(torch::silu(linear(h, b->ffn_gate)) * linear(h, b->ffn_up), b->ffn_down);
  }
  return rms_norm(x, output_norm->weight, eps);
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& tokens) {
  auto h = hidden(tokens);
  return torch::matmul(h, (config.tied_embeddings ? token_embd->weight : output->weight).t());  // (B, T, vocab)
}

void TransformerImpl::load_from(const runtime::ModelFile& file) {
  const auto& fc = file.config();
  auto differs = [&](const char* field, auto a, auto b) {
    if (a != b) throw_input_error(file.path(), "model config {} = {}, but this model has {}", field, a, b);
  };
  differs("dim", fc.dim, config.dim);
  differs("hidden_dim", fc.hidden_dim, config.hidden_dim);
  differs("n_layers", fc.n_layers, config.n_layers);
  differs("n_heads", fc.n_heads, config.n_heads);
  differs("n_kv_heads", fc.n_kv_heads, config.n_kv_heads);
  differs("vocab_size", fc.vocab_size, config.vocab_size);
  differs("head_size", fc.head_size(), config.head_size());
  differs("tied_embeddings", fc.tied_embeddings, config.tied_embeddings);
  differs("qk_norm", fc.qk_norm, config.qk_norm);
  differs("attn_bias", fc.attn_bias, config.attn_bias);
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const auto& view = file.get(p.key());
    std::vector<int64_t> want(p.value().sizes().begin(), p.value().sizes().end());
    if (view.shape != want)
      throw_input_error(file.path(), "tensor '{}' has shape {}, expected {}", p.key(), view.shape_string(),
                        fmt::format("[{}]", fmt::join(want, ", ")));
    std::vector<float> values = file.get_f32(p.key());
    auto src = torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat32);
    p.value().copy_(src.view(p.value().sizes()).to(p.value().device()));
  }
}

std::vector<runtime::OwnedTensor> TransformerImpl::export_tensors(runtime::QuantType type) {
  auto params = named_parameters();
  std::vector<runtime::OwnedTensor> out;
  for (const auto& spec : runtime::expected_tensors(config)) {
    const torch::Tensor* t = params.find(spec.name);
    MECLLM_CHECK(t != nullptr, "transformer has no parameter '{}'", spec.name);
    auto cpu = t->detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::span<const float> values(cpu.data_ptr<float>(), static_cast<size_t>(cpu.numel()));
    out.push_back(runtime::make_tensor(spec.name, spec.shape, values,
                                       spec.is_norm_or_bias ? runtime::QuantType::F32 : type));
  }
  return out;
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw InputError(fmt::format("--device {}: CUDA is not available in this LibTorch build or machine", name));
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw InputError(fmt::format("--device {}: not a device name, expected cpu, cuda or cuda:N", name));
    }
  }
  throw InputError(fmt::format("--device {}: unknown device, expected cpu, cuda or cuda:N", name));
}

// ---------------------------------------------------------------- TorchLm (pimpl)
struct TorchLm::Impl {
  Transformer model{nullptr};
  torch::Device device{torch::kCPU};
};

TorchLm::TorchLm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TorchLm::TorchLm(TorchLm&&) noexcept = default;
TorchLm& TorchLm::operator=(TorchLm&&) noexcept = default;
TorchLm::~TorchLm() = default;

TorchLm TorchLm::open(const std::string& model_path, const std::string& device) {
  auto impl = std::make_unique<Impl>();
  impl->device = parse_device(device);
  const auto file = runtime::ModelFile::open(model_path);
  impl->model = Transformer(file.config());
  impl->model->load_from(file);
  impl->model->to(impl->device);
  impl->model->eval();
  return TorchLm(std::move(impl));
}

const runtime::ModelConfig& TorchLm::config() const { return impl_->model->config; }

std::vector<float> TorchLm::logits(std::span<const int32_t> ids) const {
  const auto& c = config();
  if (ids.empty() || static_cast<int>(ids.size()) > c.seq_len)
    throw InputError(fmt::format("logits: {} tokens given, expected 1..{} (seq_len)", ids.size(), c.seq_len));
  for (int32_t id : ids)
    if (id < 0 || id >= c.vocab_size) throw InputError(fmt::format("logits: token id {} outside 0..{}", id, c.vocab_size - 1));
  torch::NoGradGuard no_grad;
  std::vector<int64_t> v(ids.begin(), ids.end());
  auto tokens = torch::tensor(v, torch::kInt64).view({1, -1}).to(impl_->device);
  auto out = impl_->model->forward(tokens).squeeze(0).to(torch::kCPU).contiguous();  // (T, vocab)
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

std::vector<int32_t> TorchLm::generate_greedy(std::vector<int32_t> prompt, int max_new_tokens,
                                              const std::function<bool(int32_t)>& stop) const {
  const auto& c = config();
  std::vector<int32_t> out;
  for (int i = 0; i < max_new_tokens; ++i) {
    // The most recent seq_len tokens form the window.
    std::span<const int32_t> window(prompt);
    if (static_cast<int>(window.size()) > c.seq_len) window = window.subspan(window.size() - c.seq_len);
    const auto lg = logits(window);
    const float* last = lg.data() + (window.size() - 1) * static_cast<size_t>(c.vocab_size);
    const auto id = static_cast<int32_t>(std::max_element(last, last + c.vocab_size) - last);
    out.push_back(id);
    prompt.push_back(id);
    if (stop && stop(id)) break;
  }
  return out;
}

std::pair<double, int64_t> TorchLm::nll(std::span<const int32_t> ids) const {
  const auto& c = config();
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t n = 0;
  for (size_t start = 0; start + 1 < ids.size(); start += static_cast<size_t>(c.seq_len)) {
    const size_t end = std::min(ids.size(), start + static_cast<size_t>(c.seq_len) + 1);
    std::vector<int64_t> w(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end));
    auto t = torch::tensor(w, torch::kInt64).to(impl_->device);
    auto inputs = t.narrow(0, 0, t.size(0) - 1).unsqueeze(0), targets = t.narrow(0, 1, t.size(0) - 1);
    auto lg = impl_->model->forward(inputs).squeeze(0);  // (T, vocab)
    sum += torch::nn::functional::cross_entropy(lg, targets,
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
    n += targets.size(0);
  }
  return {sum, n};
}

AnswerFn make_greedy_answerer(const TorchLm& lm, const runtime::Tokenizer& tok, int max_new_tokens) {
  return [&lm, &tok, max_new_tokens](const std::string& prompt) {
    const int32_t eos = tok.eos_id();
    auto ids = tok.encode(prompt, /*add_bos=*/true);
    auto gen = lm.generate_greedy(ids, max_new_tokens, [&](int32_t id) {
      return id == eos || tok.token_text(id).find('\n') != std::string_view::npos;
    });
    std::vector<int32_t> body;
    for (int32_t id : gen)
      if (id != eos) body.push_back(id);
    std::string text = tok.decode(body);
    if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
    return normalize_answer(text);
  };
}

double perplexity(const TorchLm& lm, const runtime::Tokenizer& tok, const std::vector<std::string>& lines,
                  int max_lines) {
  double sum = 0;
  int64_t n = 0;
  const size_t count = max_lines > 0 ? std::min(lines.size(), static_cast<size_t>(max_lines)) : lines.size();
  for (size_t i = 0; i < count; ++i) {
    auto ids = tok.encode(lines[i], /*add_bos=*/true, /*add_eos=*/true);
    auto [s, k] = lm.nll(ids);
    sum += s;
    n += k;
  }
  return n ? std::exp(sum / static_cast<double>(n)) : 0.0;
}

}  // namespace mecllm::llm
