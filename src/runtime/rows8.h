// The 8-row interleaved weight layout ("rows8") of the Q4_0 and Q8_0 matrix-vector kernels.
//
// Generation reads every weight once per token, so its speed is the rate at which one core
// turns streamed weight bytes into dot products. With rows stored one after another each row's
// dot product ends in a horizontal reduction and its eight-block steps gather eight scattered
// fp16 scales; both cost more than the multiply-adds (docs/runtime.md, "Interleaved rows").
// rows8 stores eight rows side by side instead, so one 256-bit vector holds four bytes of each
// of the eight rows and every lane accumulates its own row's dot product: no horizontal
// reductions, and the eight rows' scales of a block are one 128-bit load. (llama.cpp repacks
// Q4_0 for AVX2 and ARM in the same spirit, ggml-cpu "repack"; this layout and code are ours.)
//
// Layout, for a matrix of `rows` (a multiple of 8) rows of `cols` values and a block type with
// `qbytes` quant bytes per block (Q4_0: 16, Q8_0: 32): group g holds rows 8g..8g+7; within it,
// block column b is 8 * type_size bytes:
//     d[0..8)                   the eight rows' fp16 scales of block b (row 8g + i at d[i])
//     chunk c = 0..qbytes/4-1   32 bytes: quant bytes 4c..4c+3 of row 8g + i at bytes 4i..4i+3
// Groups follow each other; a group is row_bytes * 8 bytes long, so the matrix keeps its size.
// The quant bytes keep their meaning (Q4_0: low nibble value j, high nibble value j + 16).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

inline constexpr int kRows8 = 8;

// False when the environment sets MECLLM_ROWS8=off (read once): the engine then keeps every
// matrix row by row, for A/B timing of the two layouts in the same conditions.
bool rows8_env_enabled();

// Whether `type` has rows8 kernels (Q4_0, Q8_0).
bool rows8_supported(QuantType type);

// Rewrites `rows` rows (a multiple of 8) of `cols` values in the block layout at src (rows of
// row_size(type, cols) bytes) into the rows8 layout at dst (as many bytes, not overlapping src).
void pack_rows8(QuantType type, const std::byte* src, int64_t rows, int64_t cols, std::byte* dst);

// Row r of a rows8 matrix in the ordinary block layout (row_size(type, cols) bytes at out).
void unpack_row8(QuantType type, const std::byte* packed, int64_t r, int64_t cols, std::byte* out);

// The ActGemv8Fn kernels (kernels.h): the reference ones (scalar level), and the AVX2 ones
// (rows8_avx2.cpp; called only through the kernel table, after the CPU check).
void act_gemv8_q4_0_ref(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out);
void act_gemv8_q8_0_ref(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out);
void act_gemv8_q4_0_avx2(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out);
void act_gemv8_q8_0_avx2(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out);

}  // namespace mecllm::runtime
