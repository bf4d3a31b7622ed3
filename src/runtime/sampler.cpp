#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"

namespace mecllm::runtime {

void SamplerConfig::validate() const {
  auto bad = [](const char* key, auto value, const char* expected) {
    throw InputError(fmt::format("sampler: {} = {}, expected {}", key, value, expected));
  };
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) bad("temperature", temperature, ">= 0 (0 is greedy)");
  if (top_k < 0) bad("top_k", top_k, ">= 0 (0 is off)");
  if (!(top_p > 0.0f && top_p <= 1.0f)) bad("top_p", top_p, "in (0, 1] (1 is off)");
  if (!(min_p >= 0.0f && min_p < 1.0f)) bad("min_p", min_p, "in [0, 1) (0 is off)");
  if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) bad("repeat_penalty", repeat_penalty, "> 0 (1 is off)");
  if (repeat_last_n < 0) bad("repeat_last_n", repeat_last_n, ">= 0");
}

int32_t argmax(std::span<const float> logits) {
  MECLLM_CHECK(!logits.empty(), "argmax of no logits");
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplerConfig& config) : config_(config), rng_(config.seed) { config_.validate(); }

int32_t Sampler::sample(std::span<const float> logits_in, std::span<const int32_t> history) {
  const size_t V = logits_in.size();
  MECLLM_CHECK(V > 0, "sample from no logits");
  std::span<const float> logits = logits_in;

  // Repetition penalty as llama.cpp (CTRL paper, Keskar et al. 2019): a recent token's logit
  // is divided by the penalty when positive and multiplied when negative.
  if (config_.repeat_penalty != 1.0f && config_.repeat_last_n > 0 && !history.empty()) {
    penalized_.assign(logits_in.begin(), logits_in.end());
    const size_t n = std::min(history.size(), static_cast<size_t>(config_.repeat_last_n));
    std::vector<bool> seen(V, false);
    for (size_t i = history.size() - n; i < history.size(); ++i) {
      const int32_t id = history[i];
      if (id < 0 || static_cast<size_t>(id) >= V || seen[static_cast<size_t>(id)]) continue;
      seen[static_cast<size_t>(id)] = true;
      float& l = penalized_[static_cast<size_t>(id)];
      l = l > 0 ? l / config_.repeat_penalty : l * config_.repeat_penalty;
    }
    logits = penalized_;
  }

  if (config_.temperature == 0.0f) return argmax(logits);

  // Candidates sorted by logit (descending; ties by id for determinism), cut to top-k.
  cand_.resize(V);
  for (size_t i = 0; i < V; ++i) cand_[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  size_t n = V;
  if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < V) {
    n = static_cast<size_t>(config_.top_k);
    std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(n), cand_.end(), by_logit);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }

  // Probabilities of the kept candidates (before temperature, as llama.cpp's top-p/min-p).
  auto softmax_n = [&](size_t count, float temp) {
    const float mx = cand_[0].logit;
    double sum = 0;
    for (size_t i = 0; i < count; ++i) {
      cand_[i].p = std::exp((cand_[i].logit - mx) / temp);
      sum += cand_[i].p;
    }
    for (size_t i = 0; i < count; ++i) cand_[i].p = static_cast<float>(cand_[i].p / sum);
  };
  softmax_n(n, 1.0f);

  // top-p (Holtzman et al. 2020): the smallest prefix whose mass reaches top_p
  if (config_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += cand_[i].p;
      if (cum >= config_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  // min-p: drop tokens less likely than min_p times the most likely one
  if (config_.min_p > 0.0f) {
    const float floor = config_.min_p * cand_[0].p;
    size_t keep = 1;
    while (keep < n && cand_[keep].p >= floor) ++keep;
    n = keep;
  }

  // temperature, then one draw from the renormalised distribution
  softmax_n(n, config_.temperature);
  const double u = rng_.uniform();
  double cum = 0;
  for (size_t i = 0; i < n; ++i) {
    cum += cand_[i].p;
    if (u < cum) return cand_[i].id;
  }
  return cand_[n - 1].id;  // rounding left u above the total
}

}  // namespace mecllm::runtime
