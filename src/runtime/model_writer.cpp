// Checkpoint writers: GGUF v3 and safetensors (+ config.json). llama2.c is in llama2c.cpp.
#include "runtime/model_writer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <map>

#include "common/errors.h"
#include "common/rundir.h"
#include "runtime/atomic_output.h"
#include "runtime/hf_config.h"
#include "runtime/safetensors.h"

namespace fs = std::filesystem;

namespace mecllm::runtime {

OwnedTensor make_tensor(std::string name, std::vector<int64_t> shape, std::span<const float> values, QuantType type) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) throw InputError(fmt::format("tensor '{}': shape [{}] has a non-positive size", name, fmt::join(shape, ", ")));
    n *= d;
  }
  if (shape.empty() || static_cast<size_t>(n) != values.size())
    throw InputError(fmt::format("tensor '{}': {} values do not fill shape [{}]", name, values.size(), fmt::join(shape, ", ")));
  const auto& tr = traits(type);
  if (!row_fits(type, shape.back()))
    throw InputError(fmt::format("tensor '{}': {} needs rows of a multiple of {} values, got {}", name, tr.name,
                                 tr.block_size, shape.back()));
  OwnedTensor t{std::move(name), type, std::move(shape), {}};
  t.bytes.resize(row_size(type, t.shape.back()) * static_cast<size_t>(n / t.shape.back()));
  tr.from_float_ref(values.data(), t.bytes.data(), n);
  return t;
}

OwnedTensor convert_tensor(const TensorView& src, QuantType type) {
  if (src.type == type) return {src.name, type, src.shape, std::vector<std::byte>(src.data.begin(), src.data.end())};
  std::vector<float> values(static_cast<size_t>(src.n_elements()));
  traits(src.type).to_float(src.data.data(), values.data(), src.n_elements());
  return make_tensor(src.name, src.shape, values, type);
}

std::vector<TensorView> views_of(const std::vector<OwnedTensor>& tensors) {
  std::vector<TensorView> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.push_back(t.view());
  return out;
}

// ---------------------------------------------------------------- GGUF

namespace {

// The type holding most matrix weights, for general.file_type.
QuantType dominant_type(const std::vector<const TensorView*>& tensors) {
  std::map<QuantType, int64_t> count;
  for (const auto* t : tensors)
    if (t->shape.size() >= 2) count[t->type] += t->n_elements();
  QuantType best = QuantType::F32;
  int64_t most = -1;
  for (auto [type, n] : count)
    if (n > most) best = type, most = n;
  return best;
}

void check_rope_layout(const std::string& path, const ModelConfig& c) {
  const bool want_neox = c.arch == "qwen2" || c.arch == "qwen3";
  if ((c.rope_style == RopeStyle::neox) != want_neox)
    throw_input_error(path, "config has arch {} with {} RoPE; GGUF's {} arch implies {} (permute the q/k rows first)", c.arch,
                      rope_style_name(c.rope_style), gguf_arch_name(c), want_neox ? "neox" : "interleaved");
}

}  // namespace

