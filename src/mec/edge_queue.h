// The edge server's queue: a compute-bound prefill stage (one FIFO server at the edge model's
// prefill rate) feeding a continuous-batching decode pool of b_max sequence slots, admitted FIFO.
//
// A sequence admitted while b-1 other slots are busy decodes at t_dec(b) = t_dec(1)(1 + kappa(b-1))
// per token for its whole life (its rate is fixed at admission). This keeps completion times
// known at arrival (FIFO, causal), gives the saturated throughput b_max / (t_dec(1)(1+kappa(b_max-1)))
// of a full batch, and reduces to a single FIFO server when b_max = 1 (M/G/1, checked against
// Pollaczek-Khinchine in the tests). The departure from exact processor sharing (later admissions
// do not slow earlier sequences) is discussed in docs/mec.md.
//
// State of one server: a block of 1 + max_batch doubles, times relative to the current slot start:
//   block[0]        time the prefill stage becomes free
//   block[1 + k]    time decode slot k becomes free
#pragma once

#include <algorithm>

namespace mecllm::mec {

struct EdgeTiming {
  double prefill_s_per_tok = 0;  // 1 / prefill rate of the edge profile
  double decode_s_per_tok = 0;   // t_dec(1) = 1 / decode rate of the edge profile
  double kappa = 0.05;           // batch slow-down per extra sequence
  int max_batch = 1;             // b_max
};

// What happened to one admitted sequence (times relative to the slot start).
struct EdgeAdmission {
  double prefill_start = 0;
  double decode_start = 0;
  double done = 0;
  int batch = 1;  // sequences decoding (itself included) when it was admitted
};

// Admits one sequence arriving at `arrival` with in_tok prompt tokens and out_tok answer tokens.
inline EdgeAdmission edge_admit(double* block, const EdgeTiming& t, double arrival, double in_tok, double out_tok) {
  EdgeAdmission a;
  a.prefill_start = std::max(arrival, block[0]);
  double prefill_done = a.prefill_start + in_tok * t.prefill_s_per_tok;
  block[0] = prefill_done;
  double* dec = block + 1;
  int kmin = 0;
  for (int k = 1; k < t.max_batch; ++k)
    if (dec[k] < dec[kmin]) kmin = k;
  a.decode_start = std::max(prefill_done, dec[kmin]);
  int busy = 0;
  for (int k = 0; k < t.max_batch; ++k) busy += dec[k] > a.decode_start;
  a.batch = busy + 1;
  a.done = a.decode_start + out_tok * t.decode_s_per_tok * (1.0 + t.kappa * busy);
  dec[kmin] = a.done;
  return a;
}

// Moves the clock of a server block forward by dt (the next slot starts dt later).
inline void edge_shift(double* block, int max_batch, double dt) {
  for (int k = 0; k <= max_batch; ++k) block[k] = std::max(0.0, block[k] - dt);
}

// Time until a new sequence could start decoding, ignoring its own prefill.
inline double edge_backlog_s(const double* block, int max_batch) {
  double m = block[1];
  for (int k = 1; k < max_batch; ++k) m = std::min(m, block[1 + k]);
  return std::max(block[0], m);
}

inline int edge_busy_slots(const double* block, int max_batch) {
  int busy = 0;
  for (int k = 0; k < max_batch; ++k) busy += block[1 + k] > 0.0;
  return busy;
}

}  // namespace mecllm::mec
