// GGUF v3 reader and writer (see gguf.h for the byte layout and the checks).
#include "runtime/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/errors.h"
#include "runtime/atomic_output.h"

namespace mecllm::runtime {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxDims = 4;                   // GGML_MAX_DIMS

bool is_signed_int(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 || t == GgufType::INT64;
}
bool is_unsigned_int(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 || t == GgufType::UINT64;
}
bool is_float(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

// Bytes one scalar of type t takes on disk (0 for STRING/ARRAY, whose size varies).
size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    default: return 0;
  }
}

// Cursor over the file image that refuses to read past the end (ggml's gguf_reader).
class Cursor {
 public:
  Cursor(const std::string& path, std::span<const std::byte> bytes) : path_(path), bytes_(bytes) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return bytes_.size() - pos_; }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(std::string_view what) {
    uint64_t n = read<uint64_t>(what);
    if (n > left())
      throw_input_error(path_, "{}: string length {} exceeds the {} bytes left in the file (truncated or corrupt)", what,
                        n, left());
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }
  void need(uint64_t n, std::string_view what) const {
    if (n > left())
      throw_input_error(path_, "{}: needs {} bytes at offset {}, but only {} are left (truncated file)", what, n, pos_,
                        left());
  }

 private:
  const std::string& path_;
  std::span<const std::byte> bytes_;
  uint64_t pos_ = 0;
};

GgufType read_type(Cursor& c, const std::string& path, std::string_view what) {
  uint32_t t = c.read<uint32_t>(what);
  if (t > static_cast<uint32_t>(GgufType::FLOAT64))
    throw_input_error(path, "{}: unknown value type {} (expected 0..12)", what, t);
  return static_cast<GgufType>(t);
}

void read_scalar_into(Cursor& c, const std::string& path, GgufType t, std::string_view what, int64_t& i, uint64_t& u,
                      double& f) {
  switch (t) {
    case GgufType::UINT8: u = c.read<uint8_t>(what); break;
    case GgufType::INT8: i = c.read<int8_t>(what); break;
    case GgufType::UINT16: u = c.read<uint16_t>(what); break;
    case GgufType::INT16: i = c.read<int16_t>(what); break;
    case GgufType::UINT32: u = c.read<uint32_t>(what); break;
    case GgufType::INT32: i = c.read<int32_t>(what); break;
    case GgufType::UINT64: u = c.read<uint64_t>(what); break;
    case GgufType::INT64: i = c.read<int64_t>(what); break;
    case GgufType::FLOAT32: f = c.read<float>(what); break;
    case GgufType::FLOAT64: f = c.read<double>(what); break;
    case GgufType::BOOL: {
      uint8_t b = c.read<uint8_t>(what);
      if (b > 1) throw_input_error(path, "{}: bool value {} (expected 0 or 1)", what, b);
      u = b;
      break;
    }
    default: MECLLM_CHECK(false, "not a scalar type {}", static_cast<uint32_t>(t));
  }
}

