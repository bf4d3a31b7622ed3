// A language model whose every answer and log-probability the test sets by hand: bytes are
// tokens (id = byte value), BOS is 256. Continuations not in the table get a per-byte default
// (`per_byte`, overridable per byte), so perplexity results can be computed by hand.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/errors.h"
#include "eval/language_model.h"

namespace mecllm::eval::testing {

class FakeModel : public LanguageModel {
 public:
  static constexpr int32_t kBos = 256;

  std::map<std::string, double> continuation_logprob;  // total log p of a continuation text
  std::map<char, double> byte_logprob;                 // per-byte log p when not in the table
  double default_byte_logprob = -1.0;
  std::map<std::string, std::string> answers;          // prompt -> greedy answer
  int32_t ctx = 64;
  bool has_bos = true;

  // What the scorers asked for, to check how they tokenised.
  std::vector<std::string> seen_contexts;
  std::vector<std::string> seen_continuations;
  std::vector<std::vector<int32_t>> seen_windows;

  std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> ids;
    if (add_bos && has_bos) ids.push_back(kBos);
    for (char c : text) ids.push_back(static_cast<unsigned char>(c));
    return ids;
  }
  int32_t context_length() const override { return ctx; }
  int32_t bos_token() const override { return has_bos ? kBos : -1; }

  std::vector<double> token_logprobs(std::span<const int32_t> tokens, size_t first) override {
    MECLLM_CHECK(first >= 1 && first <= tokens.size() && tokens.size() <= size_t(ctx));
    seen_windows.emplace_back(tokens.begin(), tokens.end());
    std::string context = text_of(tokens.subspan(0, first));
    std::string cont = text_of(tokens.subspan(first));
    seen_contexts.push_back(context);
    seen_continuations.push_back(cont);
    std::vector<double> out;
    auto it = continuation_logprob.find(cont);
    size_t n = tokens.size() - first;
    for (size_t i = first; i < tokens.size(); ++i) {
      if (it != continuation_logprob.end()) {
        out.push_back(it->second / double(n));
      } else {
        auto b = byte_logprob.find(static_cast<char>(tokens[i]));
        out.push_back(b != byte_logprob.end() ? b->second : default_byte_logprob);
      }
    }
    return out;
  }

  std::string generate_greedy(std::string_view prompt, int32_t, std::span<const std::string>) override {
    auto it = answers.find(std::string(prompt));
    if (it == answers.end()) throw InternalError("fake model: no answer for prompt '" + std::string(prompt) + "'");
    return it->second;
  }
  std::string name() const override { return "fake"; }

 private:
  static std::string text_of(std::span<const int32_t> ids) {
    std::string s;
    for (int32_t id : ids)
      if (id != kBos) s += static_cast<char>(id);
    return s;
  }
};

}  // namespace mecllm::eval::testing
