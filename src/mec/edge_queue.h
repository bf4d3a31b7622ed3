// The edge server's queue: a continuous-batching decode pool of b_max sequence slots, fed after a
// compute-bound prefill (a delay of in_tok / prefill rate; prefill utilisation stays below 0.05
// in the calibrated scenarios, so its queueing is not modelled).
//
// A sequence admitted while b-1 other slots are busy decodes at t_dec(b) = t_dec(1)(1 + kappa(b-1))
// per token for its whole life (its rate is fixed at admission). This keeps completion times
// known at arrival (causal), gives the saturated throughput b_max / (t_dec(1)(1+kappa(b_max-1)))
// of a full batch, and reduces to a single FIFO server when b_max = 1 (M/G/1, checked against
// Pollaczek-Khinchine in the tests).
//
// Requests are admitted in decision order (slot by slot, within a slot by upload completion), so
// a slow upload decided earlier may reserve a slot later in time than a request decided after
// it. Each slot therefore remembers the idle gap before its last reservation, and a later request
// that fits in the gap is served there (backfilling): the server never idles while a fitting
// request waits. docs/mec.md discusses these departures from exact processor sharing.
//
// State of one server: 3 * max_batch doubles, times relative to the current slot start:
//   block[k]                 time decode slot k becomes free
//   block[max_batch + k]     start of slot k's idle gap
//   block[2 * max_batch + k] end of slot k's idle gap (gap empty when end <= start)
#pragma once

#include <algorithm>
#include <limits>

namespace mecllm::mec {

struct EdgeTiming {
  double prefill_s_per_tok = 0;  // 1 / prefill rate of the edge profile
  double decode_s_per_tok = 0;   // t_dec(1) = 1 / decode rate of the edge profile
  double kappa = 0.05;           // batch slow-down per extra sequence
  int max_batch = 1;             // b_max
};

inline constexpr int edge_block_size(int max_batch) { return 3 * max_batch; }

// What happened to one admitted sequence (times relative to the slot start).
struct EdgeAdmission {
  double ready = 0;         // prefill done
  double decode_start = 0;
  double done = 0;
  int batch = 1;            // sequences decoding (itself included) when it started
};

// Admits one sequence whose payload arrives at `arrival`, with in_tok prompt and out_tok answer tokens.
inline EdgeAdmission edge_admit(double* block, const EdgeTiming& t, double arrival, double in_tok, double out_tok) {
  const int B = t.max_batch;
  double* free_at = block;
  double* gap_lo = block + B;
  double* gap_hi = block + 2 * B;
  EdgeAdmission a;
  a.ready = arrival + in_tok * t.prefill_s_per_tok;
  // Earliest start over the slots; a gap counts only if even the slowest service fits in it.
  const double worst = out_tok * t.decode_s_per_tok * (1.0 + t.kappa * (B - 1));
  int best = 0;
  bool best_gap = false;
  double best_start = std::numeric_limits<double>::infinity();
  for (int k = 0; k < B; ++k) {
    double s = std::max(a.ready, free_at[k]);
    bool in_gap = false;
    double g = std::max(a.ready, gap_lo[k]);
    if (g + worst <= gap_hi[k] && g < s) s = g, in_gap = true;
    if (s < best_start) best_start = s, best = k, best_gap = in_gap;
  }
  a.decode_start = best_start;
  int busy = 0;
  for (int k = 0; k < B; ++k) {
    if (k == best) continue;
    bool in_gap = gap_lo[k] <= best_start && best_start < gap_hi[k];
    busy += best_start < free_at[k] && !in_gap;
  }
  a.batch = busy + 1;
  a.done = best_start + out_tok * t.decode_s_per_tok * (1.0 + t.kappa * busy);
  if (best_gap) {
    gap_lo[best] = a.done;  // the rest of the gap stays usable
  } else {
    if (best_start > free_at[best]) gap_lo[best] = free_at[best], gap_hi[best] = best_start;
    free_at[best] = a.done;
  }
  return a;
}

// Moves the clock of a server block forward by dt (the next slot starts dt later).
inline void edge_shift(double* block, int max_batch, double dt) {
  for (int k = 0; k < 3 * max_batch; ++k) block[k] = std::max(0.0, block[k] - dt);
}

// Time until a new sequence could start decoding (ignoring gaps and its own prefill).
inline double edge_backlog_s(const double* block, int max_batch) {
  double m = block[0];
  for (int k = 1; k < max_batch; ++k) m = std::min(m, block[k]);
  return m;
}

// Slots decoding at the slot start.
inline int edge_busy_slots(const double* block, int max_batch) {
  int busy = 0;
  for (int k = 0; k < max_batch; ++k) busy += block[k] > 0.0 && !(block[max_batch + k] <= 0.0 && 0.0 < block[2 * max_batch + k]);
  return busy;
}

}  // namespace mecllm::mec
