// llama2.c checkpoint reader and writer (layout in llama2c.h).
#include "runtime/llama2c.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "runtime/atomic_output.h"
#include "runtime/model_writer.h"

namespace mecllm::runtime {

namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

Header read_header(std::span<const std::byte> bytes) {
  Header h;
  static_assert(sizeof(Header) == kHeaderBytes);
  std::memcpy(&h, bytes.data(), sizeof h);
  return h;
}

}  // namespace

bool looks_like_llama2c(std::span<const std::byte> bytes) {
  if (bytes.size() < kHeaderBytes) return false;
  Header h = read_header(bytes);
  auto ok = [](int32_t v) { return v > 0 && v <= (1 << 24); };
  return ok(h.dim) && ok(h.hidden_dim) && ok(h.n_layers) && ok(h.n_heads) && ok(h.n_kv_heads) && ok(h.seq_len) &&
         h.vocab_size != 0 && h.vocab_size > -(1 << 24) && h.vocab_size < (1 << 24);
}

uint64_t llama2c_file_size(const ModelConfig& c) {
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, kv_dim = c.kv_dim(), vocab = c.vocab_size;
  uint64_t floats = vocab * dim                      // token embedding
                    + layers * dim * 2               // rms_att, rms_ffn
                    + layers * dim * dim * 2         // wq, wo
                    + layers * kv_dim * dim * 2      // wk, wv
                    + layers * hidden * dim * 3      // w1, w2, w3
                    + dim                            // rms_final
                    + static_cast<uint64_t>(c.seq_len) * c.head_size();  // two RoPE tables of seq*hs/2
  if (!c.tied_embeddings) floats += vocab * dim;
  return kHeaderBytes + floats * sizeof(float);
}

ModelFile::Parts read_llama2c(MappedFile map) {
  const std::string path = map.path();
  auto bytes = map.bytes();
  if (bytes.size() < kHeaderBytes)
    throw_input_error(path, "truncated llama2.c header: {} bytes, expected at least {}", bytes.size(), kHeaderBytes);
  Header h = read_header(bytes);
  ModelConfig c;
  c.arch = "llama";
  c.dim = h.dim;
  c.hidden_dim = h.hidden_dim;
  c.n_layers = h.n_layers;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.tied_embeddings = h.vocab_size > 0;  // llama2.c: a negative vocab_size marks an unshared classifier
  c.vocab_size = h.vocab_size == std::numeric_limits<int32_t>::min() ? 0 : std::abs(h.vocab_size);
  c.seq_len = h.seq_len;
  c.rope_style = RopeStyle::interleaved;
  try {
    c.validate(path);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{} (header read as llama2.c: dim {}, hidden_dim {}, n_layers {}, n_heads {}, n_kv_heads {}, "
                                 "vocab_size {}, seq_len {}; is this really a llama2.c checkpoint?)", e.what(), h.dim,
                                 h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len));
  }
  if (c.bos_id >= c.vocab_size || c.eos_id >= c.vocab_size) c.bos_id = c.eos_id = -1;

  const uint64_t expected = llama2c_file_size(c);
  if (bytes.size() != expected)
    throw_input_error(path, "file is {} bytes, but its llama2.c header ({}) implies exactly {} bytes ({})", bytes.size(),
                      c.summary(), expected, bytes.size() < expected ? "truncated file" : "trailing bytes: not a llama2.c v0 checkpoint");

  ModelFile::Parts parts;
  parts.path = path;
  parts.format = ModelFormat::llama2c;
  parts.config = c;
  uint64_t pos = kHeaderBytes;
  // A run of n_layers arrays of `shape`, one view per layer named blk.L.<what>.
  auto per_layer = [&](const char* what, std::vector<int64_t> shape) {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    for (int l = 0; l < c.n_layers; ++l) {
      parts.tensors.push_back({fmt::format("blk.{}.{}", l, what), QuantType::F32, shape, bytes.subspan(pos, n * 4)});
      pos += n * 4;
    }
  };
  auto single = [&](const char* name, std::vector<int64_t> shape) {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    parts.tensors.push_back({name, QuantType::F32, shape, bytes.subspan(pos, n * 4)});
    pos += n * 4;
  };
  const int64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = c.kv_dim();
  single("token_embd.weight", {c.vocab_size, dim});
  per_layer("attn_norm.weight", {dim});
  per_layer("attn_q.weight", {dim, dim});
  per_layer("attn_k.weight", {kv_dim, dim});
  per_layer("attn_v.weight", {kv_dim, dim});
  per_layer("attn_output.weight", {dim, dim});
  per_layer("ffn_norm.weight", {dim});
  per_layer("ffn_gate.weight", {hidden, dim});
  per_layer("ffn_down.weight", {dim, hidden});
  per_layer("ffn_up.weight", {hidden, dim});
  single("output_norm.weight", {dim});
  pos += static_cast<uint64_t>(c.seq_len) * c.head_size() * sizeof(float);  // legacy RoPE tables
  if (!c.tied_embeddings) single("output.weight", {c.vocab_size, dim});
  MECLLM_CHECK(pos == expected, "llama2.c layout walked {} of {} bytes", pos, expected);
  parts.maps.push_back(std::move(map));
  return parts;
}

