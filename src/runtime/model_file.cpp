// ModelFile: format detection, the GGUF and Hugging Face readers, and the shared tensor checks.
// (The llama2.c reader is in llama2c.cpp, safetensors parsing in safetensors.cpp.)
#include "runtime/model_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "runtime/hf_config.h"
#include "runtime/llama2c.h"
#include "runtime/safetensors.h"

namespace fs = std::filesystem;

namespace mecllm::runtime {

std::string_view format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::llama2c: return "llama2.c";
    case ModelFormat::gguf: return "gguf";
    case ModelFormat::safetensors: return "safetensors";
    case ModelFormat::hf_dir: return "hf-dir";
  }
  return "?";
}

int64_t TensorView::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorView::n_rows() const {
  int64_t n = 1;
  for (size_t d = 0; d + 1 < shape.size(); ++d) n *= shape[d];
  return n;
}

std::string TensorView::shape_string() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// ---------------------------------------------------------------- checks shared by all formats

std::vector<const TensorView*> match_expected_tensors(const std::string& path, const ModelConfig& config,
                                                      std::span<const TensorView> tensors) {
  std::unordered_map<std::string, const TensorView*> by_name;
  for (const auto& t : tensors)
    if (!by_name.emplace(t.name, &t).second) throw_input_error(path, "duplicate tensor '{}'", t.name);
  auto expected = expected_tensors(config);
  std::set<std::string> expected_names;
  std::vector<const TensorView*> out;
  for (const auto& spec : expected) {
    expected_names.insert(spec.name);
    auto it = by_name.find(spec.name);
    if (it == by_name.end())
      throw_input_error(path, "tensor '{}' is missing (expected shape [{}] for {})", spec.name, fmt::join(spec.shape, ", "),
                        config.summary());
    if (it->second->shape != spec.shape)
      throw_input_error(path, "tensor '{}' has shape {}, expected [{}] for {}", spec.name, it->second->shape_string(),
                        fmt::join(spec.shape, ", "), config.summary());
    out.push_back(it->second);
  }
  for (const auto& t : tensors)
    if (!expected_names.count(t.name))
      throw_input_error(path, "unexpected tensor '{}' {} (not part of a {} model with this config: {})", t.name,
                        t.shape_string(), config.arch, config.summary());
  return out;
}

ModelFile ModelFile::from_parts(Parts parts) {
  parts.config.validate(parts.path);
  match_expected_tensors(parts.path, parts.config, parts.tensors);
  ModelFile m;
  m.path_ = std::move(parts.path);
  m.format_ = parts.format;
  m.config_ = parts.config;
  m.tensors_ = std::move(parts.tensors);
  m.maps_ = std::move(parts.maps);
  m.owned_ = std::move(parts.owned);
  m.gguf_ = std::move(parts.gguf);
  m.tokenizer_files_ = std::move(parts.tokenizer_files);
  for (size_t k = 0; k < m.tensors_.size(); ++k) {
    const auto& t = m.tensors_[k];
    MECLLM_CHECK(row_fits(t.type, t.shape.back()) &&
                     t.data.size() == row_size(t.type, t.shape.back()) * static_cast<uint64_t>(t.n_rows()),
                 "reader built tensor {} with {} bytes", t.name, t.data.size());
    m.index_.emplace(t.name, k);
  }
  return m;
}

ModelFile::ModelFile(ModelFile&&) noexcept = default;
ModelFile& ModelFile::operator=(ModelFile&&) noexcept = default;
ModelFile::~ModelFile() = default;

const TensorView* ModelFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& ModelFile::get(std::string_view name) const {
  const TensorView* t = find(name);
  if (!t) throw_input_error(path_, "tensor '{}' not found ({} model has {} tensors)", name, format_name(format_), tensors_.size());
  return *t;
}

std::vector<float> ModelFile::get_f32(std::string_view name) const {
  const TensorView& t = get(name);
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  traits(t.type).to_float(t.data.data(), out.data(), t.n_elements());
  return out;
}

void ModelFile::drop_pages(std::span<const std::byte> data) const {
  for (const MappedFile& m : maps_) {
    if (m.drop_pages(data)) return;
  }
}

uint64_t ModelFile::tensor_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors_) n += t.data.size();
  return n;
}

double ModelFile::bits_per_weight() const {
  double n = 0;
  for (const auto& t : tensors_) n += static_cast<double>(t.n_elements());
  return n > 0 ? static_cast<double>(tensor_bytes()) * 8.0 / n : 0.0;
}

// ---------------------------------------------------------------- detection

