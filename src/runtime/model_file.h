// One opened checkpoint, whatever its format: config + named tensors in canonical form.
//
// Formats (detected by magic, extension or directory contents):
//  - llama2.c .bin  (7 x int32 header + float32 arrays; see docs/formats.md)
//  - GGUF v3 .gguf  (gguf.h)
//  - a .safetensors file (with config.json beside it or mecllm keys in __metadata__)
//  - a Hugging Face directory: config.json + model.safetensors, or shards listed in
//    model.safetensors.index.json
//
// Whatever the format, tensors carry llama.cpp's GGUF names (token_embd.weight,
// blk.N.attn_q.weight, ...; see model_config.h expected_tensors) and row-major shapes with the
// outermost dimension first ({out_features, in_features} for a weight). HF Llama/Mistral q/k
// rows are permuted to the interleaved RoPE layout on read (as llama.cpp's converter does), so
// every format gives the same tensors for the same model. Data is mapped, not copied, except
// where a permutation was needed.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/gguf.h"
#include "runtime/mapped_file.h"
#include "runtime/model_config.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

enum class ModelFormat { llama2c, gguf, safetensors, hf_dir };
std::string_view format_name(ModelFormat f);  // "llama2.c", "gguf", "safetensors", "hf-dir"

struct TensorView {
  std::string name;             // canonical GGUF name
  QuantType type = QuantType::F32;
  std::vector<int64_t> shape;   // row-major, outermost first: a weight is {out_features, in_features}
  std::span<const std::byte> data;  // row_size(type, shape.back()) * rows bytes

  int64_t n_elements() const;
  int64_t n_rows() const;       // product of all but the last dimension (1 for a vector)
  std::string shape_string() const;  // "[512, 64]"
};

class ModelFile {
 public:
  // Opens and fully validates `path` (file or HF directory). Throws InputError naming the
  // file, and the tensor/key, on anything malformed or inconsistent with the config.
  static ModelFile open(const std::string& path);

  ModelFile(ModelFile&&) noexcept;
  ModelFile& operator=(ModelFile&&) noexcept;
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;
  ~ModelFile();

  const ModelConfig& config() const { return config_; }
  const std::string& path() const { return path_; }
  ModelFormat format() const { return format_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }  // file order

  const TensorView* find(std::string_view name) const;  // nullptr when absent
  const TensorView& get(std::string_view name) const;   // InputError naming path and tensor
  // Dequantised copy, any type. Shape as get(name).shape.
  std::vector<float> get_f32(std::string_view name) const;

  // GGUF files only (nullptr otherwise): every key, tokenizer.ggml.* included.
  const GgufMetadata* gguf_metadata() const { return gguf_ ? gguf_.get() : nullptr; }
  // Tokenizer files found beside a safetensors checkpoint / in an HF directory
  // (tokenizer.json, tokenizer.model, tokenizer_config.json, ...): absolute paths; empty otherwise.
  const std::vector<std::string>& tokenizer_files() const { return tokenizer_files_; }

  // Drops the resident pages of `data` when it lies in one of the file's mappings (a tensor the
  // engine has copied, e.g. into another layout); elsewhere (converted copies) does nothing.
  void drop_pages(std::span<const std::byte> data) const;

  // Sum over tensors of data bytes; and bits per weight over all tensors.
  uint64_t tensor_bytes() const;
  double bits_per_weight() const;

  // ---- used by the format readers (model_file.cpp, llama2c.cpp, safetensors.cpp) ----------
  struct Parts {
    std::string path;
    ModelFormat format = ModelFormat::gguf;
    ModelConfig config;
    std::vector<TensorView> tensors;
    std::vector<MappedFile> maps;                  // keep the views' memory alive
    std::vector<std::vector<std::byte>> owned;     // permuted copies
    std::unique_ptr<GgufMetadata> gguf;
    std::vector<std::string> tokenizer_files;
  };
  // Checks names, shapes and types against expected_tensors(config) and builds the index.
  static ModelFile from_parts(Parts parts);

 private:
  ModelFile() = default;
  std::string path_;
  ModelFormat format_ = ModelFormat::gguf;
  ModelConfig config_;
  std::vector<TensorView> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<MappedFile> maps_;
  std::vector<std::vector<std::byte>> owned_;
  std::unique_ptr<GgufMetadata> gguf_;
  std::vector<std::string> tokenizer_files_;
};

// The tensors of expected_tensors(config) in that order, looked up in `tensors` by name.
// InputError naming `path` for a missing tensor, an unexpected one (names the tensor and says
// it is not part of this config), or a shape that differs from the config's.
std::vector<const TensorView*> match_expected_tensors(const std::string& path, const ModelConfig& config,
                                                      std::span<const TensorView> tensors);

// Format of `path` by magic/extension/directory contents, without opening it fully.
// Throws InputError naming the path when none applies.
ModelFormat detect_format(const std::string& path);

}  // namespace mecllm::runtime
