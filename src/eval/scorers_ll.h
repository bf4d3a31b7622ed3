// Log-likelihood scorers: multiple choice the lm-evaluation-harness way, TruthfulQA MC1/MC2,
// and perplexity the llama.cpp way. Definitions (with sources) are in docs/eval.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "eval/language_model.h"
#include "eval/tasks.h"

namespace mecllm::eval {

// Sum of log p(continuation | context), natural log, tokenised as lm-evaluation-harness's
// _encode_pair does: trailing spaces of the context move to the front of the continuation;
// the continuation's tokens are those of tokenize(context + continuation) after the tokens
// of tokenize(context) (when that prefix does not survive joint tokenisation, the
// continuation is tokenised alone). Over-long inputs keep their last context_length() tokens.
// `where` names the item in errors.
double loglikelihood(LanguageModel& model, std::string_view context, std::string_view continuation,
                     const std::string& where);

// Unicode code points of UTF-8 text (what Python's len() counts): acc_norm's length.
size_t utf8_length(std::string_view text);

struct McConfig {
  std::string target_delimiter = " ";  // put between the query and each choice (lm-eval's default)
  template <class V>
  void visit(V& v) {
    v("target_delimiter", target_delimiter, "text between the query and each choice");
  }
};

struct McItemScore {
  std::vector<double> logprobs;  // (n_choices) sum log p of each choice
  int pred = 0;                  // argmax logprobs (first on ties, as numpy.argmax)
  int pred_norm = 0;             // argmax logprobs / utf8_length(choice)
};

struct McResult {
  int64_t n = 0;
  double acc = 0.0;       // share with pred == gold
  double acc_norm = 0.0;  // share with pred_norm == gold
  std::vector<McItemScore> items;
};

McResult score_mc(LanguageModel& model, const std::vector<McItem>& items, const McConfig& cfg,
                  bool show_progress = false);
// The decision rule alone, on given log-likelihoods (for tests and re-scoring).
McItemScore decide_mc(std::vector<double> logprobs, const std::vector<std::string>& choices);

struct TruthfulQaConfig {
  std::string prompt_template = "Q: {question}\nA:";  // zero-shot; {question} is replaced
  std::string target_delimiter = " ";
  template <class V>
  void visit(V& v) {
    v("prompt_template", prompt_template, "context before each choice; {question} is replaced");
    v("target_delimiter", target_delimiter, "text between the prompt and each choice");
  }
};

struct TruthfulQaResult {
  int64_t n = 0;
  double mc1 = 0.0;  // share of questions whose highest-likelihood MC1 choice is the true one
  double mc2 = 0.0;  // mean normalised probability mass on the true MC2 choices
  // Hallucination in the MC1 style of ecld.md: the share choosing a false option (1 - mc1).
  double hallucination_rate() const { return n ? 1.0 - mc1 : 0.0; }
  std::vector<double> mc2_per_item;
};

// MC2 of one question from the log-likelihoods of its choices (log-sum-exp, so very negative
// log-likelihoods do not underflow to 0/0).
double truthfulqa_mc2(const std::vector<double>& logprobs, const std::vector<int>& labels);

TruthfulQaResult score_truthfulqa(LanguageModel& model, const std::vector<TruthfulQaItem>& items,
                                  const TruthfulQaConfig& cfg, bool show_progress = false);

struct PerplexityConfig {
  int ctx = 512;        // window length in tokens; 0: the model's context length
  int max_chunks = 0;   // 0: every full window of the text
  template <class V>
  void visit(V& v) {
    v("ctx", ctx, "window length in tokens (0: the model's context)");
    v("max_chunks", max_chunks, "score at most this many windows (0: all)");
  }
  void validate(const config::ConfigErrors& err) const {
    err.require(ctx == 0 || ctx >= 4, "ctx", "must be 0 or >= 4");
    err.require(max_chunks >= 0, "max_chunks", "must be >= 0");
  }
};

struct PerplexityResult {
  double ppl = 0.0;           // exp(mean negative log-likelihood)
  double ppl_stderr = 0.0;    // ppl x standard error of the mean NLL (delta method)
  double mean_nll = 0.0;
  int64_t n_tokens_scored = 0;
  int64_t n_chunks = 0;
  int ctx = 0;
};

// llama.cpp perplexity: split the tokenised text into windows of ctx tokens (the first token
// of each replaced by BOS when the model has one), score only the second half of each window
// (tokens ctx/2+1 .. ctx-1, each seeing at least ctx/2 tokens of context). `path` names the
// text in errors (a text shorter than one window is an InputError).
PerplexityResult score_perplexity(LanguageModel& model, const std::string& text, const PerplexityConfig& cfg,
                                  const std::string& path, bool show_progress = false);

}  // namespace mecllm::eval
