// Run-time dispatch of the hot kernels: one table per instruction-set level (scalar reference,
// AVX2+FMA+F16C, AVX-512F/BW), picked once from the CPU's capabilities. A level that lacks a
// kernel falls back to the next lower level, so every entry is always callable.
//
// The SIMD tables live in quant_avx2.cpp / quant_avx512.cpp, compiled with their ISA flags;
// nothing else in the library is, so it runs on any x86-64 (and other) CPU.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/quant.h"
#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

enum class SimdLevel : int { scalar = 0, avx2 = 1, avx512 = 2 };
const char* simd_level_name(SimdLevel level);

// y[i] += a * x[i] for a float or binary16 row x (the attention's weighted sum over V).
using AxpyF32Fn = void (*)(float a, const float* x, float* y, int64_t n);
using AxpyF16Fn = void (*)(float a, const uint16_t* x, float* y, int64_t n);

// Attention of one head over n_rows cached positions whose rows (F32, or F16 as binary16 bits)
// lie `stride` values apart: scores[i] = scale * (row i . q), and out[0..hs) = sum_i w[i] row i.
// One call covers every position, so the vector code keeps q, the output and the partial sums
// in registers instead of paying a call, a reduction or a load/store of out per position.
using AttnScoresFn = void (*)(const void* rows, size_t stride, int64_t n_rows, const float* q, int64_t hs, float scale,
                              float* scores);
using AttnMixFn = void (*)(const float* w, const void* rows, size_t stride, int64_t n_rows, int64_t hs, float* out);

inline constexpr int kNumQuantTypes = 6;
// Dense index 0..5 of a QuantType (for tables indexed by type).
int quant_type_index(QuantType t);

// An activation row quantised once per matrix-vector product for the block types, so the cost of
// preparing it is shared by every weight row. Besides the Q8_0 blocks (the vec_dot input) it keeps
// per 32-block the scale as a float and the sum of the quants (the Q4_0 kernel subtracts 8 * sum
// instead of re-centring every nibble; Q4_K's mins multiply it), and the quants re-ordered by pairs
// of blocks as [b0 0..15 | b1 0..15 | b0 16..31 | b1 16..31], which is the order in which one
// 256-bit load of two Q4_0 blocks' nibbles unpacks. A trailing odd block has no pair.
struct ActQ8 {
  const block_q8_0* q = nullptr;
  const float* d = nullptr;
  const int32_t* sum = nullptr;
  const int8_t* pairs = nullptr;
};
// Bytes one prepared row of n values occupies (n a multiple of 32), and the view of such a row.
size_t act_q8_bytes(int64_t n);
ActQ8 act_q8_view(const std::byte* row, int64_t n);

// Writes the prepared row of x (n values, a multiple of 32) at `row` (act_q8_bytes(n) bytes).
using QuantizeActFn = void (*)(const float* x, std::byte* row, int64_t n);
// out[r] = weight row r . prepared activation y for `rows` rows of n values of one block type,
// `row_bytes` apart. Whole row ranges per call let a kernel share work across rows.
using ActGemvFn = void (*)(const std::byte* w, size_t row_bytes, int64_t rows, const ActQ8& y, int64_t n, float* out);

// out[8g + i] = row 8g + i . y for `groups` groups of eight rows stored in the rows8 layout
// (rows8.h), n values per row. Every lane sums its row block by block as
// acc = fma(float(isum_b), d_w * d_y, acc), so every level gives identical results (tested).
using ActGemv8Fn = void (*)(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out);

struct KernelTable {
  const char* name = "";
  VecDotFn vec_dot[kNumQuantTypes] = {};  // by quant_type_index; nullptr: not at this level
  AxpyF32Fn axpy_f32 = nullptr;
  AxpyF16Fn axpy_f16 = nullptr;
  VecDotFn dot_f16_f32 = nullptr;  // binary16 row . float row (attention scores on an F16 cache)
  QuantizeActFn quantize_act = nullptr;
  // by quant_type_index, block types only; nullptr (the scalar level): vec_dot on y.q per row
  ActGemvFn act_gemv[kNumQuantTypes] = {};
  AttnScoresFn attn_scores_f32 = nullptr, attn_scores_f16 = nullptr;  // F32 / F16 KV cache
  AttnMixFn attn_mix_f32 = nullptr, attn_mix_f16 = nullptr;
  // by quant_type_index, the rows8 types (Q4_0, Q8_0); filled at every level
  ActGemv8Fn act_gemv8[kNumQuantTypes] = {};
};

// The highest level this CPU supports and this build compiled.
SimdLevel detect_simd_level();
// The level in use: detect_simd_level() unless lowered by set_simd_level (tests, benchmarks)
// or the environment variable MECLLM_SIMD=scalar|avx2|avx512 (read once).
SimdLevel active_simd_level();
// Requests a level; clamps to what the CPU supports and returns the level actually set.
SimdLevel set_simd_level(SimdLevel level);

// Whether the engine uses the prepared-activation kernels (act_gemv); the environment variable
// MECLLM_PREPARED_ACT=off turns them off (read once), so a benchmark can time the per-row vec_dot
// kernels they replaced in the same conditions.
bool prepared_act_enabled();

// The complete table for `level` (clamped to the CPU), every entry filled by fallback.
const KernelTable& kernel_table(SimdLevel level);
inline const KernelTable& kernels() { return kernel_table(active_simd_level()); }

// Per-arch tables (nullptr when the build or the CPU lacks the ISA). Entries may be nullptr.
const KernelTable* avx2_kernel_table();
const KernelTable* avx512_kernel_table();

}  // namespace mecllm::runtime
