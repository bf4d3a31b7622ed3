#include "compress/quant_methods.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "compress/forward_ref.h"
#include "runtime/quant_blocks.h"

namespace mecllm::compress {

using runtime::QuantType;

std::vector<std::byte> quantize_rtn(const float* w, int64_t rows, int64_t cols, QuantType type) {
  const auto& tr = runtime::traits(type);
  const size_t rs = runtime::row_size(type, cols);
  std::vector<std::byte> out(rows * rs);
  for (int64_t r = 0; r < rows; ++r) tr.from_float_ref(w + r * cols, out.data() + r * rs, cols);
  return out;
}

std::vector<float> dequantize(const std::vector<std::byte>& q, int64_t rows, int64_t cols, QuantType type) {
  const auto& tr = runtime::traits(type);
  const size_t rs = runtime::row_size(type, cols);
  MECLLM_CHECK(q.size() == rows * rs, "{} bytes for {} rows of {}", q.size(), rows, rs);
  std::vector<float> out(rows * cols);
  for (int64_t r = 0; r < rows; ++r) tr.to_float(q.data() + r * rs, out.data() + r * cols, cols);
  return out;
}

// ---------------------------------------------------------------- fixed-grid codec
namespace {

// The quantization grid of value i of a row whose block header is already written:
// value = q * scale + offset, q in [qmin, qmax].
struct Grid {
  float scale = 0, offset = 0;
  int qmin = 0, qmax = 0;
};

Grid grid_at(QuantType t, const std::byte* row, int64_t i) {
  using namespace runtime;
  switch (t) {
    case QuantType::Q4_0: {
      const auto* b = reinterpret_cast<const block_q4_0*>(row) + i / QK4_0;
      float d = fp16_to_fp32(b->d);
      return {d, -8.0f * d, 0, 15};
    }
    case QuantType::Q8_0: {
      const auto* b = reinterpret_cast<const block_q8_0*>(row) + i / QK8_0;
      return {fp16_to_fp32(b->d), 0.0f, -128, 127};
    }
    case QuantType::Q4_K: {
      const auto* b = reinterpret_cast<const block_q4_K*>(row) + i / QK_K;
      uint8_t sc, m;
      get_scale_min_k4(static_cast<int>((i % QK_K) / 32), b->scales, &sc, &m);
      return {fp16_to_fp32(b->d) * sc, -fp16_to_fp32(b->dmin) * m, 0, 15};
    }
    default:
      MECLLM_CHECK(false, "no fixed grid for {}", quant_type_name(t));
  }
  return {};
}

void set_q(QuantType t, std::byte* row, int64_t i, int q) {
  using namespace runtime;
  switch (t) {
    case QuantType::Q4_0: {
      auto* b = reinterpret_cast<block_q4_0*>(row) + i / QK4_0;
      int j = static_cast<int>(i % QK4_0);
      uint8_t& byte = b->qs[j % 16];
      byte = j < 16 ? static_cast<uint8_t>((byte & 0xF0) | q) : static_cast<uint8_t>((byte & 0x0F) | (q << 4));
      break;
    }
    case QuantType::Q8_0:
      (reinterpret_cast<block_q8_0*>(row) + i / QK8_0)->qs[i % QK8_0] = static_cast<int8_t>(q);
      break;
    case QuantType::Q4_K: {
      auto* b = reinterpret_cast<block_q4_K*>(row) + i / QK_K;
      int w = static_cast<int>(i % QK_K);
      uint8_t& byte = b->qs[(w / 64) * 32 + w % 32];
      byte = (w % 64) < 32 ? static_cast<uint8_t>((byte & 0xF0) | q) : static_cast<uint8_t>((byte & 0x0F) | (q << 4));
      break;
    }
    default:
      MECLLM_CHECK(false, "no fixed grid for {}", quant_type_name(t));
  }
}

// Lower Cholesky factor of a (n, n) in place; false when not positive definite.
bool cholesky(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double s = a[j * n + j];
    for (int64_t k = 0; k < j; ++k) s -= a[j * n + k] * a[j * n + k];
    if (!(s > 0)) return false;
    const double d = std::sqrt(s);
    a[j * n + j] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (int64_t k = 0; k < j; ++k) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = v / d;
    }
    for (int64_t k = j + 1; k < n; ++k) a[j * n + k] = 0.0;
  }
  return true;
}