GgufValue read_value(Cursor& c, const std::string& path, GgufType t, const std::string& key) {
  GgufValue v;
  v.type = t;
  std::string what = fmt::format("key '{}'", key);
  if (t == GgufType::STRING) {
    v.str = c.read_string(what);
  } else if (t == GgufType::ARRAY) {
    v.array_type = read_type(c, path, what + " array element type");
    if (v.array_type == GgufType::ARRAY)
      throw_input_error(path, "{}: nested arrays are not supported", what);
    uint64_t n = c.read<uint64_t>(what + " array length");
    // Every element takes at least one byte (a string at least its 8-byte length), so a count
    // beyond the bytes left is corrupt: reject it before reserving memory.
    uint64_t min_size = v.array_type == GgufType::STRING ? 8 : scalar_size(v.array_type);
    if (n > c.left() / min_size)
      throw_input_error(path, "{}: array of {} {} elements needs at least {} bytes, only {} are left", what, n,
                        gguf_type_name(v.array_type), n > std::numeric_limits<uint64_t>::max() / min_size ? 0 : n * min_size,
                        c.left());
    if (v.array_type == GgufType::STRING) {
      v.strings.reserve(n);
      for (uint64_t k = 0; k < n; ++k) v.strings.push_back(c.read_string(what));
    } else {
      for (uint64_t k = 0; k < n; ++k) {
        int64_t i = 0;
        uint64_t u = 0;
        double f = 0;
        read_scalar_into(c, path, v.array_type, what, i, u, f);
        if (is_signed_int(v.array_type)) v.ints.push_back(i);
        else if (is_float(v.array_type)) v.floats.push_back(f);
        else v.uints.push_back(u);
      }
    }
  } else {
    read_scalar_into(c, path, t, what, v.i, v.u, v.f);
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------- values

std::string_view gguf_type_name(GgufType t) {
  static constexpr std::string_view names[] = {"uint8", "int8",  "uint16", "int16",  "uint32", "int32",  "float32",
                                               "bool",  "string", "array", "uint64", "int64",  "float64"};
  auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

GgufValue GgufValue::of_u32(uint32_t v) { GgufValue x; x.type = GgufType::UINT32; x.u = v; return x; }
GgufValue GgufValue::of_i32(int32_t v) { GgufValue x; x.type = GgufType::INT32; x.i = v; return x; }
GgufValue GgufValue::of_u64(uint64_t v) { GgufValue x; x.type = GgufType::UINT64; x.u = v; return x; }
GgufValue GgufValue::of_f32(float v) { GgufValue x; x.type = GgufType::FLOAT32; x.f = v; return x; }
GgufValue GgufValue::of_bool(bool v) { GgufValue x; x.type = GgufType::BOOL; x.u = v ? 1 : 0; return x; }
GgufValue GgufValue::of_string(std::string v) { GgufValue x; x.type = GgufType::STRING; x.str = std::move(v); return x; }
GgufValue GgufValue::of_strings(std::vector<std::string> v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.array_type = GgufType::STRING;
  x.strings = std::move(v);
  return x;
}
GgufValue GgufValue::of_f32s(std::span<const float> v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.array_type = GgufType::FLOAT32;
  x.floats.assign(v.begin(), v.end());
  return x;
}
GgufValue GgufValue::of_i32s(std::span<const int32_t> v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.array_type = GgufType::INT32;
  x.ints.assign(v.begin(), v.end());
  return x;
}

size_t GgufValue::array_size() const {
  if (type != GgufType::ARRAY) return 0;
  return strings.size() + ints.size() + uints.size() + floats.size();
}

std::string GgufValue::to_string(size_t max_items) const {
  auto scalar = [&](GgufType t, int64_t iv, uint64_t uv, double fv, const std::string* sv) -> std::string {
    if (t == GgufType::STRING) {
      std::string s = *sv;
      if (s.size() > 60) s = s.substr(0, 57) + "...";
      return fmt::format("\"{}\"", s);
    }
    if (t == GgufType::BOOL) return uv ? "true" : "false";
    if (is_signed_int(t)) return std::to_string(iv);
    if (is_float(t)) return fmt::format("{:g}", fv);
    return std::to_string(uv);
  };
  if (type != GgufType::ARRAY) return scalar(type, i, u, f, &str);
  std::string s = fmt::format("[{} x {}]", array_size(), gguf_type_name(array_type));
  size_t n = std::min(array_size(), max_items);
  if (n == 0) return s;
  s += " {";
  for (size_t k = 0; k < n; ++k) {
    if (k) s += ", ";
    if (array_type == GgufType::STRING) s += scalar(array_type, 0, 0, 0, &strings[k]);
    else if (is_signed_int(array_type)) s += scalar(array_type, ints[k], 0, 0, nullptr);
    else if (is_float(array_type)) s += scalar(array_type, 0, 0, floats[k], nullptr);
    else s += scalar(array_type, 0, uints[k], 0, nullptr);
  }
  if (n < array_size()) s += ", ...";
  return s + "}";
}

// ---------------------------------------------------------------- metadata

void GgufMetadata::set(std::string key, GgufValue value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

bool GgufMetadata::erase(std::string_view key) {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t k = 0; k < entries_.size(); ++k) index_.emplace(entries_[k].first, k);
  return true;
}

const GgufValue* GgufMetadata::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void GgufMetadata::wrong_type(std::string_view key, const GgufValue& v, std::string_view expected) const {
  std::string found(gguf_type_name(v.type));
  if (v.type == GgufType::ARRAY) found = fmt::format("array of {}", gguf_type_name(v.array_type));
  throw_input_error(path_.empty() ? "gguf metadata" : path_, "key '{}' has type {}, expected {}", key, found, expected);
}

#define MECLLM_GGUF_GET(name, type_)                                                                         \
  type_ GgufMetadata::get_##name(std::string_view key) const {                                              \
    auto v = find_##name(key);                                                                               \
    if (!v) throw_input_error(path_.empty() ? "gguf metadata" : path_, "required key '{}' is missing", key); \
    return *v;                                                                                               \
  }

std::optional<int64_t> GgufMetadata::find_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (is_signed_int(v->type)) return v->i;
  if (is_unsigned_int(v->type)) {
    if (v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw_input_error(path_.empty() ? "gguf metadata" : path_, "key '{}' = {} does not fit int64", key, v->u);
    return static_cast<int64_t>(v->u);
  }
  wrong_type(key, *v, "an integer");
}
MECLLM_GGUF_GET(int, int64_t)

std::optional<double> GgufMetadata::find_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (is_float(v->type)) return v->f;
  if (is_signed_int(v->type)) return static_cast<double>(v->i);
  if (is_unsigned_int(v->type)) return static_cast<double>(v->u);
  wrong_type(key, *v, "a number");
}
MECLLM_GGUF_GET(float, double)

std::optional<bool> GgufMetadata::find_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::BOOL) wrong_type(key, *v, "bool");
  return v->u != 0;
}
MECLLM_GGUF_GET(bool, bool)

