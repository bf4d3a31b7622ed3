// The rows8 layout (rows8.h): packing is lossless, and its kernels at every SIMD level give the
// reference kernel's results bit for bit, which in turn equal the row-by-row dot products up to
// float summation order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "common/rng.h"
#include "runtime/kernels.h"
#include "runtime/quant.h"
#include "runtime/quant_blocks.h"
#include "runtime/rows8.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// Reference dot vs rows8 kernel: same integer sums, different float summation order.
constexpr double kMaxRelErr = 2e-5;

std::vector<float> normal_values(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

std::vector<std::byte> quantize_rows(QuantType t, const std::vector<float>& x, int64_t rows, int64_t cols) {
  const size_t rb = row_size(t, cols);
  std::vector<std::byte> out(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) traits(t).from_float_ref(x.data() + r * cols, out.data() + static_cast<size_t>(r) * rb, cols);
  return out;
}

constexpr QuantType kRows8Types[] = {QuantType::Q4_0, QuantType::Q8_0};

}  // namespace

TEST(Rows8, packing_then_unpacking_gives_back_every_row) {
  for (QuantType t : kRows8Types) {
    for (int64_t blocks : {1, 5, 24}) {
      const int64_t cols = blocks * 32, rows = 24;
      const auto plain = quantize_rows(t, normal_values(rows * cols, 3 + static_cast<uint64_t>(blocks)), rows, cols);
      std::vector<std::byte> packed(plain.size()), row(row_size(t, cols));
      pack_rows8(t, plain.data(), rows, cols, packed.data());
      EXPECT_NE(std::memcmp(packed.data(), plain.data(), plain.size()), 0) << "the layout must differ";
      for (int64_t r = 0; r < rows; ++r) {
        unpack_row8(t, packed.data(), r, cols, row.data());
        EXPECT_EQ(std::memcmp(row.data(), plain.data() + static_cast<size_t>(r) * row.size(), row.size()), 0)
            << quant_type_name(t) << " cols " << cols << " row " << r;
      }
    }
  }
}

TEST(Rows8, kernels_of_every_level_equal_the_reference_and_the_row_dots) {
  const KernelTable& ref = kernel_table(SimdLevel::scalar);
  for (QuantType t : kRows8Types) {
    const int ti = quant_type_index(t);
    ASSERT_NE(ref.act_gemv8[ti], nullptr) << "every level has rows8 kernels";
    // block counts below, at and past a cache line of quants; several groups
    for (int64_t blocks : {1, 3, 8, 24, 67}) {
      const int64_t cols = blocks * 32, rows = 8 * (1 + blocks % 3);
      const auto w = normal_values(rows * cols, 100 + static_cast<uint64_t>(blocks));
      auto y = normal_values(cols, 200 + static_cast<uint64_t>(blocks));
      y[0] = 0.0f;  // an extreme-free row and an all-zero block are both fine
      const auto plain = quantize_rows(t, w, rows, cols);
      std::vector<std::byte> packed(plain.size()), act(act_q8_bytes(cols));
      pack_rows8(t, plain.data(), rows, cols, packed.data());
      ref.quantize_act(y.data(), act.data(), cols);
      const ActQ8 a = act_q8_view(act.data(), cols);
      std::vector<float> want(static_cast<size_t>(rows));
      ref.act_gemv8[ti](packed.data(), rows / 8, a, cols, want.data());
      for (int64_t r = 0; r < rows; ++r) {
        const double dot = ref.vec_dot[ti](plain.data() + static_cast<size_t>(r) * row_size(t, cols), a.q, cols);
        double mag = 0;
        for (int64_t i = 0; i < cols; ++i) mag += std::fabs(w[static_cast<size_t>(r * cols + i)] * y[static_cast<size_t>(i)]);
        EXPECT_LE(std::fabs(want[static_cast<size_t>(r)] - dot), kMaxRelErr * mag + 1e-6)
            << quant_type_name(t) << " cols " << cols << " row " << r;
      }
      for (SimdLevel level : {SimdLevel::avx2, SimdLevel::avx512}) {
        if (static_cast<int>(level) > static_cast<int>(detect_simd_level())) continue;
        const KernelTable& k = kernel_table(level);
        std::vector<float> got(static_cast<size_t>(rows));
        k.act_gemv8[ti](packed.data(), rows / 8, a, cols, got.data());
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << k.name << " " << quant_type_name(t) << " cols " << cols;
      }
    }
  }
}

TEST(Rows8, packing_needs_whole_groups_and_a_rows8_type) {
  std::vector<std::byte> buf(row_size(QuantType::Q8_0, 32) * 12);
  EXPECT_ANY_THROW(pack_rows8(QuantType::Q8_0, buf.data(), 12, 32, buf.data()));
  EXPECT_ANY_THROW(pack_rows8(QuantType::Q4_K, buf.data(), 8, 256, buf.data()));
  EXPECT_FALSE(rows8_supported(QuantType::F32));
  EXPECT_TRUE(rows8_supported(QuantType::Q4_0) && rows8_supported(QuantType::Q8_0));
}
