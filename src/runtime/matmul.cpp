// Matrix products on the thread pool (see matmul.h): prepare the kernels and the input of a
// step once, then let each chunk of rows run its share.
#include "runtime/matmul.h"

#include <algorithm>
#include <array>

#include "common/errors.h"
#include "runtime/kernels.h"
#include "runtime/rows8.h"

namespace mecllm::runtime {

namespace {

constexpr size_t kMaxJobs = 4;

// How one job's rows are computed: a prepared-activation kernel (gemv) or a per-row vec_dot,
// reading `act` (tokens act_stride bytes apart).
struct Prepared {
  VecDotFn dot = nullptr;   // float types, or a block type without act_gemv
  ActGemvFn gemv = nullptr;
  ActGemv8Fn gemv8 = nullptr;  // a rows8 matrix
  const std::byte* act = nullptr;
  size_t act_stride = 0;
};

// The kernels of every job, and for the block types their shared input quantised once into act_q
// (Q8_0 blocks plus what the SIMD kernels read, kernels.h ActQ8); a level without a
// prepared-activation kernel for the type reads its Q8_0 blocks with vec_dot.
std::array<Prepared, kMaxJobs> prepare(std::span<const MatmulJob> jobs, int n_tok, std::vector<std::byte>& act_q) {
  MECLLM_CHECK(jobs.size() <= kMaxJobs, "{} products in one step, at most {}", jobs.size(), kMaxJobs);
  std::array<Prepared, kMaxJobs> prep{};
  const KernelTable& k = kernels();
  const float* quantized_in = nullptr;
  size_t q_stride = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    const QuantTraits& tr = traits(job.w->type);
    const int ti = quant_type_index(job.w->type);
    prep[j].dot = k.vec_dot[ti];
    if (tr.vec_dot_type == QuantType::F32) {
      prep[j].act = reinterpret_cast<const std::byte*>(job.in);
      prep[j].act_stride = static_cast<size_t>(job.in_stride) * sizeof(float);
      continue;
    }
    MECLLM_CHECK(tr.vec_dot_type == QuantType::Q8_0, "vec_dot_type {}", quant_type_name(tr.vec_dot_type));
    if (quantized_in != job.in) {
      MECLLM_CHECK(quantized_in == nullptr, "one quantised input per matmul step");
      q_stride = act_q8_bytes(job.w->cols);
      MECLLM_CHECK(q_stride * static_cast<size_t>(n_tok) <= act_q.size(), "act_q too small");
      for (int t = 0; t < n_tok; ++t) {
        k.quantize_act(job.in + static_cast<size_t>(t) * job.in_stride, act_q.data() + t * q_stride, job.w->cols);
      }
      quantized_in = job.in;
    }
    prep[j].gemv = prepared_act_enabled() ? k.act_gemv[ti] : nullptr;
    if (job.w->rows8) {
      prep[j].gemv8 = k.act_gemv8[ti];
      MECLLM_CHECK(prep[j].gemv8 != nullptr, "no rows8 kernel for {}", quant_type_name(job.w->type));
    }
    prep[j].act = act_q.data();
    prep[j].act_stride = q_stride;
  }
  return prep;
}

// Rows [r0, r1) of one job for every token.
void run_rows(const MatmulJob& job, const Prepared& p, int64_t r0, int64_t r1, int n_tok) {
  const WeightMatrix& w = *job.w;
  if (p.gemv8 != nullptr) {
    // chunks start and end on whole groups (grain_for, padded_rows)
    const size_t group_bytes = w.row_bytes * kRows8;
    const int64_t g0 = r0 / kRows8, g1 = (r1 + kRows8 - 1) / kRows8;
    const int64_t step = n_tok == 1 ? std::max<int64_t>(g1 - g0, 1) : 2;  // a prompt batch: 16 rows at a time, in L1
    for (int64_t g = g0; g < g1; g += step) {
      for (int t = 0; t < n_tok; ++t) {
        const ActQ8 y = act_q8_view(p.act + static_cast<size_t>(t) * p.act_stride, w.cols);
        p.gemv8(w.data + static_cast<size_t>(g) * group_bytes, std::min(step, g1 - g), y, w.cols,
                job.out + static_cast<size_t>(t) * job.out_stride + g * kRows8);
      }
    }
    return;
  }
  if (p.gemv != nullptr) {
    // a prompt batch walks rows in groups small enough to stay in L1 while every token reads
    // them; one token takes its whole range in one call
    const int64_t group = n_tok == 1 ? std::max<int64_t>(r1 - r0, 1) : 16;
    for (int64_t r = r0; r < r1; r += group) {
      const std::byte* rows = w.data + static_cast<size_t>(r) * w.row_bytes;
      for (int t = 0; t < n_tok; ++t) {
        const ActQ8 y = act_q8_view(p.act + static_cast<size_t>(t) * p.act_stride, w.cols);
        p.gemv(rows, w.row_bytes, std::min(group, r1 - r), y, w.cols,
               job.out + static_cast<size_t>(t) * job.out_stride + r);
      }
    }
    return;
  }
  for (int64_t r = r0; r < r1; ++r) {
    const std::byte* row = w.data + static_cast<size_t>(r) * w.row_bytes;
    for (int t = 0; t < n_tok; ++t) {
      job.out[static_cast<size_t>(t) * job.out_stride + r] = p.dot(row, p.act + static_cast<size_t>(t) * p.act_stride, w.cols);
    }
  }
}

// ~32 chunks per thread, claimed guided (threadpool.h): the first claims take long runs of
// rows, so each thread streams long stretches of weights, and the last ones single chunks,
// small enough to rebalance around a descheduled thread. A whole number of rows8 groups, so a
// chunk never splits one (each job's rows also start on a group, padded_rows).
int64_t grain_for(int64_t rows, const ThreadPool& pool) {
  const int64_t rows_per_chunk = std::max<int64_t>(1, rows / (32 * static_cast<int64_t>(pool.size())));
  return (rows_per_chunk + kRows8 - 1) / kRows8 * kRows8;
}

// Jobs of one step share a row range; each starts at a multiple of kRows8 (the rows between
// are nobody's), so chunk boundaries fall on rows8 groups in every job.
int64_t padded_rows(const MatmulJob& job) { return (job.w->rows + kRows8 - 1) / kRows8 * kRows8; }

}  // namespace

