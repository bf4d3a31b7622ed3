// Weight-only quantization of one linear layer W (rows = out, cols = in), packed in the ggml
// block layouts of runtime/quant_blocks.h so the engine and llama.cpp read the result as is.
//
//  - RTN: round to nearest per block through traits(type).from_float_ref;
//  - GPTQ (Frantar et al. 2023, arXiv:2210.17323): Hessian H = X^T X of the layer's calibration
//    inputs, damping `damp` x mean(diag H), Cholesky of H^-1, columns quantized in order with the
//    rounding error spread over the not-yet-quantized columns, lazy batches of `block` columns.
//    Each ggml block's scales are set from the (already error-updated) weights when the first
//    column of the block is reached, and the integers are chosen on exactly that grid, so the
//    stored scales are the ones the compensation used;
//  - AWQ (Lin et al. 2024, arXiv:2306.00978): per-input-channel scales s = mean|x|^alpha with
//    alpha searched on a grid to minimise || X W^T - X (Q(W diag s) diag s^-1)^T ||^2; the caller
//    folds 1/s into whatever produces X (an RMSNorm weight or the rows of ffn_up).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/quant.h"

namespace mecllm::compress {

// Encoded rows (rows * row_size(type, cols) bytes), and back to floats (rows, cols).
std::vector<std::byte> quantize_rtn(const float* w, int64_t rows, int64_t cols, runtime::QuantType type);
std::vector<float> dequantize(const std::vector<std::byte>& q, int64_t rows, int64_t cols, runtime::QuantType type);

// H (cols, cols) row-major, symmetric; may be modified (damping). Float types fall back to RTN.
std::vector<std::byte> quantize_gptq(const float* w, int64_t rows, int64_t cols, std::vector<double> H,
                                     runtime::QuantType type, double damp = 0.01, int block = 128);

// Adds x (n, cols) to H (cols, cols): H += 2/N-free sum x^T x (the scale does not matter).
void accumulate_hessian(std::vector<double>& H, const float* x, int64_t n, int64_t cols);

// sum_r (w_r - q_r)^T H (w_r - q_r): a linear layer's squared output error summed over the
// calibration inputs whose Hessian H = X^T X is given (the GPTQ objective).
double hessian_error(const float* w, const float* wq, int64_t rows, int64_t cols, const std::vector<double>& H);

// What AWQ needs from one linear layer's calibration inputs: the per-channel sum of |x| and
// H = X^T X, accumulated window by window so that every calibration token can be used without
// keeping the activations.
struct InputStats {
  explicit InputStats(int64_t cols) : cols(cols), abs_sum(cols, 0.0), H(cols * cols, 0.0) {}
  void add(const float* x, int64_t n_rows);
  std::vector<double> mean_abs() const;
  // H of the input divided channel-wise by s: what the scaled weights W diag(s) see.
  std::vector<double> scaled_hessian(const std::vector<float>& s) const;
  int64_t cols, n = 0;
  std::vector<double> abs_sum, H;
};

struct AwqResult {
  std::vector<float> scales;  // (cols): multiply W's columns, divide the input channels
  double alpha = 0.0;
  double loss = 0.0;          // output error per calibration token at the chosen alpha
  double loss_rtn = 0.0;      // at alpha = 0 (plain RTN)
};
// Searches one scale vector shared by every matrix in `ws` (each (rows[i], cols), same input)
// over `grid` + 1 values of alpha in [0, 1]: s = mean|x|^alpha, and the loss of each candidate is
// the output error over all the inputs in `in` (hessian_error / n), the quantity llm-awq measures
// on a sample of tokens, here exact for every calibration token.
AwqResult awq_search(const std::vector<const float*>& ws, const std::vector<int64_t>& rows, int64_t cols,
                     const InputStats& in, runtime::QuantType type, int grid = 20);

// AWQ's weight clipping (llm-awq `auto_clip`): in every row and ggml block, values are clipped
// to +-ratio * max|w| for `grid` ratios from 1 down to min_ratio, and the ratio whose rounded
// block has the smallest output error e^T H_bb e (e = w - deq(q(clip w)) over the block, H_bb the
// block's part of the input Hessian H = X^T X) is kept. Clipping trades a large error on a rare
// outlier weight for a finer grid on every other weight of the block. w (rows, cols) is clipped in
// place, so plain RTN afterwards reproduces exactly the evaluated integers. Returns the summed
// block error after clipping and (clip_err_rtn) before. Float types are left unchanged.
struct ClipResult {
  double err = 0.0, err_rtn = 0.0;
  double mean_ratio = 1.0;
};
ClipResult awq_clip(float* w, int64_t rows, int64_t cols, const std::vector<double>& H, runtime::QuantType type,
                    int grid = 10, double min_ratio = 0.5);

// Squared output error || X W^T - X Wq^T ||^2 / (n rows), for tests and reports.
double output_error(const float* w, const float* wq, int64_t rows, int64_t cols, const float* x, int64_t n);

}  // namespace mecllm::compress