ModelFormat detect_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "config.json")) return ModelFormat::hf_dir;
    throw_input_error(path, "directory has no config.json: not a Hugging Face model directory");
  }
  if (!fs::exists(path, ec)) throw_input_error(path, "no such file or directory");
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".gguf") return ModelFormat::gguf;
  if (ext == ".safetensors") return ModelFormat::safetensors;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_input_error(path, "cannot open");
  std::byte head[32] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  if (got >= 4 && std::memcmp(head, "GGUF", 4) == 0) return ModelFormat::gguf;
  if (got >= 9 && static_cast<char>(head[8]) == '{') return ModelFormat::safetensors;
  if (ext == ".bin" || looks_like_llama2c(std::span<const std::byte>(head, got))) return ModelFormat::llama2c;
  throw_input_error(path, "unrecognised model file: not GGUF (no 'GGUF' magic), safetensors, a llama2.c .bin or a "
                    "Hugging Face directory");
}

// ---------------------------------------------------------------- GGUF

namespace {

// llama.cpp's Llama 3.1 RoPE divisors (model_config.h RopeScaling::llama3): F32, head_size / 2.
void read_rope_freqs(const std::string& path, const GgufTensorInfo& t, std::span<const std::byte> data, ModelConfig& c) {
  const int64_t pairs = c.head_size() / 2;
  if (t.type != QuantType::F32 || t.shape != std::vector<int64_t>{pairs})
    throw_input_error(path, "tensor '{}' is {} {}, expected f32 [{}] (head_size / 2 RoPE divisors)", t.name,
                      quant_type_name(t.type), fmt::join(t.shape, "x"), pairs);
  if (c.rope_scaling != RopeScaling::none)
    throw_input_error(path, "tensor '{}' next to {} RoPE scaling: only one scaling can apply", t.name,
                      rope_scaling_name(c.rope_scaling));
  c.rope_scaling = RopeScaling::llama3;
  c.rope_freq_factors.resize(static_cast<size_t>(pairs));
  std::memcpy(c.rope_freq_factors.data(), data.data(), static_cast<size_t>(pairs) * sizeof(float));
  // the long-wavelength divisor is the factor the context was stretched by
  c.rope_factor = *std::max_element(c.rope_freq_factors.begin(), c.rope_freq_factors.end());
}

ModelFile::Parts read_gguf_model(MappedFile map) {
  ModelFile::Parts parts;
  parts.path = map.path();
  parts.format = ModelFormat::gguf;
  GgufContents g = parse_gguf(parts.path, map.bytes());
  parts.config = config_from_gguf(g.metadata);
  auto bytes = map.bytes();
  bool has_output = false, has_bias = false;
  for (const auto& t : g.tensors) {
    if (t.name == kRopeFreqsTensor) {  // configuration, not a weight
      read_rope_freqs(parts.path, t, bytes.subspan(g.data_offset + t.offset, t.n_bytes), parts.config);
      continue;
    }
    parts.tensors.push_back({t.name, t.type, t.shape, bytes.subspan(g.data_offset + t.offset, t.n_bytes)});
    has_output |= t.name == "output.weight";
    has_bias |= t.name == "blk.0.attn_q.bias";
    if (t.name == "token_embd.weight" && parts.config.vocab_size == 0 && t.shape.size() == 2)
      parts.config.vocab_size = static_cast<int>(std::min<int64_t>(t.shape[0], 1 << 30));
  }
  parts.config.tied_embeddings = !has_output;
  parts.config.attn_bias = has_bias;
  parts.config.validate(parts.path);
  const std::string rot_key = parts.config.arch == "mistral" ? "llama.rope.dimension_count"
                                                             : parts.config.arch + ".rope.dimension_count";
  if (auto rot = g.metadata.find_int(rot_key); rot && *rot != parts.config.head_size())
    throw_input_error(parts.path, "key '{}' = {}: partial rotary embeddings are not supported, expected the head size {}",
                      rot_key, *rot, parts.config.head_size());
  parts.gguf = std::make_unique<GgufMetadata>(std::move(g.metadata));
  parts.maps.push_back(std::move(map));
  return parts;
}

// ---------------------------------------------------------------- Hugging Face safetensors

std::vector<std::string> find_tokenizer_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                           "generation_config.json"}) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) out.push_back((dir / name).string());
  }
  return out;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_input_error(path, "cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw_input_error(path, "malformed JSON: {}", e.what());
  }
}

// Shards to read: (file path, names the index assigns to it; empty = take all).
std::vector<std::pair<std::string, std::set<std::string>>> list_shards(const fs::path& dir) {
  std::vector<std::pair<std::string, std::set<std::string>>> shards;
  const fs::path index = dir / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index, ec)) {
    nlohmann::json j = read_json(index.string());
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw_input_error(index.string(), "expected an object with a 'weight_map' object (tensor name -> shard file)");
    std::map<std::string, std::set<std::string>> by_file;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        throw_input_error(index.string(), "weight_map['{}'] = {}, expected a shard file name", it.key(), it.value().dump());
      std::string file = it.value().get<std::string>();
      if (file.find('/') != std::string::npos || file == ".." || file.empty())
        throw_input_error(index.string(), "weight_map['{}'] = '{}', expected a file name inside the directory", it.key(), file);
      by_file[file].insert(it.key());
    }
    if (by_file.empty()) throw_input_error(index.string(), "weight_map is empty");
    for (auto& [file, names] : by_file) shards.emplace_back((dir / file).string(), std::move(names));
    return shards;
  }
  if (fs::exists(dir / "model.safetensors", ec)) return {{(dir / "model.safetensors").string(), {}}};
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") found.push_back(e.path().string());
  if (found.size() == 1) return {{found[0], {}}};
  throw_input_error(dir.string(), "found {} .safetensors files and no model.safetensors.index.json: expected "
                    "model.safetensors or an index listing the shards", found.size());
}