void run_parallel(ThreadPool& pool, int64_t work, int64_t n, int64_t grain, const ThreadPool::RangeFn& fn) {
  if (work < kMinParallelWork) fn(0, n, 0);
  else pool.parallel_for(n, grain, fn);
}

void matmul(ThreadPool& pool, std::span<const MatmulJob> jobs, int n_tok, std::vector<std::byte>& act_q) {
  const std::array<Prepared, kMaxJobs> prep = prepare(jobs, n_tok, act_q);
  int64_t total_rows = 0, work = 0;
  for (const MatmulJob& job : jobs) {
    total_rows += padded_rows(job);
    work += job.w->rows * job.w->cols * n_tok;
  }
  run_parallel(pool, work, total_rows, grain_for(total_rows, pool), [&](int64_t begin, int64_t end, int) {
    int64_t base = 0;  // first row of job j in the concatenated row range
    for (size_t j = 0; j < jobs.size() && begin < end; ++j) {
      const int64_t rows = jobs[j].w->rows;
      const int64_t r0 = std::max<int64_t>(begin - base, 0), r1 = std::min<int64_t>(end - base, rows);
      if (r0 < r1) run_rows(jobs[j], prep[j], r0, r1, n_tok);
      base += padded_rows(jobs[j]);
    }
  });
}

void matmul_swiglu(ThreadPool& pool, const MatmulJob& gate, const MatmulJob& up, int n_tok,
                   std::vector<std::byte>& act_q) {
  MECLLM_CHECK(gate.w->rows == up.w->rows && gate.in == up.in && gate.out_stride == up.out_stride,
               "gate ({} rows) and up ({} rows) must share shape and input", gate.w->rows, up.w->rows);
  const MatmulJob jobs[] = {gate, up};
  const std::array<Prepared, kMaxJobs> prep = prepare(jobs, n_tok, act_q);
  const int64_t hidden = gate.w->rows;
  const int64_t work = 2 * hidden * gate.w->cols * n_tok;
  run_parallel(pool, work, hidden, grain_for(hidden, pool), [&](int64_t r0, int64_t r1, int) {
    run_rows(gate, prep[0], r0, r1, n_tok);
    run_rows(up, prep[1], r0, r1, n_tok);
    for (int t = 0; t < n_tok; ++t) {
      float* g = gate.out + static_cast<size_t>(t) * gate.out_stride;
      const float* u = up.out + static_cast<size_t>(t) * up.out_stride;
      for (int64_t i = r0; i < r1; ++i) g[i] = swiglu(g[i], u[i]);
    }
  });
}

}  // namespace mecllm::runtime
