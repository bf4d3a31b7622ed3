// Block layouts byte-identical to ggml's (ggml-common.h), so GGUF tensor data is used in place.
// Each layout is pinned by a static_assert on its size: a layout drift breaks the build.
// Scalar reference kernels (quant_ref.cpp) carry ggml's function names.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mecllm::runtime {

using ggml_half = uint16_t;  // IEEE binary16 bits

// Q4_0: 32 values as 4-bit q in [0,15], x = d * (q - 8). qs[j] holds value j in its low nibble
// and value j + 16 in its high nibble.
inline constexpr int QK4_0 = 32;
struct block_q4_0 {
  ggml_half d;              // scale
  uint8_t qs[QK4_0 / 2];    // (16) nibbles
};
static_assert(sizeof(block_q4_0) == sizeof(ggml_half) + QK4_0 / 2, "wrong q4_0 block size/padding");

// Q8_0: 32 values as int8 q, x = d * q.
inline constexpr int QK8_0 = 32;
struct block_q8_0 {
  ggml_half d;              // scale
  int8_t qs[QK8_0];         // (32) quants
};
static_assert(sizeof(block_q8_0) == sizeof(ggml_half) + QK8_0, "wrong q8_0 block size/padding");

// Q4_K: a super-block of 256 values in 8 sub-blocks of 32. Sub-block j has a 6-bit scale sc_j
// and a 6-bit min m_j, x = d * sc_j * q - dmin * m_j with 4-bit q. The 16 six-bit numbers are
// packed in 12 bytes (see get_scale_min_k4). qs holds 64 values per 32 bytes: sub-block 2i in
// the low nibbles, sub-block 2i + 1 in the high nibbles.
inline constexpr int QK_K = 256;
inline constexpr int K_SCALE_SIZE = 12;
struct block_q4_K {
  ggml_half d;                  // super-block scale of the quantized scales
  ggml_half dmin;               // super-block scale of the quantized mins
  uint8_t scales[K_SCALE_SIZE]; // (12) 8 scales + 8 mins, 6 bits each
  uint8_t qs[QK_K / 2];         // (128) nibbles
};
static_assert(sizeof(block_q4_K) == 2 * sizeof(ggml_half) + K_SCALE_SIZE + QK_K / 2,
              "wrong q4_K block size/padding");
static_assert(sizeof(block_q4_K) == 144);

// Unpacks scale and min of sub-block j (0..7) from the 12-byte Q4_K scales field: bytes 0-3 hold
// scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3; scales/mins 4-7 keep their low 4 bits in
// bytes 8-11 (scale low nibble, min high nibble) and their top 2 bits in the spare top bits of
// bytes 0-3 (scales) and 4-7 (mins).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}
// The inverse of get_scale_min_k4 for all 8 sub-blocks (sc, m < 64).
inline void set_scales_mins_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t* q) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
  }
}

// ---- scalar reference kernels (quant_ref.cpp); k = number of values, a multiple of the block --
void quantize_row_q4_0_ref(const float* x, block_q4_0* y, int64_t k);
void quantize_row_q8_0_ref(const float* x, block_q8_0* y, int64_t k);
void quantize_row_q4_K_ref(const float* x, block_q4_K* y, int64_t k);
void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t k);
void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t k);
void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t k);
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n);

float vec_dot_f32(const float* x, const float* y, int64_t n);
float vec_dot_f16_f32(const uint16_t* x, const float* y, int64_t n);
float vec_dot_bf16_f32(const uint16_t* x, const float* y, int64_t n);
float vec_dot_q4_0_q8_0(const block_q4_0* x, const block_q8_0* y, int64_t n);
float vec_dot_q8_0_q8_0(const block_q8_0* x, const block_q8_0* y, int64_t n);
float vec_dot_q4_K_q8_0(const block_q4_K* x, const block_q8_0* y, int64_t n);

}  // namespace mecllm::runtime
