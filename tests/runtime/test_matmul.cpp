// The fused parallel steps of the forward pass (matmul.h) against the products run one by one:
// q/k/v-style steps of several matrices and the gate/up step with its SwiGLU must give
// bit-identical outputs for any thread count, on row counts and lengths that do not line up
// with the kernels' 4-row groups, 8-block steps or the pool's chunks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/rng.h"
#include "runtime/kernels.h"
#include "runtime/matmul.h"
#include "runtime/quant.h"
#include "runtime/rows8.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// A random weight of `rows` x `cols` in type t, owning its bytes.
struct OwnedWeight {
  std::vector<std::byte> bytes;
  WeightMatrix w;
  OwnedWeight(QuantType t, int64_t rows, int64_t cols, uint64_t seed) {
    Rng rng(seed);
    std::vector<float> row(static_cast<size_t>(cols));
    const size_t rb = row_size(t, cols);
    bytes.resize(rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& x : row) x = static_cast<float>(rng.normal());
      traits(t).from_float_ref(row.data(), bytes.data() + static_cast<size_t>(r) * rb, cols);
    }
    w = WeightMatrix{t, rows, cols, rb, bytes.data()};
  }
  // The same weight in the rows8 layout (rows a multiple of 8).
  OwnedWeight interleaved() const {
    OwnedWeight o = *this;
    pack_rows8(w.type, bytes.data(), w.rows, w.cols, o.bytes.data());
    o.w.data = o.bytes.data();
    o.w.rows8 = true;
    return o;
  }
};

std::vector<float> random_input(int n_tok, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n_tok * cols));
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Sizes per type: row lengths with an odd block count (unpaired last block) and a tail after the
// 8-block steps; Q4_K needs whole 256-blocks.
int64_t cols_for(QuantType t) {
  switch (t) {
    case QuantType::Q4_K: return 3 * 256;
    case QuantType::F32:
    case QuantType::F16: return 693;
    default: return 11 * 32;
  }
}

constexpr QuantType kTypes[] = {QuantType::Q4_0, QuantType::Q8_0, QuantType::Q4_K, QuantType::F32, QuantType::F16};

}  // namespace

TEST(Matmul, fused_qkv_step_equals_separate_products_for_any_thread_count) {
  for (QuantType t : kTypes) {
    const int64_t cols = cols_for(t);
    // rows that no 4-group or chunk divides; work above kMinParallelWork so the pool is used
    const OwnedWeight a(t, 203, cols, 1), b(t, 37, cols, 2), c(t, 41, cols, 3);
    for (int n_tok : {1, 3}) {
      const auto in = random_input(n_tok, cols, 4);
      std::vector<std::byte> act_q(static_cast<size_t>(n_tok) * act_q8_bytes(cols / 32 * 32 + 32));
      // separate products on one thread: the reference
      ThreadPool one(1);
      std::vector<float> ra(static_cast<size_t>(n_tok) * 203), rb(static_cast<size_t>(n_tok) * 37), rc(static_cast<size_t>(n_tok) * 41);
      const int cs = static_cast<int>(cols);
      for (const MatmulJob& job : {MatmulJob{&a.w, in.data(), cs, ra.data(), 203}, MatmulJob{&b.w, in.data(), cs, rb.data(), 37},
                                   MatmulJob{&c.w, in.data(), cs, rc.data(), 41}}) {
        matmul(one, std::span<const MatmulJob>(&job, 1), n_tok, act_q);
      }
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        std::vector<float> fa(ra.size()), fb(rb.size()), fc(rc.size());
        const MatmulJob jobs[] = {{&a.w, in.data(), cs, fa.data(), 203}, {&b.w, in.data(), cs, fb.data(), 37},
                                  {&c.w, in.data(), cs, fc.data(), 41}};
        matmul(pool, jobs, n_tok, act_q);
        EXPECT_TRUE(same_bits(fa, ra) && same_bits(fb, rb) && same_bits(fc, rc))
            << quant_type_name(t) << " threads " << threads << " tokens " << n_tok;
      }
    }
  }
}

