// The LLM task of mec-model.md: a bundle of J prompts (J uniform in [prompts_min, prompts_max]),
// each with log-normal input/output token lengths clipped to [tokens_min, tokens_max] and a
// log-normal attached context clipped to [0, context_bytes_max], plus one difficulty class.
#pragma once

#include <algorithm>
#include <cmath>

#include "common/rng.h"
#include "mec/channel.h"
#include "mec/scenario.h"

namespace mecllm::mec {

struct TaskSums {
  int prompts = 0;
  int difficulty = 0;  // 0 easy, 1 medium, 2 hard
  double input_tokens = 0, output_tokens = 0, context_bytes = 0;
};

// Draws one task into the per-prompt arrays (each of at least prompts_max entries); context is
// stored in bits (what the uplink sends). Returns the totals.
inline TaskSums sample_task(const WorkloadConfig& wl, Rng& rng, PolarNormal& normal, double* in_tok, double* out_tok,
                            double* ctx_bits) {
  TaskSums t;
  t.prompts = wl.prompts_min + static_cast<int>(rng.below(uint64_t(wl.prompts_max - wl.prompts_min + 1)));
  double u = rng.uniform();
  t.difficulty = u < wl.difficulty_mix[0] ? 0 : u < wl.difficulty_mix[0] + wl.difficulty_mix[1] ? 1 : 2;
  for (int j = 0; j < t.prompts; ++j) {
    in_tok[j] = std::clamp(wl.input_tokens_median * std::exp(wl.tokens_sigma * normal(rng)), wl.tokens_min, wl.tokens_max);
    out_tok[j] = std::clamp(wl.output_tokens_median * std::exp(wl.tokens_sigma * normal(rng)), wl.tokens_min, wl.tokens_max);
    double ctx = std::clamp(wl.context_bytes_median * std::exp(wl.context_sigma * normal(rng)), 0.0, wl.context_bytes_max);
    ctx_bits[j] = 8.0 * ctx;
    t.input_tokens += in_tok[j], t.output_tokens += out_tok[j], t.context_bytes += ctx;
  }
  return t;
}

}  // namespace mecllm::mec