// The upper factor U of H^-1 = U^T U that GPTQ reads row by row.
std::vector<double> inverse_hessian_upper(std::vector<double> H, int64_t n) {
  MECLLM_CHECK(cholesky(H, n), "damped Hessian is not positive definite");
  // Linv: inverse of the lower factor, by forward substitution per column.
  std::vector<double> Li(n * n, 0.0);
  for (int64_t c = 0; c < n; ++c) {
    Li[c * n + c] = 1.0 / H[c * n + c];
    for (int64_t i = c + 1; i < n; ++i) {
      double s = 0;
      for (int64_t k = c; k < i; ++k) s += H[i * n + k] * Li[k * n + c];
      Li[i * n + c] = -s / H[i * n + i];
    }
  }
  // H^-1 = Li^T Li.
  std::vector<double> Hi(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      double s = 0;
      for (int64_t k = j; k < n; ++k) s += Li[k * n + i] * Li[k * n + j];
      Hi[i * n + j] = Hi[j * n + i] = s;
    }
  MECLLM_CHECK(cholesky(Hi, n), "inverse Hessian is not positive definite");
  std::vector<double> U(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) U[j * n + i] = Hi[i * n + j];
  return U;
}

}  // namespace

double hessian_error(const float* w, const float* wq, int64_t rows, int64_t cols, const std::vector<double>& H) {
  MECLLM_CHECK(static_cast<int64_t>(H.size()) == cols * cols);
  double total = 0;
  std::vector<double> d(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < cols; ++i) d[i] = static_cast<double>(w[r * cols + i]) - wq[r * cols + i];
    for (int64_t i = 0; i < cols; ++i) {
      if (d[i] == 0.0) continue;
      double s = 0;
      const double* h = H.data() + i * cols;
      for (int64_t j = 0; j < cols; ++j) s += h[j] * d[j];
      total += d[i] * s;
    }
  }
  return total;
}

void InputStats::add(const float* x, int64_t n_rows) {
  for (int64_t t = 0; t < n_rows; ++t)
    for (int64_t i = 0; i < cols; ++i) abs_sum[i] += std::fabs(x[t * cols + i]);
  accumulate_hessian(H, x, n_rows, cols);
  n += n_rows;
}

std::vector<double> InputStats::mean_abs() const {
  std::vector<double> m(abs_sum);
  for (auto& v : m) v /= static_cast<double>(std::max<int64_t>(1, n));
  return m;
}

std::vector<double> InputStats::scaled_hessian(const std::vector<float>& s) const {
  MECLLM_CHECK(static_cast<int64_t>(s.size()) == cols);
  std::vector<double> Hs(H);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) Hs[i * cols + j] /= static_cast<double>(s[i]) * s[j];
  return Hs;
}

void accumulate_hessian(std::vector<double>& H, const float* x, int64_t n, int64_t cols) {
  MECLLM_CHECK(static_cast<int64_t>(H.size()) == cols * cols);
  for (int64_t t = 0; t < n; ++t) {
    const float* r = x + t * cols;
    for (int64_t i = 0; i < cols; ++i) {
      const double xi = r[i];
      if (xi == 0.0) continue;
      double* h = H.data() + i * cols;
      for (int64_t j = 0; j < cols; ++j) h[j] += xi * r[j];
    }
  }
}