std::optional<std::string> GgufMetadata::find_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::STRING) wrong_type(key, *v, "string");
  return v->str;
}
MECLLM_GGUF_GET(string, std::string)

const std::vector<std::string>* GgufMetadata::find_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  if (v->type != GgufType::ARRAY || v->array_type != GgufType::STRING) wrong_type(key, *v, "array of string");
  return &v->strings;
}
const std::vector<std::string>& GgufMetadata::get_string_array(std::string_view key) const {
  const auto* v = find_string_array(key);
  if (!v) throw_input_error(path_.empty() ? "gguf metadata" : path_, "required key '{}' is missing", key);
  return *v;
}

std::optional<std::vector<float>> GgufMetadata::find_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::ARRAY || !is_float(v->array_type)) wrong_type(key, *v, "array of float32");
  return std::vector<float>(v->floats.begin(), v->floats.end());
}
MECLLM_GGUF_GET(float_array, std::vector<float>)

std::optional<std::vector<int64_t>> GgufMetadata::find_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufType::ARRAY) wrong_type(key, *v, "array of integers");
  if (is_signed_int(v->array_type)) return v->ints;
  if (is_unsigned_int(v->array_type) || v->array_type == GgufType::BOOL) {
    std::vector<int64_t> out;
    out.reserve(v->uints.size());
    for (uint64_t u : v->uints) {
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw_input_error(path_.empty() ? "gguf metadata" : path_, "key '{}' holds {} which does not fit int64", key, u);
      out.push_back(static_cast<int64_t>(u));
    }
    return out;
  }
  wrong_type(key, *v, "array of integers");
}
MECLLM_GGUF_GET(int_array, std::vector<int64_t>)
#undef MECLLM_GGUF_GET

// ---------------------------------------------------------------- reading

