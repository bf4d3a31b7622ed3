// Perplexity as llama.cpp's `perplexity` tool defines it: the text is tokenized once (BOS
// first), cut into windows of ctx tokens whose first token is replaced by BOS, and only the
// second half of each window is scored, so every scored token sees at least ctx/2 tokens of
// context. With a reference model (e.g. the F32 original of a quantised file) the same
// positions also give the mean KL divergence KL(ref || model) and the top-1 agreement.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "runtime/tokenizer.h"
#include "runtime/transformer.h"

namespace mecllm::runtime {

struct PerplexityOptions {
  int ctx = 512;        // window length in tokens (<= the models' context)
  int max_chunks = 0;   // windows to score at most; 0: all
  bool progress = true; // progress bar on stderr
};

struct PerplexityResult {
  double ppl = 0;            // exp(mean negative log-likelihood)
  double nll = 0;            // mean negative log-likelihood (nats per token)
  double nll_sd = 0;         // its standard deviation over scored tokens
  int64_t n_scored = 0;      // tokens scored
  int n_chunks = 0;
  int ctx = 0;
  bool has_ref = false;
  double ref_ppl = 0;        // perplexity of the reference model on the same positions
  double kl_mean = 0;        // mean KL(ref || model), nats
  double top1_agreement = 0; // share of positions where both argmaxes agree
  nlohmann::json to_json() const;
};

// InputError when the text has fewer than ctx tokens or ctx exceeds a model's context.
PerplexityResult perplexity(Transformer& model, const Tokenizer& tokenizer, std::string_view text,
                            const PerplexityOptions& options, Transformer* reference = nullptr);

}  // namespace mecllm::runtime