// ---------------------------------------------------------------- GPTQ
std::vector<std::byte> quantize_gptq(const float* w_in, int64_t rows, int64_t cols, std::vector<double> H,
                                     QuantType type, double damp, int block) {
  const auto& tr = runtime::traits(type);
  if (!tr.is_quantized) return quantize_rtn(w_in, rows, cols, type);
  MECLLM_CHECK(static_cast<int64_t>(H.size()) == cols * cols && runtime::row_fits(type, cols));
  std::vector<float> W(w_in, w_in + rows * cols);
  // Dead inputs (never active in calibration) carry no information: zero them, keep H invertible.
  double mean_diag = 0;
  for (int64_t i = 0; i < cols; ++i) {
    if (H[i * cols + i] == 0.0) {
      H[i * cols + i] = 1.0;
      for (int64_t r = 0; r < rows; ++r) W[r * cols + i] = 0.0f;
    }
    mean_diag += H[i * cols + i];
  }
  mean_diag /= cols;
  for (int64_t i = 0; i < cols; ++i) H[i * cols + i] += damp * mean_diag;
  const std::vector<double> U = inverse_hessian_upper(std::move(H), cols);

  const int64_t qb = tr.block_size;
  // Lazy batches cover whole ggml blocks, so a block's scales are set from fully updated values.
  const int64_t eff = std::max<int64_t>(qb, (std::max<int64_t>(block, qb) + qb - 1) / qb * qb);
  const size_t rs = runtime::row_size(type, cols);
  std::vector<std::byte> out(rows * rs);
  std::vector<double> err(rows * eff);
  for (int64_t i1 = 0; i1 < cols; i1 += eff) {
    const int64_t i2 = std::min(cols, i1 + eff), nb = i2 - i1;
    for (int64_t i = i1; i < i2; ++i) {
      if (i % qb == 0)
        for (int64_t r = 0; r < rows; ++r)
          tr.from_float_ref(W.data() + r * cols + i, out.data() + r * rs + (i / qb) * tr.type_size, qb);
      const double d = U[i * cols + i];
      for (int64_t r = 0; r < rows; ++r) {
        std::byte* row = out.data() + r * rs;
        const Grid g = grid_at(type, row, i);
        const float w = W[r * cols + i];
        int q = g.scale != 0.0f ? static_cast<int>(std::lround((w - g.offset) / g.scale)) : 0;
        q = std::clamp(q, g.qmin, g.qmax);
        set_q(type, row, i, q);
        const double e = (w - (q * g.scale + g.offset)) / d;
        err[r * eff + (i - i1)] = e;
        float* wr = W.data() + r * cols;
        for (int64_t j = i + 1; j < i2; ++j) wr[j] -= static_cast<float>(e * U[i * cols + j]);
      }
    }
    // Spread the batch's errors over the remaining columns.
    for (int64_t r = 0; r < rows; ++r) {
      float* wr = W.data() + r * cols;
      for (int64_t k = 0; k < nb; ++k) {
        const double e = err[r * eff + k];
        if (e == 0.0) continue;
        const double* u = U.data() + (i1 + k) * cols;
        for (int64_t j = i2; j < cols; ++j) wr[j] -= static_cast<float>(e * u[j]);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- AWQ
double output_error(const float* w, const float* wq, int64_t rows, int64_t cols, const float* x, int64_t n) {
  std::vector<float> y(n * rows), yq(n * rows);
  matmul_xwt(x, n, cols, w, rows, y.data());
  matmul_xwt(x, n, cols, wq, rows, yq.data());
  double s = 0;
  for (int64_t i = 0; i < n * rows; ++i) s += static_cast<double>(y[i] - yq[i]) * (y[i] - yq[i]);
  return s / std::max<int64_t>(1, n);
}

AwqResult awq_search(const std::vector<const float*>& ws, const std::vector<int64_t>& rows, int64_t cols,
                     const InputStats& in, QuantType type, int grid) {
  MECLLM_CHECK(ws.size() == rows.size() && !ws.empty() && grid >= 1 && in.cols == cols && in.n > 0);
  std::vector<double> mean_abs = in.mean_abs();
  for (auto& v : mean_abs) v = std::max(v, 1e-8);
  AwqResult best;
  best.loss = INFINITY;
  for (int gi = 0; gi <= grid; ++gi) {
    const double alpha = static_cast<double>(gi) / grid;
    std::vector<float> s(cols);
    double mx = 0, mn = INFINITY;
    for (int64_t i = 0; i < cols; ++i) {
      s[i] = static_cast<float>(std::pow(mean_abs[i], alpha));
      mx = std::max<double>(mx, s[i]);
      mn = std::min<double>(mn, s[i]);
    }
    const float norm = static_cast<float>(std::sqrt(mx * mn));
    for (auto& v : s) v = std::max(v / norm, 1e-4f);
    double loss = 0;
    for (size_t k = 0; k < ws.size(); ++k) {
      std::vector<float> scaled(rows[k] * cols);
      for (int64_t r = 0; r < rows[k]; ++r)
        for (int64_t i = 0; i < cols; ++i) scaled[r * cols + i] = ws[k][r * cols + i] * s[i];
      auto deq = dequantize(quantize_rtn(scaled.data(), rows[k], cols, type), rows[k], cols, type);
      for (int64_t r = 0; r < rows[k]; ++r)
        for (int64_t i = 0; i < cols; ++i) deq[r * cols + i] /= s[i];
      loss += hessian_error(ws[k], deq.data(), rows[k], cols, in.H) / static_cast<double>(in.n);
    }
    if (gi == 0) best.loss_rtn = loss;
    if (loss < best.loss) {
      best.loss = loss;
      best.alpha = alpha;
      best.scales = s;
    }
  }
  return best;
}

ClipResult awq_clip(float* w, int64_t rows, int64_t cols, const std::vector<double>& H, QuantType type, int grid,
                    double min_ratio) {
  const auto& tr = runtime::traits(type);
  ClipResult res;
  if (!tr.is_quantized || grid < 1) return res;
  MECLLM_CHECK(static_cast<int64_t>(H.size()) == cols * cols && runtime::row_fits(type, cols));
  const int64_t qb = tr.block_size;
  std::vector<std::byte> buf(tr.type_size);
  std::vector<float> clipped(qb), deq(qb), e(qb);
  // e^T H_bb e for the block starting at column c0.
  auto block_error = [&](int64_t c0) {
    double s = 0;
    for (int64_t i = 0; i < qb; ++i) {
      if (e[i] == 0.0f) continue;
      const double* h = H.data() + (c0 + i) * cols + c0;
      double hi = 0;
      for (int64_t j = 0; j < qb; ++j) hi += h[j] * e[j];
      s += e[i] * hi;
    }
    return s;
  };
  double ratio_sum = 0;
  int64_t n_blocks = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c0 = 0; c0 < cols; c0 += qb) {
      float* wb = w + r * cols + c0;
      float mx = 0;
      for (int64_t i = 0; i < qb; ++i) mx = std::max(mx, std::fabs(wb[i]));
      double best = INFINITY, best_ratio = 1.0;
      for (int g = 0; g < grid; ++g) {
        const double ratio = 1.0 - (1.0 - min_ratio) * g / std::max(1, grid - 1);
        const float lim = static_cast<float>(ratio * mx);
        for (int64_t i = 0; i < qb; ++i) clipped[i] = std::clamp(wb[i], -lim, lim);
        tr.from_float_ref(clipped.data(), buf.data(), qb);
        tr.to_float(buf.data(), deq.data(), qb);
        for (int64_t i = 0; i < qb; ++i) e[i] = wb[i] - deq[i];
        const double err = block_error(c0);
        if (g == 0) res.err_rtn += err;
        if (err < best) best = err, best_ratio = ratio;
      }
      res.err += best;
      ratio_sum += best_ratio;
      ++n_blocks;
      const float lim = static_cast<float>(best_ratio * mx);
      for (int64_t i = 0; i < qb; ++i) wb[i] = std::clamp(wb[i], -lim, lim);
    }
  res.mean_ratio = n_blocks > 0 ? ratio_sum / n_blocks : 1.0;
  return res;
}

}  // namespace mecllm::compress
