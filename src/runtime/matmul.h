// The matrix products of the forward pass, split by rows over the thread pool.
//
// Generation runs one token at a time, so every product is a matrix-vector product that reads
// its weight once and is done in tens of microseconds: the cost of handing it to the pool
// matters next to the work. Products that read the same input therefore run as one parallel
// step (q, k and v; gate and up), the input is prepared for the block kernels once per step,
// and the SwiGLU product of gate and up is formed inside that step, so the calling thread does
// not run it alone between two parallel steps.
//
// Every output is one dot product computed by exactly one thread, in the same way whatever the
// chunking: results are identical for any thread count and for fused or separate steps (tested).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/threadpool.h"
#include "runtime/transformer.h"

namespace mecllm::runtime {

// out[t * out_stride + r] = w row r . in[t * in_stride ...] for every row r and token t.
struct MatmulJob {
  const WeightMatrix* w;
  const float* in;
  int in_stride;
  float* out;
  int out_stride;
};

// Products below this many multiply-adds run on the calling thread alone: waking the workers
// costs more than they would save (and the result is the same, each output being one dot).
inline constexpr int64_t kMinParallelWork = 1 << 16;

// fn over [0, n) in chunks of `grain`: on the pool, or inline when `work` is too small to share.
void run_parallel(ThreadPool& pool, int64_t work, int64_t n, int64_t grain, const ThreadPool::RangeFn& fn);

// Runs jobs (at most 4, all reading the same input when they are block types) over n_tok tokens
// in one parallel step: the rows of all jobs form one range split over the threads. act_q is
// scratch for the prepared input (n_tok * act_q8_bytes(cols) bytes at least).
void matmul(ThreadPool& pool, std::span<const MatmulJob> jobs, int n_tok, std::vector<std::byte>& act_q);

// The SwiGLU feed-forward's first half in one parallel step: gate.out = silu(gate . in) * (up . in)
// and up.out = up . in. Each chunk of hidden rows computes its gate and up rows and their product,
// so no serial pass over the hidden vector follows. gate and up share in and strides.
void matmul_swiglu(ThreadPool& pool, const MatmulJob& gate, const MatmulJob& up, int n_tok,
                   std::vector<std::byte>& act_q);

// silu(g) * u, the SwiGLU gate (one definition for the fused and the separate path).
inline float swiglu(float g, float u) { return g / (1.0f + std::exp(-g)) * u; }

}  // namespace mecllm::runtime
