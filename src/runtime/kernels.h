// Run-time dispatch of the hot kernels: one table per instruction-set level (scalar reference,
// AVX2+FMA+F16C, AVX-512F/BW), picked once from the CPU's capabilities. A level that lacks a
// kernel falls back to the next lower level, so every entry is always callable.
//
// The SIMD tables live in quant_avx2.cpp / quant_avx512.cpp, compiled with their ISA flags;
// nothing else in the library is, so it runs on any x86-64 (and other) CPU.
#pragma once

#include <cstdint>

#include "runtime/quant.h"

namespace mecllm::runtime {

enum class SimdLevel : int { scalar = 0, avx2 = 1, avx512 = 2 };
const char* simd_level_name(SimdLevel level);

// y[i] += a * x[i] for a float or binary16 row x (the attention's weighted sum over V).
using AxpyF32Fn = void (*)(float a, const float* x, float* y, int64_t n);
using AxpyF16Fn = void (*)(float a, const uint16_t* x, float* y, int64_t n);

inline constexpr int kNumQuantTypes = 6;
// Dense index 0..5 of a QuantType (for tables indexed by type).
int quant_type_index(QuantType t);

struct KernelTable {
  const char* name = "";
  VecDotFn vec_dot[kNumQuantTypes] = {};  // by quant_type_index; nullptr: not at this level
  AxpyF32Fn axpy_f32 = nullptr;
  AxpyF16Fn axpy_f16 = nullptr;
  VecDotFn dot_f16_f32 = nullptr;  // binary16 row . float row (attention scores on an F16 cache)
};

// The highest level this CPU supports and this build compiled.
SimdLevel detect_simd_level();
// The level in use: detect_simd_level() unless lowered by set_simd_level (tests, benchmarks)
// or the environment variable MECLLM_SIMD=scalar|avx2|avx512 (read once).
SimdLevel active_simd_level();
// Requests a level; clamps to what the CPU supports and returns the level actually set.
SimdLevel set_simd_level(SimdLevel level);

// The complete table for `level` (clamped to the CPU), every entry filled by fallback.
const KernelTable& kernel_table(SimdLevel level);
inline const KernelTable& kernels() { return kernel_table(active_simd_level()); }

// Per-arch tables (nullptr when the build or the CPU lacks the ISA). Entries may be nullptr.
const KernelTable* avx2_kernel_table();
const KernelTable* avx512_kernel_table();

}  // namespace mecllm::runtime