ModelFile::Parts read_hf_model(const std::string& path, bool is_dir) {
  ModelFile::Parts parts;
  parts.path = path;
  parts.format = is_dir ? ModelFormat::hf_dir : ModelFormat::safetensors;
  const fs::path dir = is_dir ? fs::path(path) : fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!is_dir) {  // a broken file is reported as such before a missing config.json
    MappedFile map = MappedFile::open(path);
    parse_safetensors(path, map.bytes());
  }
  const fs::path config_path = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(config_path, ec))
    throw_input_error(path, "no config.json beside the safetensors file (needed for the model shape)");
  parts.config = read_hf_config(config_path.string());
  const ModelConfig& c = parts.config;
  parts.tokenizer_files = find_tokenizer_files(dir);

  auto shards = is_dir ? list_shards(dir) : std::vector<std::pair<std::string, std::set<std::string>>>{{path, {}}};
  std::set<std::string> seen;
  for (auto& [shard_path, names] : shards) {
    MappedFile map = MappedFile::open(shard_path);
    SafetensorsHeader h = parse_safetensors(shard_path, map.bytes());
    std::set<std::string> missing = names;
    for (const auto& t : h.tensors) {
      missing.erase(t.name);
      if (!seen.insert(t.name).second) throw_input_error(shard_path, "tensor '{}' appears in more than one shard", t.name);
      auto gguf_name = hf_to_gguf_name(t.name);
      if (!gguf_name) {
        if (t.name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // derived, old checkpoints store it
        throw_input_error(shard_path, "tensor '{}' {} has no counterpart in a {} model", t.name,
                          fmt::format("[{}]", fmt::join(t.shape, ", ")), c.arch);
      }
      if (*gguf_name == "output.weight" && c.tied_embeddings) continue;  // a tied copy some exporters keep
      if (t.shape.empty()) throw_input_error(shard_path, "tensor '{}' is a scalar, expected a vector or matrix", t.name);
      TensorView v{*gguf_name, t.type, t.shape, map.bytes().subspan(t.begin, t.end - t.begin)};
      // HF Llama/Mistral q/k rows are in rotate_half order: permute them to interleaved pairs,
      // as llama.cpp's converter does, so every format holds the same tensors.
      const bool is_q = gguf_name->ends_with(".attn_q.weight") || gguf_name->ends_with(".attn_q.bias");
      const bool is_k = gguf_name->ends_with(".attn_k.weight") || gguf_name->ends_with(".attn_k.bias");
      if (hf_needs_qk_permute(c) && (is_q || is_k)) {
        const int n_head = is_q ? c.n_heads : c.n_kv_heads;
        if (t.shape[0] != static_cast<int64_t>(n_head) * c.head_size())
          throw_input_error(shard_path, "tensor '{}' has {} rows, expected {} heads x {} = {}", t.name, t.shape[0], n_head,
                            c.head_size(), static_cast<int64_t>(n_head) * c.head_size());
        const size_t row_bytes = v.data.size() / static_cast<size_t>(t.shape[0]);
        auto& buf = parts.owned.emplace_back(v.data.size());
        permute_qk_rows(v.data, buf, n_head, c.head_size(), row_bytes, /*to_interleaved=*/true);
        v.data = buf;
      }
      parts.tensors.push_back(std::move(v));
    }
    if (!missing.empty())
      throw_input_error(shard_path, "tensor '{}' is listed in model.safetensors.index.json but not in this shard",
                        *missing.begin());
    parts.maps.push_back(std::move(map));
  }
  return parts;
}

}  // namespace

ModelFile ModelFile::open(const std::string& path) {
  switch (detect_format(path)) {
    case ModelFormat::gguf: return from_parts(read_gguf_model(MappedFile::open(path)));
    case ModelFormat::llama2c: return from_parts(read_llama2c(MappedFile::open(path)));
    case ModelFormat::safetensors: return from_parts(read_hf_model(path, false));
    case ModelFormat::hf_dir: return from_parts(read_hf_model(path, true));
  }
  MECLLM_CHECK(false, "unhandled format");
  throw InternalError("unreachable");
}

}  // namespace mecllm::runtime