GgufContents parse_gguf(const std::string& path, std::span<const std::byte> bytes) {
  Cursor c(path, bytes);
  GgufContents out;
  out.metadata = GgufMetadata(path);

  if (bytes.size() < 4) throw_input_error(path, "file of {} bytes is too short for a GGUF header", bytes.size());
  uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kGgufMagic) {
    char m[4];
    std::memcpy(m, &magic, 4);
    std::string shown;
    for (char ch : m) shown += (ch >= 32 && ch < 127) ? fmt::format("{}", ch) : fmt::format("\\x{:02x}", static_cast<uint8_t>(ch));
    throw_input_error(path, "bad magic '{}', expected 'GGUF' (not a GGUF file)", shown);
  }
  uint32_t version = c.read<uint32_t>("header version");
  if (version != 2 && version != 3) {
    // A big-endian file has its version in the high bytes: 3 reads as 0x03000000.
    if ((version & 0x0000FFFFu) == 0)
      throw_input_error(path, "GGUF version {} (0x{:08x}) looks byte-swapped: the file was written on a big-endian "
                        "machine, only little-endian GGUF is read", version, version);
    throw_input_error(path, "GGUF version {} is not supported, expected 3 (or 2)", version);
  }
  out.version = version;
  uint64_t n_tensors = c.read<uint64_t>("header tensor count");
  uint64_t n_kv = c.read<uint64_t>("header key-value count");
  // A key-value pair takes at least 13 bytes (8 key length + 4 type + 1 value), a tensor info
  // at least 32 (8 name length + 4 n_dims + 8 ne + 4 type + 8 offset).
  if (n_kv > c.left() / 13)
    throw_input_error(path, "header key-value count {} cannot fit in the {} bytes left", n_kv, c.left());
  if (n_tensors > c.left() / 32)
    throw_input_error(path, "header tensor count {} cannot fit in the {} bytes left", n_tensors, c.left());

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.read_string(fmt::format("key #{}", k));
    if (out.metadata.contains(key)) throw_input_error(path, "duplicate key '{}'", key);
    GgufType t = read_type(c, path, fmt::format("key '{}'", key));
    out.metadata.set(key, read_value(c, path, t, key));
  }

  if (const GgufValue* a = out.metadata.find("general.alignment")) {
    if (a->type != GgufType::UINT32)
      throw_input_error(path, "key 'general.alignment' has type {}, expected uint32", gguf_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      throw_input_error(path, "key 'general.alignment' = {}, expected a power of two", a->u);
    out.alignment = a->u;
  }

  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo info;
    info.name = c.read_string(fmt::format("tensor #{} name", k));
    std::string what = fmt::format("tensor '{}'", info.name);
    for (const auto& prev : out.tensors)
      if (prev.name == info.name) throw_input_error(path, "duplicate tensor name '{}'", info.name);
    uint32_t n_dims = c.read<uint32_t>(what + " n_dims");
    if (n_dims < 1 || n_dims > kMaxDims) throw_input_error(path, "{}: n_dims = {}, expected 1..{}", what, n_dims, kMaxDims);
    std::vector<int64_t> ne(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t v = c.read<uint64_t>(what + " ne");
      if (v == 0 || v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw_input_error(path, "{}: ne[{}] = {}, expected a positive size", what, d, v);
      ne[d] = static_cast<int64_t>(v);
    }
    int32_t type_id = c.read<int32_t>(what + " type");
    auto qt = quant_type_from_ggml_id(type_id);
    if (!qt)
      throw_input_error(path, "{}: unknown or unsupported ggml type id {} (supported: f32 0, f16 1, q4_0 2, q8_0 8, "
                        "q4_k 12, bf16 30)", what, type_id);
    info.type = *qt;
    info.offset = c.read<uint64_t>(what + " offset");
    const auto& tr = traits(info.type);
    if (ne[0] % tr.block_size != 0)
      throw_input_error(path, "{}: {} needs ne[0] % {} == 0, got {}", what, tr.name, tr.block_size, ne[0]);
    // Element count and byte size without overflow (ggml checks INT64_MAX / SIZE_MAX likewise).
    int64_t rows = 1;
    for (uint32_t d = 1; d < n_dims; ++d) {
      if (rows > std::numeric_limits<int64_t>::max() / ne[d]) throw_input_error(path, "{}: element count overflows", what);
      rows *= ne[d];
    }
    if (ne[0] > std::numeric_limits<int64_t>::max() / rows) throw_input_error(path, "{}: element count overflows", what);
    uint64_t row_bytes = row_size(info.type, ne[0]);
    if (row_bytes > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(rows))
      throw_input_error(path, "{}: byte size overflows", what);
    info.n_bytes = row_bytes * static_cast<uint64_t>(rows);
    info.shape.assign(ne.rbegin(), ne.rend());
    if (info.offset % out.alignment != 0)
      throw_input_error(path, "{}: data offset {} is not a multiple of the alignment {}", what, info.offset, out.alignment);
    out.tensors.push_back(std::move(info));
  }

  uint64_t pos = c.pos();
  out.data_offset = (pos + out.alignment - 1) / out.alignment * out.alignment;
  const uint64_t size = bytes.size();
  if (!out.tensors.empty() && out.data_offset > size)
    throw_input_error(path, "data section would start at offset {}, past the end of the {}-byte file", out.data_offset, size);
  const uint64_t data_size = out.tensors.empty() ? 0 : size - out.data_offset;
  for (const auto& t : out.tensors) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset)
      throw_input_error(path, "tensor '{}': data [{}, {}) of the data section lies past the end of the file (the data "
                        "section has {} bytes; truncated file?)", t.name, t.offset, t.offset + t.n_bytes, data_size);
  }
  // Tensors must not share bytes (ggml requires them packed in order; overlap means corruption).
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : out.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k)
    if (by_offset[k - 1]->offset + by_offset[k - 1]->n_bytes > by_offset[k]->offset)
      throw_input_error(path, "tensor '{}' (offset {}) overlaps tensor '{}' (offset {}, {} bytes)", by_offset[k]->name,
                        by_offset[k]->offset, by_offset[k - 1]->name, by_offset[k - 1]->offset, by_offset[k - 1]->n_bytes);
  return out;
}

