// A LibTorch language model behind a header without LibTorch (pimpl), for tests, evaluation and
// CLI code that only needs logits and greedy decoding. Implemented in transformer_torch.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "llm/qa_eval.h"
#include "runtime/model_config.h"
#include "runtime/tokenizer.h"

namespace mecllm::llm {

class TorchLm {
 public:
  // Loads any checkpoint runtime::ModelFile reads onto `device` ("cpu", "cuda", "cuda:N").
  static TorchLm open(const std::string& model_path, const std::string& device = "cpu");
  TorchLm(TorchLm&&) noexcept;
  TorchLm& operator=(TorchLm&&) noexcept;
  ~TorchLm();

  const runtime::ModelConfig& config() const;

  // Logits of every position of `ids` (one causal pass): (ids.size(), vocab_size) row-major.
  std::vector<float> logits(std::span<const int32_t> ids) const;

  // Greedy continuation of `prompt`: up to max_new_tokens argmax ids, stopping after an id for
  // which stop(id) is true (that id is included). Each step re-runs the whole causal window.
  std::vector<int32_t> generate_greedy(std::vector<int32_t> prompt, int max_new_tokens,
                                       const std::function<bool(int32_t)>& stop = {}) const;

  // Mean next-token negative log-likelihood (nats) over ids[1..], in windows of seq_len.
  // Returns {sum_nll, n_predicted} so callers can pool several documents.
  std::pair<double, int64_t> nll(std::span<const int32_t> ids) const;

 private:
  struct Impl;
  explicit TorchLm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Greedy QA answerer: encodes the prompt with BOS, decodes up to max_new_tokens until EOS or a
// newline, returns the trimmed text.
AnswerFn make_greedy_answerer(const TorchLm& lm, const runtime::Tokenizer& tok, int max_new_tokens = 16);

// Perplexity exp(sum nll / n) of one document per line (each with BOS).
double perplexity(const TorchLm& lm, const runtime::Tokenizer& tok, const std::vector<std::string>& lines,
                  int max_lines = 0);

}  // namespace mecllm::llm