void write_llama2c(const std::string& path, const ModelConfig& c, std::span<const TensorView> tensors) {
  c.validate(path);
  auto reject = [&](std::string_view what) {
    throw_input_error(path, "cannot write a llama2.c checkpoint: {} (the format stores only dim, hidden_dim, n_layers, "
                      "n_heads, n_kv_heads, vocab_size, seq_len); write GGUF or safetensors instead", what);
  };
  if (c.arch != "llama") reject(fmt::format("arch is {}, the format is llama only", c.arch));
  if (c.rope_style != RopeStyle::interleaved) reject("RoPE style is neox");
  if (c.rope_scaling != RopeScaling::none) reject(fmt::format("RoPE scaling {} has no place in the format", rope_scaling_name(c.rope_scaling)));
  if (c.qk_norm || c.attn_bias) reject("the model has QK-norm or attention biases");
  if (c.head_size() * c.n_heads != c.dim) reject(fmt::format("head_dim {} is not dim / n_heads", c.head_size()));
  if (c.norm_eps != 1e-5f || c.rope_theta != 10000.0f)
    reject(fmt::format("norm_eps {} / rope_theta {} differ from llama2.c's fixed 1e-5 / 10000", c.norm_eps, c.rope_theta));
  auto ordered = match_expected_tensors(path, c, tensors);
  for (const TensorView* t : ordered)
    if (t->type != QuantType::F32)
      throw_input_error(path, "tensor '{}' is {}: llama2.c checkpoints hold f32 only (convert with --type f32)", t->name,
                        quant_type_name(t->type));
  auto find = [&](const std::string& name) -> const TensorView& {
    for (const TensorView* t : ordered)
      if (t->name == name) return *t;
    MECLLM_CHECK(false, "tensor {} missing after matching", name);
    return *ordered.front();
  };

  AtomicOutput o(path);
  const int32_t header[7] = {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                             c.tied_embeddings ? c.vocab_size : -c.vocab_size, c.seq_len};
  o.write(header, sizeof header);
  o.write(find("token_embd.weight").data);
  for (const char* what : {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
                           "ffn_norm.weight", "ffn_gate.weight", "ffn_down.weight", "ffn_up.weight"})
    for (int l = 0; l < c.n_layers; ++l) o.write(find(fmt::format("blk.{}.{}", l, what)).data);
  o.write(find("output_norm.weight").data);
  // The two legacy tables (cos, sin) of shape (seq_len, head_size/2): run.c ignores them, but
  // writing the true values keeps files usable by older readers that still load them.
  const int half = c.head_size() / 2;
  std::vector<float> table(static_cast<size_t>(c.seq_len) * half);
  for (int pass = 0; pass < 2; ++pass) {
    for (int p = 0; p < c.seq_len; ++p)
      for (int i = 0; i < half; ++i) {
        double freq = std::pow(static_cast<double>(c.rope_theta), -2.0 * i / c.head_size());
        double angle = p * freq;
        table[static_cast<size_t>(p) * half + i] = static_cast<float>(pass == 0 ? std::cos(angle) : std::sin(angle));
      }
    o.write(table.data(), table.size() * sizeof(float));
  }
  if (!c.tied_embeddings) o.write(find("output.weight").data);
  MECLLM_CHECK(o.offset() == llama2c_file_size(c), "wrote {} bytes, layout says {}", o.offset(), llama2c_file_size(c));
  o.commit();
}

}  // namespace mecllm::runtime