// ---------------------------------------------------------------- writing

namespace {

void put_string(AtomicOutput& o, const std::string& s) {
  o.write_pod(static_cast<uint64_t>(s.size()));
  o.write(s.data(), s.size());
}

void put_scalar(AtomicOutput& o, GgufType t, int64_t i, uint64_t u, double f) {
  switch (t) {
    case GgufType::UINT8: o.write_pod(static_cast<uint8_t>(u)); break;
    case GgufType::INT8: o.write_pod(static_cast<int8_t>(i)); break;
    case GgufType::UINT16: o.write_pod(static_cast<uint16_t>(u)); break;
    case GgufType::INT16: o.write_pod(static_cast<int16_t>(i)); break;
    case GgufType::UINT32: o.write_pod(static_cast<uint32_t>(u)); break;
    case GgufType::INT32: o.write_pod(static_cast<int32_t>(i)); break;
    case GgufType::UINT64: o.write_pod(static_cast<uint64_t>(u)); break;
    case GgufType::INT64: o.write_pod(static_cast<int64_t>(i)); break;
    case GgufType::FLOAT32: o.write_pod(static_cast<float>(f)); break;
    case GgufType::FLOAT64: o.write_pod(f); break;
    case GgufType::BOOL: o.write_pod(static_cast<uint8_t>(u ? 1 : 0)); break;
    default: MECLLM_CHECK(false, "not a scalar type {}", static_cast<uint32_t>(t));
  }
}

void put_value(AtomicOutput& o, const GgufValue& v) {
  o.write_pod(static_cast<uint32_t>(v.type));
  if (v.type == GgufType::STRING) {
    put_string(o, v.str);
  } else if (v.type == GgufType::ARRAY) {
    o.write_pod(static_cast<uint32_t>(v.array_type));
    o.write_pod(static_cast<uint64_t>(v.array_size()));
    if (v.array_type == GgufType::STRING) {
      for (const auto& s : v.strings) put_string(o, s);
    } else if (is_signed_int(v.array_type)) {
      for (int64_t x : v.ints) put_scalar(o, v.array_type, x, 0, 0);
    } else if (is_float(v.array_type)) {
      for (double x : v.floats) put_scalar(o, v.array_type, 0, 0, x);
    } else {
      for (uint64_t x : v.uints) put_scalar(o, v.array_type, 0, x, 0);
    }
  } else {
    put_scalar(o, v.type, v.i, v.u, v.f);
  }
}

}  // namespace

