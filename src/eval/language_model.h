// The one interface every scorer talks to, so the runtime engine, a remote server or a test's
// fake model plug in the same way. Scorers never see logits: they ask for the log-probability
// of given tokens (multiple choice, perplexity) or for a greedy answer (generation QA).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mecllm::eval {

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // Token ids of `text`; add_bos prepends the model's BOS token when it has one.
  virtual std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const = 0;

  // Longest sequence the model accepts in one forward pass (the context window).
  virtual int32_t context_length() const = 0;

  // The beginning-of-sequence id, or -1 when the vocabulary has none (perplexity windows
  // start with it, as llama.cpp's do).
  virtual int32_t bos_token() const = 0;

  // log p(tokens[i] | tokens[0..i)) for every i in [first, tokens.size()), natural log;
  // the result has tokens.size() - first entries. Requires 1 <= first <= tokens.size() and
  // tokens.size() <= context_length() (callers check; implementations may MECLLM_CHECK).
  virtual std::vector<double> token_logprobs(std::span<const int32_t> tokens, size_t first) = 0;

  // Greedy continuation of `prompt` (the prompt itself not included), at most max_tokens
  // tokens, cut before the first occurrence of any stop string. Deterministic.
  virtual std::string generate_greedy(std::string_view prompt, int32_t max_tokens,
                                      std::span<const std::string> stop) = 0;

  // Short identification for reports ("stories260K.bin (llama2.c, f32)").
  virtual std::string name() const = 0;
};

}  // namespace mecllm::eval
