#include "runtime/model_inspect.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "runtime/model_file.h"

namespace mecllm::runtime {

namespace {

std::string human_count(double n) {
  if (n >= 1e9) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1e3) return fmt::format("{:.1f}K", n / 1e3);
  return fmt::format("{}", n);
}

std::string human_bytes(double n) {
  if (n >= 1ull << 30) return fmt::format("{:.2f} GiB", n / (1ull << 30));
  if (n >= 1ull << 20) return fmt::format("{:.2f} MiB", n / (1ull << 20));
  if (n >= 1ull << 10) return fmt::format("{:.1f} KiB", n / (1ull << 10));
  return fmt::format("{} B", n);
}

std::string tokenizer_summary(const ModelFile& m) {
  if (const GgufMetadata* md = m.gguf_metadata()) {
    auto model = md->find_string("tokenizer.ggml.model");
    if (!model) return "none (no tokenizer.ggml.* keys)";
    const auto* tokens = md->find_string_array("tokenizer.ggml.tokens");
    std::string s = fmt::format("{} ({}), {} tokens", *model, *model == "gpt2" ? "byte-level BPE" : "SentencePiece-style BPE",
                                tokens ? tokens->size() : 0);
    if (auto pre = md->find_string("tokenizer.ggml.pre")) s += fmt::format(", pre '{}'", *pre);
    if (const auto* merges = md->find_string_array("tokenizer.ggml.merges")) s += fmt::format(", {} merges", merges->size());
    if (auto b = md->find_int("tokenizer.ggml.bos_token_id")) s += fmt::format(", bos {}", *b);
    if (auto e = md->find_int("tokenizer.ggml.eos_token_id")) s += fmt::format(", eos {}", *e);
    if (md->contains("tokenizer.chat_template")) s += ", chat template";
    return s;
  }
  if (m.format() == ModelFormat::llama2c) return "not stored in llama2.c checkpoints (separate tok*.bin)";
  if (m.tokenizer_files().empty()) return "none found beside the weights";
  std::string s;
  for (const auto& f : m.tokenizer_files()) s += (s.empty() ? "" : ", ") + std::filesystem::path(f).filename().string();
  return s;
}

}  // namespace

std::string inspect_model(const std::string& path, const InspectOptions& opt) {
  ModelFile m = ModelFile::open(path);
  const ModelConfig& c = m.config();
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) { out += fmt::format("{:<13}{}\n", key, value); };
  line("file:", m.path());
  line("format:", std::string(format_name(m.format())));
  line("arch:", c.arch);
  line("shape:", fmt::format("dim {}, hidden {}, layers {}, heads {} (kv {}), head size {}", c.dim, c.hidden_dim,
                             c.n_layers, c.n_heads, c.n_kv_heads, c.head_size()));
  line("vocab:", fmt::format("{} (bos {}, eos {}), context {}", c.vocab_size, c.bos_id, c.eos_id, c.seq_len));
  std::string extras = fmt::format("rope {} theta {:g}, rms eps {:g}, {}", rope_style_name(c.rope_style), c.rope_theta,
                                   c.norm_eps, c.tied_embeddings ? "tied embeddings" : "untied output");
  if (c.qk_norm) extras += ", qk-norm";
  if (c.attn_bias) extras += ", qkv bias";
  if (c.sliding_window > 0) extras += fmt::format(", sliding window {}", c.sliding_window);
  line("features:", extras);
  line("parameters:", fmt::format("{} ({})", human_count(static_cast<double>(c.parameter_count())), c.parameter_count()));

  std::map<std::string, std::pair<int, int64_t>> by_type;  // name -> (tensors, weights)
  for (const auto& t : m.tensors()) {
    auto& e = by_type[quant_type_name(t.type)];
    ++e.first;
    e.second += t.n_elements();
  }
  std::string types;
  for (const auto& [name, e] : by_type)
    types += fmt::format("{}{}: {} tensors, {} weights", types.empty() ? "" : "; ", name, e.first, human_count(static_cast<double>(e.second)));
  line("types:", types);
  line("size:", fmt::format("{} of tensor data ({} bytes), {:.2f} bits per weight", human_bytes(static_cast<double>(m.tensor_bytes())),
                            m.tensor_bytes(), m.bits_per_weight()));
  line("tokenizer:", tokenizer_summary(m));

  if (opt.tensors) {
    out += fmt::format("\n{:<32} {:<6} {:<16} {:>12}\n", "tensor", "type", "shape", "bytes");
    for (const auto& t : m.tensors())
      out += fmt::format("{:<32} {:<6} {:<16} {:>12}\n", t.name, quant_type_name(t.type), t.shape_string(), t.data.size());
  }
  if (opt.metadata) {
    if (const GgufMetadata* md = m.gguf_metadata()) {
      out += "\n";
      for (const auto& [key, value] : md->entries()) out += fmt::format("{:<44} {}\n", key, value.to_string());
    } else {
      out += "\n(no GGUF metadata: not a GGUF file)\n";
    }
  }
  return out;
}

}  // namespace mecllm::runtime