void write_gguf_file(const std::string& path, const GgufMetadata& metadata, std::span<const GgufTensorData> tensors,
                     uint64_t alignment) {
  MECLLM_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0, "alignment {}", alignment);
  AtomicOutput o(path);
  o.write_pod(kGgufMagic);
  o.write_pod(static_cast<uint32_t>(3));
  o.write_pod(static_cast<uint64_t>(tensors.size()));
  o.write_pod(static_cast<uint64_t>(metadata.size()));
  for (const auto& [key, value] : metadata.entries()) {
    put_string(o, key);
    put_value(o, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    MECLLM_CHECK(!t.shape.empty() && t.shape.size() <= kMaxDims, "tensor {} rank {}", t.name, t.shape.size());
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < t.shape.size(); ++d) rows *= t.shape[d];
    MECLLM_CHECK(row_size(t.type, t.shape.back()) * static_cast<uint64_t>(rows) == t.data.size(),
                 "tensor {}: {} bytes for its shape", t.name, t.data.size());
    put_string(o, t.name);
    o.write_pod(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) o.write_pod(static_cast<uint64_t>(*it));
    o.write_pod(static_cast<int32_t>(t.type));
    o.write_pod(offset);
    offset += (t.data.size() + alignment - 1) / alignment * alignment;
  }
  o.pad_to(alignment);
  for (const auto& t : tensors) {
    o.write(t.data);
    o.pad_to(alignment);
  }
  o.commit();
}

// ---------------------------------------------------------------- model keys

std::string gguf_arch_name(const ModelConfig& config) {
  // llama.cpp runs Mistral 7B-style models as `llama` (same tensors, same RoPE).
  return config.arch == "mistral" ? "llama" : config.arch;
}

uint32_t gguf_file_type(QuantType t) {
  switch (t) {  // llama.cpp's enum llama_ftype
    case QuantType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
    case QuantType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case QuantType::Q4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case QuantType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case QuantType::Q4_K: return 14; // LLAMA_FTYPE_MOSTLY_Q4_K_S (every matrix Q4_K)
    case QuantType::BF16: return 32; // LLAMA_FTYPE_MOSTLY_BF16
  }
  MECLLM_CHECK(false, "quant type {}", static_cast<int>(t));
  return 0;
}