TEST(Matmul, fused_gate_up_swiglu_step_equals_separate_products_then_swiglu) {
  for (QuantType t : kTypes) {
    const int64_t cols = cols_for(t);
    const int64_t hidden = 229;  // odd, so chunks and 4-row groups end mid-way
    const OwnedWeight gate(t, hidden, cols, 5), up(t, hidden, cols, 6);
    const int cs = static_cast<int>(cols), hs = static_cast<int>(hidden);
    for (int n_tok : {1, 3}) {
      const auto in = random_input(n_tok, cols, 7);
      std::vector<std::byte> act_q(static_cast<size_t>(n_tok) * act_q8_bytes(cols / 32 * 32 + 32));
      ThreadPool one(1);
      std::vector<float> g(static_cast<size_t>(n_tok * hidden)), u = g;
      const MatmulJob separate[] = {{&gate.w, in.data(), cs, g.data(), hs}, {&up.w, in.data(), cs, u.data(), hs}};
      matmul(one, std::span<const MatmulJob>(separate, 1), n_tok, act_q);
      matmul(one, std::span<const MatmulJob>(separate + 1, 1), n_tok, act_q);
      std::vector<float> want(g.size());
      for (size_t i = 0; i < g.size(); ++i) want[i] = swiglu(g[i], u[i]);
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        std::vector<float> fg(g.size()), fu(u.size());
        matmul_swiglu(pool, {&gate.w, in.data(), cs, fg.data(), hs}, {&up.w, in.data(), cs, fu.data(), hs}, n_tok, act_q);
        EXPECT_TRUE(same_bits(fg, want) && same_bits(fu, u)) << quant_type_name(t) << " threads " << threads << " tokens " << n_tok;
      }
    }
  }
}

TEST(Matmul, rows8_weights_beside_plain_ones_give_the_same_outputs_for_any_thread_count) {
  for (QuantType t : {QuantType::Q4_0, QuantType::Q8_0}) {
    const int64_t cols = cols_for(t);
    // a plain 37-row job between two rows8 ones: the second rows8 job starts on a group anyway
    const OwnedWeight a(t, 200, cols, 11), b(t, 37, cols, 12), c(t, 48, cols, 13);
    const OwnedWeight a8 = a.interleaved(), c8 = c.interleaved();
    const int cs = static_cast<int>(cols);
    for (int n_tok : {1, 3}) {
      const auto in = random_input(n_tok, cols, 14);
      std::vector<std::byte> act_q(static_cast<size_t>(n_tok) * act_q8_bytes(cols / 32 * 32 + 32));
      ThreadPool one(1);
      std::vector<float> ra(static_cast<size_t>(n_tok) * 200), rb(static_cast<size_t>(n_tok) * 37), rc(static_cast<size_t>(n_tok) * 48);
      const MatmulJob plain[] = {{&a.w, in.data(), cs, ra.data(), 200}, {&b.w, in.data(), cs, rb.data(), 37},
                                 {&c.w, in.data(), cs, rc.data(), 48}};
      matmul(one, plain, n_tok, act_q);
      std::vector<float> first_a, first_c;
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        std::vector<float> fa(ra.size()), fb(rb.size()), fc(rc.size());
        const MatmulJob jobs[] = {{&a8.w, in.data(), cs, fa.data(), 200}, {&b.w, in.data(), cs, fb.data(), 37},
                                  {&c8.w, in.data(), cs, fc.data(), 48}};
        matmul(pool, jobs, n_tok, act_q);
        EXPECT_TRUE(same_bits(fb, rb)) << quant_type_name(t) << " threads " << threads;
        for (size_t i = 0; i < fa.size(); ++i) EXPECT_NEAR(fa[i], ra[i], 1e-4 * (1 + std::fabs(ra[i]))) << i;
        for (size_t i = 0; i < fc.size(); ++i) EXPECT_NEAR(fc[i], rc[i], 1e-4 * (1 + std::fabs(rc[i]))) << i;
        if (threads == 1) {
          first_a = fa;
          first_c = fc;
        }
        EXPECT_TRUE(same_bits(fa, first_a) && same_bits(fc, first_c)) << quant_type_name(t) << " threads " << threads;
      }
      // the gate/up step with rows8 weights equals it with plain ones, up to summation order
      const OwnedWeight g(t, 64, cols, 15), u(t, 64, cols, 16);
      const OwnedWeight g8 = g.interleaved(), u8 = u.interleaved();
      std::vector<float> pg(static_cast<size_t>(n_tok) * 64), pu = pg, ig = pg, iu = pg;
      matmul_swiglu(one, {&g.w, in.data(), cs, pg.data(), 64}, {&u.w, in.data(), cs, pu.data(), 64}, n_tok, act_q);
      ThreadPool two(2);
      matmul_swiglu(two, {&g8.w, in.data(), cs, ig.data(), 64}, {&u8.w, in.data(), cs, iu.data(), 64}, n_tok, act_q);
      for (size_t i = 0; i < pg.size(); ++i) EXPECT_NEAR(ig[i], pg[i], 1e-4 * (1 + std::fabs(pg[i]))) << i;
    }
  }
}
