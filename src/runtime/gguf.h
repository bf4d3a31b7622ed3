// GGUF v3 (llama.cpp's model file), read strictly and written byte-exactly.
//
// Byte layout (little-endian; spec: ggml docs/gguf.md):
//   u32 magic "GGUF" | u32 version (3; 2 also read) | u64 n_tensors | u64 n_kv
//   n_kv x { string key | u32 value_type | value }
//       string = u64 length + bytes (no NUL); array = u32 elem_type + u64 count + elements
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] (innermost first) | u32 ggml_type |
//                 u64 offset (relative to the data section, multiple of the alignment) }
//   padding to general.alignment (default 32) | tensor data
//
// The reader checks every count and length against the bytes left before allocating, rejects
// duplicate keys and tensor names, n_dims > 4, unknown types, rows that are not whole blocks,
// element-count overflow, and data that is unaligned or past the end of the file; each error
// names the file, the key or tensor, the value found and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/model_config.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

// GGUF metadata value types (the u32 on disk).
enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view gguf_type_name(GgufType t);

// One metadata value. The on-disk type is kept so a file is re-written with the same types.
// Storage by kind: integers (and bool) in `i`/`u`, floats in `f`, strings in `str`; arrays in
// the vector matching their element type's kind.
struct GgufValue {
  GgufType type = GgufType::UINT32;
  GgufType array_type = GgufType::UINT8;  // element type when type == ARRAY
  int64_t i = 0;        // signed integer kinds (INT8..INT64)
  uint64_t u = 0;       // unsigned integer kinds and BOOL (0/1)
  double f = 0.0;       // FLOAT32 / FLOAT64
  std::string str;      // STRING
  std::vector<int64_t> ints;         // ARRAY of signed integers
  std::vector<uint64_t> uints;       // ARRAY of unsigned integers or BOOL
  std::vector<double> floats;        // ARRAY of FLOAT32 / FLOAT64
  std::vector<std::string> strings;  // ARRAY of STRING

  static GgufValue of_u32(uint32_t v);
  static GgufValue of_i32(int32_t v);
  static GgufValue of_u64(uint64_t v);
  static GgufValue of_f32(float v);
  static GgufValue of_bool(bool v);
  static GgufValue of_string(std::string v);
  static GgufValue of_strings(std::vector<std::string> v);
  static GgufValue of_f32s(std::span<const float> v);
  static GgufValue of_i32s(std::span<const int32_t> v);

  size_t array_size() const;  // elements of an ARRAY, 0 otherwise
  std::string to_string(size_t max_items = 8) const;  // for `mecllm inspect`
};

// Ordered key -> value map with typed getters. find_* returns std::nullopt when the key is
// absent and throws InputError when it exists with an incompatible type; get_* also throws when
// absent. Integer getters accept any integer type whose value fits; float getters accept
// FLOAT32/FLOAT64 and integers.
class GgufMetadata {
 public:
  explicit GgufMetadata(std::string path = "") : path_(std::move(path)) {}

  void set(std::string key, GgufValue value);  // replaces an existing key in place
  bool erase(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  const std::string& path() const { return path_; }

  std::optional<int64_t> find_int(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  double get_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  // Arrays: nullptr / nullopt when absent.
  const std::vector<std::string>* find_string_array(std::string_view key) const;
  const std::vector<std::string>& get_string_array(std::string_view key) const;
  std::optional<std::vector<float>> find_float_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;
  std::optional<std::vector<int64_t>> find_int_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;

 private:
  [[noreturn]] void wrong_type(std::string_view key, const GgufValue& v, std::string_view expected) const;
  std::string path_;
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// A tensor as described by the file, before it is bound to data.
struct GgufTensorInfo {
  std::string name;
  QuantType type = QuantType::F32;
  std::vector<int64_t> shape;  // row-major, outermost first (ne[] reversed)
  uint64_t offset = 0;         // relative to the data section
  uint64_t n_bytes = 0;        // computed from type and shape
};

struct GgufContents {
  uint32_t version = 3;
  GgufMetadata metadata;
  std::vector<GgufTensorInfo> tensors;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // absolute file offset of the data section
};

// Parses and validates the whole file image `bytes` (errors name `path`). Tensor data is not
// copied: tensor k lives at bytes[data_offset + tensors[k].offset, + n_bytes).
GgufContents parse_gguf(const std::string& path, std::span<const std::byte> bytes);

// Serialises metadata + tensors (data taken from `data[k]`, n_bytes each) into a file image.
// Used by write_gguf (model_writer.h), which adds the model keys.
struct GgufTensorData {
  std::string name;
  QuantType type;
  std::vector<int64_t> shape;  // row-major, outermost first
  std::span<const std::byte> data;
};
void write_gguf_file(const std::string& path, const GgufMetadata& metadata,
                     std::span<const GgufTensorData> tensors, uint64_t alignment = 32);

// ---- model keys (llama.cpp's names) -------------------------------------------------------
// The `general.architecture` a config is written as: llama (also for mistral), qwen2, qwen3.
std::string gguf_arch_name(const ModelConfig& config);
// Reads <arch>.context_length, .embedding_length, ... into a config (errors name the key).
ModelConfig config_from_gguf(const GgufMetadata& metadata);
// Sets general.architecture and the <arch>.* keys of `config` (other keys untouched).
void config_to_gguf(const ModelConfig& config, GgufMetadata& metadata);
// llama.cpp's general.file_type (LLAMA_FTYPE_*) for a file whose matrices are of type t.
uint32_t gguf_file_type(QuantType t);

}  // namespace mecllm::runtime
