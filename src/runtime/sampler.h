// Choosing the next token from logits: greedy, or a llama.cpp-style chain
//   repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw
// with every random draw from the seeded mecllm::Rng (same seed, same text).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/rng.h"

namespace mecllm::runtime {

struct SamplerConfig {
  float temperature = 0.8f;     // 0: greedy (argmax); typical 0.1..1.5
  int top_k = 40;               // keep the k most likely; 0: off
  float top_p = 0.95f;          // keep the smallest set with this much probability; 1: off
  float min_p = 0.05f;          // drop tokens below min_p * p(most likely); 0: off
  float repeat_penalty = 1.0f;  // >1 discourages tokens of the last repeat_last_n; 1: off
  int repeat_last_n = 64;       // how many recent tokens the penalty looks at
  uint64_t seed = 0;

  // InputError naming the field and value for out-of-range settings.
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& config);

  // The next token given the logits (vocab floats) and the tokens so far (for the penalty).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  const SamplerConfig& config() const { return config_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };
  SamplerConfig config_;
  Rng rng_;
  std::vector<Candidate> cand_;  // (vocab) scratch
  std::vector<float> penalized_; // (vocab) scratch
};

// Index of the largest logit (the first on ties).
int32_t argmax(std::span<const float> logits);

}  // namespace mecllm::runtime
