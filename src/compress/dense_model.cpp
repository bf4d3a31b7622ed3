#include "compress/dense_model.h"

#include <filesystem>

#include "common/errors.h"
#include "runtime/model_file.h"

namespace mecllm::compress {

using runtime::QuantType;

std::vector<float>& DenseModel::at(const std::string& name) {
  auto it = tensors.find(name);
  MECLLM_CHECK(it != tensors.end(), "tensor '{}' not in the model", name);
  return it->second;
}
const std::vector<float>& DenseModel::at(const std::string& name) const {
  auto it = tensors.find(name);
  MECLLM_CHECK(it != tensors.end(), "tensor '{}' not in the model", name);
  return it->second;
}

void DenseModel::check_consistent() const {
  config.validate(source);
  auto specs = runtime::expected_tensors(config);
  MECLLM_CHECK(specs.size() == tensors.size(), "{} tensors, config implies {}", tensors.size(), specs.size());
  for (const auto& s : specs) {
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    MECLLM_CHECK(static_cast<int64_t>(at(s.name).size()) == n, "tensor '{}' has {} values, config implies {}", s.name,
                 at(s.name).size(), n);
  }
}

DenseModel load_dense_model(const std::string& path) {
  auto file = runtime::ModelFile::open(path);
  DenseModel m;
  m.config = file.config();
  m.source = path;
  for (const auto& t : file.tensors()) m.tensors[t.name] = file.get_f32(t.name);
  if (const auto* md = file.gguf_metadata()) {
    for (const auto& [key, value] : md->entries())
      if (key.starts_with("tokenizer.") || key == "general.name") m.extra.set(key, value);
  } else if (!file.tokenizer_files().empty()) {
    // Carry the tokenizer into GGUF exports so they are self-contained.
    for (const auto& tf : file.tokenizer_files()) {
      if (!tf.ends_with("tokenizer.json") && !tf.ends_with(".model")) continue;
      runtime::tokenizer_to_gguf(*runtime::load_tokenizer(tf), m.extra);
      break;
    }
  }
  return m;
}

std::unique_ptr<runtime::Tokenizer> model_tokenizer(const DenseModel& m, const std::string& tokenizer_path) {
  if (!tokenizer_path.empty()) return runtime::load_tokenizer(tokenizer_path);
  if (m.extra.contains("tokenizer.ggml.model")) return runtime::tokenizer_from_gguf(m.extra);
  throw_input_error(m.source, "no tokenizer: the file has no tokenizer.ggml.* keys; pass --tokenizer PATH");
}

QuantType fit_type(QuantType want, int64_t row_len) {
  static constexpr QuantType chain[] = {QuantType::Q4_K, QuantType::Q4_0, QuantType::Q8_0, QuantType::F16};
  bool in_chain = false;
  for (QuantType t : chain) {
    if (t == want) in_chain = true;
    if (in_chain && runtime::row_fits(t, row_len)) return t;
  }
  return runtime::row_fits(want, row_len) ? want : QuantType::F32;
}

std::vector<runtime::OwnedTensor> encode_tensors(const DenseModel& m, const TypeRule& rule) {
  std::vector<runtime::OwnedTensor> out;
  for (const auto& spec : runtime::expected_tensors(m.config)) {
    QuantType t = spec.is_norm_or_bias ? QuantType::F32 : fit_type(rule(spec), spec.shape.back());
    out.push_back(runtime::make_tensor(spec.name, spec.shape, m.at(spec.name), t));
  }
  return out;
}

void write_model(const std::string& path, const runtime::ModelConfig& config,
                 const std::vector<runtime::OwnedTensor>& tensors, const runtime::GgufMetadata& extra) {
  auto views = runtime::views_of(tensors);
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  if (path.ends_with(".gguf")) {
    runtime::write_gguf(path, config, views, extra);
  } else if (path.ends_with(".bin")) {
    runtime::write_llama2c(path, config, views);
  } else if (path.ends_with(".safetensors") || p.extension().empty()) {
    runtime::write_safetensors(path, config, views);
  } else {
    throw_input_error(path, "unknown output format '{}': expected .gguf, .bin, .safetensors or a directory",
                      p.extension().string());
  }
}

void save_dense_model(const DenseModel& m, const std::string& path, QuantType matrix_type) {
  write_model(path, m.config, encode_tensors(m, [&](const runtime::TensorSpec&) { return matrix_type; }), m.extra);
}

uint64_t model_bytes(const runtime::ModelConfig& config, QuantType type) {
  return model_bytes(config, [type](const runtime::TensorSpec&) { return type; });
}

uint64_t model_bytes(const runtime::ModelConfig& config, const TypeRule& rule) {
  uint64_t total = 0;
  for (const auto& s : runtime::expected_tensors(config)) {
    QuantType t = s.is_norm_or_bias ? QuantType::F32 : fit_type(rule(s), s.shape.back());
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < s.shape.size(); ++i) rows *= s.shape[i];
    total += static_cast<uint64_t>(rows) * runtime::row_size(t, s.shape.back());
  }
  return total;
}

}  // namespace mecllm::compress
