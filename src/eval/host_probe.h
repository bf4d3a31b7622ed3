// Measurements of the machine the tool runs on, for the `host` device class and for the
// roofline calibration (achieved share of bandwidth and compute on the host scales to every
// class). Each probe takes a fraction of a second.
#pragma once

#include <cstddef>
#include <string>

#include "eval/device.h"

namespace mecllm::eval {

// Streaming read bandwidth (GB/s, 1e9 B/s): `threads` threads each sum a disjoint slice of a
// `bytes` buffer; the best of `reps` passes (after one warm-up pass that faults the pages in).
double measure_read_bandwidth_gbs(size_t bytes, int threads, int reps = 3);

// Peak single-precision throughput (GFLOP/s) of `threads` threads running independent FMA
// chains for about `seconds`: AVX2+FMA when the CPU has them (checked at run time), else a
// portable multiply-add loop (counted as 2 FLOPs per element).
double measure_peak_gflops(int threads, double seconds = 0.2);

// MemAvailable and MemTotal of /proc/meminfo in GB (1e9 B); 0 when the file is absent.
double available_memory_gb();
double total_memory_gb();

// The class `base` (usually configs/devices/host.yaml) with bandwidth, compute and memory
// measured now; power keeps the file's figures (the caller overrides them with RAPL when it
// can). Sources say "measured on this machine: ...".
DeviceClass measure_host(DeviceClass base, int threads = 0);

}  // namespace mecllm::eval