void write_gguf(const std::string& path, const ModelConfig& config, std::span<const TensorView> tensors,
                const GgufMetadata& extra) {
  config.validate(path);
  check_rope_layout(path, config);
  auto ordered = match_expected_tensors(path, config, tensors);
  const std::string arch = gguf_arch_name(config);

  GgufMetadata md;
  md.set("general.architecture", GgufValue::of_string(arch));
  if (const auto* name = extra.find("general.name")) md.set("general.name", *name);
  const QuantType ftype = dominant_type(ordered);
  md.set("general.file_type", GgufValue::of_u32(gguf_file_type(ftype)));
  if (traits(ftype).is_quantized) md.set("general.quantization_version", GgufValue::of_u32(2));  // ggml's QK format rev
  uint64_t alignment = 32;
  if (const auto* a = extra.find("general.alignment")) {
    if (a->type != GgufType::UINT32 || a->u == 0 || (a->u & (a->u - 1)) != 0)
      throw_input_error(path, "general.alignment = {}, expected a uint32 power of two", a->to_string());
    alignment = a->u;
    md.set("general.alignment", *a);
  }
  config_to_gguf(config, md);
  // Every other key of `extra` (tokenizer.*, provenance), unless the config owns it: keys of
  // any architecture prefix would contradict the shape just written.
  for (const auto& [key, value] : extra.entries()) {
    if (md.contains(key) || key == "general.file_type" || key == "general.quantization_version") continue;
    const auto dot = key.find('.');
    const std::string prefix = dot == std::string::npos ? key : key.substr(0, dot);
    if (prefix == "llama" || prefix == "qwen2" || prefix == "qwen3" || prefix == arch) continue;
    md.set(key, value);
  }

  std::vector<GgufTensorData> data;
  for (const TensorView* t : ordered) {
    if (!row_fits(t->type, t->shape.back()))
      throw_input_error(path, "tensor '{}': {} needs ne[0] % {} == 0, got {}", t->name, quant_type_name(t->type),
                        traits(t->type).block_size, t->shape.back());
    data.push_back({t->name, t->type, t->shape, t->data});
  }
  if (config.rope_scaling == RopeScaling::llama3) {  // as llama.cpp stores Llama 3.1's divisors
    const auto& f = config.rope_freq_factors;
    data.push_back({std::string(kRopeFreqsTensor), QuantType::F32, {static_cast<int64_t>(f.size())},
                    std::as_bytes(std::span<const float>(f))});
  }
  write_gguf_file(path, md, data, alignment);
}

// ---------------------------------------------------------------- safetensors

namespace {

const char* safetensors_dtype(QuantType t) {
  switch (t) {
    case QuantType::F32: return "F32";
    case QuantType::F16: return "F16";
    case QuantType::BF16: return "BF16";
    default: return nullptr;
  }
}

const char* torch_dtype(QuantType t) {
  return t == QuantType::F16 ? "float16" : t == QuantType::BF16 ? "bfloat16" : "float32";
}

}  // namespace

void write_safetensors(const std::string& path, const ModelConfig& config, std::span<const TensorView> tensors) {
  config.validate(path);
  auto ordered = match_expected_tensors(path, config, tensors);
  for (const TensorView* t : ordered)
    if (!safetensors_dtype(t->type))
      throw_input_error(path, "tensor '{}' is {}: safetensors output holds f32, f16 or bf16 (convert with --type f32|f16|bf16)",
                        t->name, quant_type_name(t->type));
  const bool is_file = fs::path(path).extension() == ".safetensors";
  const fs::path dir = is_file ? (fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path())
                               : fs::path(path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_input_error(dir.string(), "cannot create directory: {}", ec.message());
  const fs::path file = is_file ? fs::path(path) : dir / "model.safetensors";

  // Header first (offsets depend only on sizes), padded with spaces to 8 bytes as the
  // safetensors library does, so the data section starts aligned.
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TensorView* t : ordered) {
    header[gguf_to_hf_name(t->name)] = {
        {"dtype", safetensors_dtype(t->type)}, {"shape", t->shape}, {"data_offsets", {offset, offset + t->data.size()}}};
    offset += t->data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  AtomicOutput o(file.string());
  o.write_pod(static_cast<uint64_t>(text.size()));
  o.write(text.data(), text.size());
  std::vector<std::byte> buf;
  for (const TensorView* t : ordered) {
    const bool is_q = t->name.ends_with(".attn_q.weight") || t->name.ends_with(".attn_q.bias");
    const bool is_k = t->name.ends_with(".attn_k.weight") || t->name.ends_with(".attn_k.bias");
    if (hf_needs_qk_permute(config) && (is_q || is_k)) {
      // Back to HF's rotate_half row order (the inverse of the permutation on read).
      buf.resize(t->data.size());
      permute_qk_rows(t->data, buf, is_q ? config.n_heads : config.n_kv_heads, config.head_size(),
                      t->data.size() / static_cast<size_t>(t->shape[0]), /*to_interleaved=*/false);
      o.write(buf);
    } else {
      o.write(t->data);
    }
  }
  // The config goes in only after the tensors are complete; both land by rename.
  nlohmann::json cj = config_to_hf_json(config);
  for (const TensorView* t : ordered)
    if (t->shape.size() >= 2) {
      cj["torch_dtype"] = torch_dtype(t->type);
      break;
    }
  o.commit();
  write_file_atomic(dir / "config.json", cj.dump(2) + "\n");
}

}  // namespace mecllm::runtime
