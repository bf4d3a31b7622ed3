// Safetensors header parsing, HF <-> GGUF names and the q/k RoPE row permutation.
#include "runtime/safetensors.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/errors.h"

namespace mecllm::runtime {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the safetensors library's own limit

std::optional<QuantType> dtype_from_name(const std::string& s) {
  if (s == "F32") return QuantType::F32;
  if (s == "F16") return QuantType::F16;
  if (s == "BF16") return QuantType::BF16;
  return std::nullopt;
}

}  // namespace

SafetensorsHeader parse_safetensors(const std::string& path, std::span<const std::byte> bytes) {
  if (bytes.size() < 8)
    throw_input_error(path, "file of {} bytes is too short for a safetensors header (8-byte length + JSON)", bytes.size());
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > bytes.size() - 8)
    throw_input_error(path, "header length {} exceeds the {} bytes after it (truncated file or not safetensors)",
                      header_len, bytes.size() - 8);
  if (header_len > kMaxHeaderBytes)
    throw_input_error(path, "header length {} exceeds the {}-byte limit", header_len, kMaxHeaderBytes);
  const uint64_t data_begin = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_begin;
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<size_t>(header_len));

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw_input_error(path, "malformed JSON header: {}", e.what());
  }
  if (!j.is_object()) throw_input_error(path, "JSON header is a {}, expected an object", j.type_name());

  SafetensorsHeader out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) throw_input_error(path, "__metadata__ is a {}, expected an object of strings", v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw_input_error(path, "__metadata__ key '{}' = {}, expected a string", m.key(), m.value().dump());
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](std::string_view what) { throw_input_error(path, "tensor '{}': {}", name, what); };
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      bad(fmt::format("entry {} lacks dtype, shape or data_offsets", v.dump().substr(0, 120)));
    if (!v["dtype"].is_string()) bad(fmt::format("dtype {} is not a string", v["dtype"].dump()));
    SafetensorsTensor t;
    t.name = name;
    std::string dtype = v["dtype"].get<std::string>();
    auto qt = dtype_from_name(dtype);
    if (!qt) bad(fmt::format("dtype '{}' is not supported, expected F32, F16 or BF16", dtype));
    t.type = *qt;
    const auto& shape = v["shape"];
    if (!shape.is_array() || shape.size() > 8) bad(fmt::format("shape {} is not a list of at most 8 sizes", shape.dump()));
    uint64_t n = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) bad(fmt::format("shape {} holds a non-integer or negative size", shape.dump()));
      uint64_t dv = d.get<uint64_t>();
      if (dv > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || (dv != 0 && n > data_size / dv))
        bad(fmt::format("shape {} is larger than the file", shape.dump()));
      n *= dv;
      t.shape.push_back(static_cast<int64_t>(dv));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad(fmt::format("data_offsets {} is not [begin, end]", off.dump()));
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size)
      bad(fmt::format("data_offsets [{}, {}] lie outside the {}-byte data section (truncated file?)", b, e, data_size));
    const uint64_t elem = traits(t.type).type_size;
    if (e - b != n * elem) bad(fmt::format("data_offsets [{}, {}] hold {} bytes, but {} x shape {} needs {}", b, e, e - b, dtype, shape.dump(), n * elem));
    t.begin = data_begin + b;
    t.end = data_begin + e;
    out.tensors.push_back(std::move(t));
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < out.tensors.size(); ++k)
    if (out.tensors[k - 1].end > out.tensors[k].begin)
      throw_input_error(path, "tensor '{}' overlaps tensor '{}'", out.tensors[k].name, out.tensors[k - 1].name);
  return out;
}

// ---------------------------------------------------------------- names

namespace {

// HF suffix inside model.layers.N. <-> GGUF suffix inside blk.N.
constexpr std::pair<const char*, const char*> kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
};
constexpr std::pair<const char*, const char*> kGlobalNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// Splits "<prefix><N>.<rest>" into N and rest; false when the name does not have that form.
bool split_layer(const std::string& name, std::string_view prefix, int& layer, std::string& rest) {
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t pos = prefix.size(), end = pos;
  while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
  if (end == pos || end - pos > 6 || end >= name.size() || name[end] != '.') return false;
  layer = std::stoi(name.substr(pos, end - pos));
  rest = name.substr(end + 1);
  return true;
}

}  // namespace

std::optional<std::string> hf_to_gguf_name(const std::string& hf) {
  for (const auto& [h, g] : kGlobalNames)
    if (hf == h) return std::string(g);
  int layer;
  std::string rest;
  if (!split_layer(hf, "model.layers.", layer, rest)) return std::nullopt;
  for (const auto& [h, g] : kLayerNames)
    if (rest == h) return fmt::format("blk.{}.{}", layer, g);
  return std::nullopt;
}

std::string gguf_to_hf_name(const std::string& gguf) {
  for (const auto& [h, g] : kGlobalNames)
    if (gguf == g) return h;
  int layer;
  std::string rest;
  if (split_layer(gguf, "blk.", layer, rest))
    for (const auto& [h, g] : kLayerNames)
      if (rest == g) return fmt::format("model.layers.{}.{}", layer, h);
  MECLLM_CHECK(false, "no Hugging Face name for tensor '{}'", gguf);
  return {};
}

bool hf_needs_qk_permute(const ModelConfig& c) { return c.arch == "llama" || c.arch == "mistral"; }

void permute_qk_rows(std::span<const std::byte> src, std::span<std::byte> dst, int n_head, int head_size,
                     size_t row_bytes, bool to_interleaved) {
  MECLLM_CHECK(head_size % 2 == 0, "head_size {}", head_size);
  MECLLM_CHECK(src.size() == static_cast<size_t>(n_head) * head_size * row_bytes && dst.size() == src.size(),
               "permute of {} bytes for {} heads x {} rows x {} bytes", src.size(), n_head, head_size, row_bytes);
  const int half = head_size / 2;
  for (int h = 0; h < n_head; ++h)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < half; ++j) {
        size_t hf_row = static_cast<size_t>(h) * head_size + static_cast<size_t>(i) * half + j;
        size_t il_row = static_cast<size_t>(h) * head_size + 2 * static_cast<size_t>(j) + i;
        size_t from = to_interleaved ? hf_row : il_row, to = to_interleaved ? il_row : hf_row;
        std::memcpy(dst.data() + to * row_bytes, src.data() + from * row_bytes, row_bytes);
      }
}

}  // namespace mecllm::runtime