ModelConfig config_from_gguf(const GgufMetadata& md) {
  const std::string& path = md.path();
  std::string arch = md.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3")
    throw_input_error(path, "key 'general.architecture' = '{}', expected llama, qwen2 or qwen3", arch);
  auto key = [&](std::string_view k) { return fmt::format("{}.{}", arch, k); };
  auto get_size = [&](std::string_view k) -> int {
    int64_t v = md.get_int(key(k));
    if (v <= 0 || v > std::numeric_limits<int32_t>::max())
      throw_input_error(path, "key '{}' = {}, expected a positive size", key(k), v);
    return static_cast<int>(v);
  };
  ModelConfig c;
  c.arch = arch;
  c.seq_len = get_size("context_length");
  c.dim = get_size("embedding_length");
  c.n_layers = get_size("block_count");
  c.hidden_dim = get_size("feed_forward_length");
  c.n_heads = get_size("attention.head_count");
  c.n_kv_heads = md.contains(key("attention.head_count_kv")) ? get_size("attention.head_count_kv") : c.n_heads;
  c.norm_eps = static_cast<float>(md.find_float(key("attention.layer_norm_rms_epsilon")).value_or(1e-5));
  c.rope_theta = static_cast<float>(md.find_float(key("rope.freq_base")).value_or(10000.0));
  if (md.contains(key("attention.key_length"))) {
    int k_len = get_size("attention.key_length");
    int v_len = md.contains(key("attention.value_length")) ? get_size("attention.value_length") : k_len;
    if (v_len != k_len)
      throw_input_error(path, "key '{}' = {} differs from key_length {}: separate value head sizes are not supported",
                        key("attention.value_length"), v_len, k_len);
    c.head_dim = k_len;
  }
  // Linear scaling is a key pair; Llama 3.1's scaling is the rope_freqs.weight tensor, which
  // read_gguf_model (model_file.cpp) turns into rope_freq_factors.
  if (auto scaling = md.find_string(key("rope.scaling.type")); scaling && *scaling != "none") {
    if (*scaling != "linear")
      throw_input_error(path, "key '{}' = '{}': supported RoPE scaling types are none and linear (llama3 is the "
                        "rope_freqs.weight tensor)", key("rope.scaling.type"), *scaling);
    const auto factor = md.find_float(key("rope.scaling.factor"));
    if (!factor) throw_input_error(path, "key '{}' is missing for linear RoPE scaling", key("rope.scaling.factor"));
    c.rope_scaling = RopeScaling::linear;
    c.rope_factor = static_cast<float>(*factor);
  }
  if (md.contains(key("attention.sliding_window"))) {
    c.sliding_window = get_size("attention.sliding_window");
    if (arch == "llama") c.arch = "mistral";
  }
  c.rope_style = arch == "llama" ? RopeStyle::interleaved : RopeStyle::neox;
  c.qk_norm = arch == "qwen3";
  c.attn_bias = arch == "qwen2";
  if (auto v = md.find_int(key("vocab_size"))) c.vocab_size = static_cast<int>(std::clamp<int64_t>(*v, -1, 1 << 30));
  else if (const auto* toks = md.find_string_array("tokenizer.ggml.tokens")) c.vocab_size = static_cast<int>(toks->size());
  auto token_id = [&](std::string_view k, int fallback) {
    auto v = md.find_int(k);
    if (!v) return fallback;
    if (*v < 0 || *v > std::numeric_limits<int32_t>::max()) throw_input_error(path, "key '{}' = {}, expected a token id", k, *v);
    return static_cast<int>(*v);
  };
  // Absent ids: SentencePiece's 1/2 for llama (llama.cpp's SPM defaults), none for Qwen.
  c.bos_id = token_id("tokenizer.ggml.bos_token_id", arch == "llama" ? 1 : -1);
  c.eos_id = token_id("tokenizer.ggml.eos_token_id", arch == "llama" ? 2 : -1);
  return c;
}

void config_to_gguf(const ModelConfig& c, GgufMetadata& md) {
  const std::string arch = gguf_arch_name(c);
  auto key = [&](std::string_view k) { return fmt::format("{}.{}", arch, k); };
  auto u32 = [](int v) { return GgufValue::of_u32(static_cast<uint32_t>(v)); };
  md.set("general.architecture", GgufValue::of_string(arch));
  md.set(key("context_length"), u32(c.seq_len));
  md.set(key("embedding_length"), u32(c.dim));
  md.set(key("block_count"), u32(c.n_layers));
  md.set(key("feed_forward_length"), u32(c.hidden_dim));
  md.set(key("attention.head_count"), u32(c.n_heads));
  md.set(key("attention.head_count_kv"), u32(c.n_kv_heads));
  md.set(key("attention.layer_norm_rms_epsilon"), GgufValue::of_f32(c.norm_eps));
  md.set(key("rope.freq_base"), GgufValue::of_f32(c.rope_theta));
  md.set(key("rope.dimension_count"), u32(c.head_size()));
  if (c.head_dim > 0) {
    md.set(key("attention.key_length"), u32(c.head_size()));
    md.set(key("attention.value_length"), u32(c.head_size()));
  }
  md.set(key("vocab_size"), u32(c.vocab_size));
  if (c.sliding_window > 0) md.set(key("attention.sliding_window"), u32(c.sliding_window));
  if (c.rope_scaling == RopeScaling::linear) {
    md.set(key("rope.scaling.type"), GgufValue::of_string("linear"));
    md.set(key("rope.scaling.factor"), GgufValue::of_f32(c.rope_factor));
  }
  if (c.bos_id >= 0) md.set("tokenizer.ggml.bos_token_id", u32(c.bos_id));
  if (c.eos_id >= 0) md.set("tokenizer.ggml.eos_token_id", u32(c.eos_id));
}

}  // namespace mecllm::runtime
