// llama-bench-style speed measurement of the engine on one model: prompt processing (pp, one
// batched forward of N tokens from position 0) and text generation (tg, N single-token
// forwards), tokens/s mean and standard deviation over repetitions, per thread count.
//
// Roofline: generation reads every weight once per token, so its speed is bounded by memory
// bandwidth. --roofline measures the machine's streaming read bandwidth with the same thread
// count (a dot product over a buffer far larger than the caches) and reports the bytes read
// per generated token (weights + KV cache), the bandwidth generation achieved and its share.
// The bandwidth is read right before and right after the tg runs and the share is taken against
// the mean of the two readings (both are reported): on a shared machine it drifts by a third
// from one minute to the next.
//
// Reference: for an F32 llama2.c checkpoint, bench/ref_llama2c_loop (a plain C loop, see
// there) is run on the same file in the same run and the tg speed is given as a ratio.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/quant.h"

namespace mecllm::runtime {

class ThreadPool;

struct BenchModelOptions {
  std::string model;
  std::vector<int> threads = {1};
  int reps = 5;
  int n_prompt = 512;   // pp test length (clamped to the context)
  int n_gen = 128;      // tg test length (clamped to the context)
  bool roofline = false;
  size_t bandwidth_bytes = size_t{512} << 20;  // buffer of the bandwidth measurement
  std::optional<QuantType> weight_type;        // re-quantise at load
  QuantType kv_type = QuantType::F32;
  std::string ref_loop;  // path of ref_llama2c_loop; empty: next to the running binary, if there
  uint64_t seed = 1;     // prompt token ids
};

struct BenchSample {
  int threads = 0;
  std::string test;       // "pp512", "tg128"
  int n_tokens = 0;
  double mean_tps = 0, sd_tps = 0;
  std::vector<double> tps;  // per repetition
};

struct BenchModelResult {
  std::string model, weight_type, simd;
  uint64_t bytes_per_token = 0;  // weights + mean KV cache read per generated token
  std::vector<BenchSample> samples;
  struct Roofline {
    int threads = 0;
    double bandwidth_gbs = 0;  // measured streaming read bandwidth: mean of the two readings below
    double bandwidth_before_gbs = 0, bandwidth_after_gbs = 0;  // right before / after the tg runs
    double achieved_gbs = 0;   // bytes_per_token * tg tokens/s
    double share = 0;          // achieved / bandwidth
  };
  std::vector<Roofline> roofline;
  struct Reference {
    int threads = 0;
    double ref_tps = 0, ref_sd = 0;  // ref_llama2c_loop tg tokens/s
    double ratio = 0;                // mecllm tg / reference tg
  };
  std::vector<Reference> reference;
  std::vector<std::string> notes;
  nlohmann::json to_json() const;
};

// Streaming read bandwidth with n_threads: a two-stream dot product over a buffer far larger than
// the caches, in GB/s, best of `reps` passes. The buffer and threads are set up once, so readings
// can be taken right before and right after the timed runs.
class BandwidthProbe {
 public:
  BandwidthProbe(size_t bytes, int n_threads);
  ~BandwidthProbe();
  double measure(int reps = 5);

 private:
  std::vector<float> buf_;
  std::unique_ptr<ThreadPool> pool_;
};

// One BandwidthProbe reading.
double measure_read_bandwidth(size_t bytes, int n_threads, int reps = 5);

BenchModelResult bench_model(const BenchModelOptions& options);

}  // namespace mecllm::runtime
