// The rows8 layout (rows8.h): packing, unpacking one row, and the reference kernels.
#include "runtime/rows8.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/errors.h"
#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

namespace {

constexpr size_t kScaleBytes = sizeof(uint16_t);
constexpr size_t kChunk = 4;  // quant bytes of one row per 32-bit lane

// Offsets of row i's scale and of its chunk c inside one packed block column.
size_t scale_offset(int i) { return kScaleBytes * static_cast<size_t>(i); }
size_t chunk_offset(int i, size_t c) { return kScaleBytes * kRows8 + kChunk * (kRows8 * c + static_cast<size_t>(i)); }

// Offset of block column b of group g (type_size * 8 bytes each).
size_t column_offset(size_t type_size, int64_t blocks, int64_t g, int64_t b) {
  return static_cast<size_t>(g * blocks + b) * kRows8 * type_size;
}

// copy(offset in the block column, offset in row i's block, bytes) for each piece of row i's
// block: its scale, then its quant chunks. Packing and unpacking are this walk both ways.
template <typename Copy>
void each_piece(int i, size_t qbytes, Copy copy) {
  copy(scale_offset(i), size_t{0}, kScaleBytes);
  for (size_t c = 0; c < qbytes / kChunk; ++c) copy(chunk_offset(i, c), kScaleBytes + kChunk * c, kChunk);
}

}  // namespace

bool rows8_env_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("MECLLM_ROWS8");
    return env == nullptr || std::string_view(env) != "off";
  }();
  return enabled;
}

bool rows8_supported(QuantType type) { return type == QuantType::Q4_0 || type == QuantType::Q8_0; }

void pack_rows8(QuantType type, const std::byte* src, int64_t rows, int64_t cols, std::byte* dst) {
  MECLLM_CHECK(rows8_supported(type), "no rows8 layout for {}", quant_type_name(type));
  MECLLM_CHECK(rows % kRows8 == 0, "rows8 packing of {} rows (a multiple of {} expected)", rows, kRows8);
  const QuantTraits& tr = traits(type);
  MECLLM_CHECK(cols % tr.block_size == 0, "rows of {} values are not whole {} blocks", cols, tr.name);
  const size_t ts = tr.type_size, qbytes = ts - kScaleBytes, row_bytes = row_size(type, cols);
  const int64_t blocks = cols / tr.block_size;
  for (int64_t g = 0; g < rows / kRows8; ++g) {
    for (int64_t b = 0; b < blocks; ++b) {
      std::byte* column = dst + column_offset(ts, blocks, g, b);
      for (int i = 0; i < kRows8; ++i) {
        const std::byte* block = src + static_cast<size_t>(g * kRows8 + i) * row_bytes + static_cast<size_t>(b) * ts;
        each_piece(i, qbytes, [&](size_t at_column, size_t at_block, size_t n) { std::memcpy(column + at_column, block + at_block, n); });
      }
    }
  }
}

void unpack_row8(QuantType type, const std::byte* packed, int64_t r, int64_t cols, std::byte* out) {
  const QuantTraits& tr = traits(type);
  const size_t ts = tr.type_size, qbytes = ts - kScaleBytes;
  const int64_t blocks = cols / tr.block_size, g = r / kRows8;
  const int i = static_cast<int>(r % kRows8);
  for (int64_t b = 0; b < blocks; ++b) {
    const std::byte* column = packed + column_offset(ts, blocks, g, b);
    std::byte* block = out + static_cast<size_t>(b) * ts;
    each_piece(i, qbytes, [&](size_t at_column, size_t at_block, size_t n) { std::memcpy(block + at_block, column + at_column, n); });
  }
}

namespace {

// The reference kernel over any block type: `block_isum(column, i, y_block)` gives row i's
// integer sum of block b. std::fma rounds once, as the vector FMA does.
template <typename BlockIsum>
void gemv8_ref(const std::byte* w, size_t type_size, int64_t groups, const ActQ8& y, int64_t n, float* out, BlockIsum block_isum) {
  const int64_t blocks = n / QK8_0;
  for (int64_t g = 0; g < groups; ++g) {
    float acc[kRows8] = {};
    for (int64_t b = 0; b < blocks; ++b) {
      const std::byte* column = w + column_offset(type_size, blocks, g, b);
      for (int i = 0; i < kRows8; ++i) {
        uint16_t d;
        std::memcpy(&d, column + scale_offset(i), kScaleBytes);
        const float scale = fp16_to_fp32(d) * y.d[b];
        acc[i] = std::fma(static_cast<float>(block_isum(column, i, b)), scale, acc[i]);
      }
    }
    std::memcpy(out + g * kRows8, acc, sizeof acc);
  }
}

}  // namespace

void act_gemv8_q4_0_ref(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out) {
  gemv8_ref(w, sizeof(block_q4_0), groups, y, n, out, [&](const std::byte* column, int i, int64_t b) {
    const int8_t* yq = y.q[b].qs;
    int32_t s = 0;
    for (size_t c = 0; c < QK4_0 / 2 / kChunk; ++c) {
      const auto* q = reinterpret_cast<const uint8_t*>(column + chunk_offset(i, c));
      for (size_t j = 0; j < kChunk; ++j) {
        const size_t v = kChunk * c + j;  // low nibble: value v, high nibble: value v + 16
        s += (q[j] & 0x0F) * yq[v] + (q[j] >> 4) * yq[v + QK4_0 / 2];
      }
    }
    return s - 8 * y.sum[b];
  });
}

void act_gemv8_q8_0_ref(const std::byte* w, int64_t groups, const ActQ8& y, int64_t n, float* out) {
  gemv8_ref(w, sizeof(block_q8_0), groups, y, n, out, [&](const std::byte* column, int i, int64_t b) {
    const int8_t* yq = y.q[b].qs;
    int32_t s = 0;
    for (size_t c = 0; c < QK8_0 / kChunk; ++c) {
      const auto* q = reinterpret_cast<const int8_t*>(column + chunk_offset(i, c));
      for (size_t j = 0; j < kChunk; ++j) s += q[j] * yq[kChunk * c + j];
    }
    return s;
  });
}

}  // namespace mecllm::runtime
