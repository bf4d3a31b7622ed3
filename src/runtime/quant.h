// Weight storage types of the runtime and their per-type traits, as in ggml.
//
// Every type stores a row of n values as n / block_size blocks of type_size bytes; the block
// layouts (quant_blocks.h) are byte-identical to ggml's, so GGUF tensors are used in place.
// The traits table holds the scalar reference functions ("the truth"); the SIMD kernels chosen
// at run time live behind kernels.h and are tested against these.
//
// A dot product x . y between a weight row x of type T and an activation row y first converts
// y to traits(T).vec_dot_type (F32 for float types, Q8_0 for every quantized type; ggml uses
// Q8_K for Q4_K, we use Q8_0 whose 32-blocks align with Q4_K's 32-value sub-blocks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace mecllm::runtime {

// Values are ggml's type ids (the GGUF tensor-info type field).
enum class QuantType : int32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, Q4_K = 12, BF16 = 30 };

// Converts a row of n values (n a multiple of block_size) from/to float.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of a row x of this type with a row y of vec_dot_type, n values each.
using VecDotFn = float (*)(const void* x, const void* y, int64_t n);

struct QuantTraits {
  const char* name;        // "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k"
  int64_t block_size;      // values per block (1 for float types)
  size_t type_size;        // bytes per block
  bool is_quantized;       // block-quantized (scale + integers), not a float format
  int bits;                // nominal bits per weight of the integer part (32, 16, 8, 4)
  ToFloatFn to_float;
  FromFloatFn from_float_ref;
  VecDotFn vec_dot;        // scalar reference
  QuantType vec_dot_type;  // the type activations are converted to before vec_dot
};

// The traits of t; throws InternalError for a value outside the enum.
const QuantTraits& traits(QuantType t);

// Every supported type, in enum order (for table-driven code and tests).
inline constexpr QuantType kAllQuantTypes[] = {QuantType::F32, QuantType::F16, QuantType::Q4_0,
                                               QuantType::Q8_0, QuantType::Q4_K, QuantType::BF16};

std::optional<QuantType> quant_type_from_ggml_id(int32_t id);
// Case-insensitive: "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k" (also "Q4_K" as ggml spells it).
std::optional<QuantType> quant_type_from_name(std::string_view name);
const char* quant_type_name(QuantType t);

// True when a row of n values can be stored in t (n a positive multiple of block_size).
bool row_fits(QuantType t, int64_t n);
// Bytes of one row of n values; n must be a multiple of block_size (InternalError otherwise).
size_t row_size(QuantType t, int64_t n);

// ---- half-precision helpers ---------------------------------------------------------------
// IEEE binary16 <-> binary32, round to nearest even, inf/NaN preserved (bit-exact with F16C).
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
// bfloat16: the top 16 bits of a binary32; rounding to nearest even, NaN kept quiet.
inline float bf16_to_fp32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint16_t fp32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

}  // namespace mecllm::runtime
