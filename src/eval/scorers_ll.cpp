#include "eval/scorers_ll.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "common/errors.h"
#include "common/progress.h"

namespace mecllm::eval {

namespace {
std::string replace_all(std::string s, std::string_view key, std::string_view value) {
  size_t pos = 0;
  while ((pos = s.find(key, pos)) != std::string::npos) {
    s.replace(pos, key.size(), value);
    pos += value.size();
  }
  return s;
}

int argmax_first(const std::vector<double>& v) {
  int best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = static_cast<int>(i);
  return best;
}

double log_sum_exp(const std::vector<double>& v) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : v) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0.0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

std::unique_ptr<Progress> make_bar(bool show, const char* label, size_t total, const char* unit) {
  return show ? std::make_unique<Progress>(label, static_cast<int64_t>(total), unit) : nullptr;
}
}  // namespace

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (char ch : text)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;  // count every non-continuation byte
  return n;
}

double loglikelihood(LanguageModel& model, std::string_view context, std::string_view continuation,
                     const std::string& where) {
  // lm-eval moves the context's trailing spaces onto the continuation, so " Paris" is scored
  // as the word-initial token most tokenizers have.
  std::string ctx(context), cont(continuation);
  size_t n_trailing = ctx.size() - (ctx.find_last_not_of(' ') == std::string::npos ? 0 : ctx.find_last_not_of(' ') + 1);
  if (n_trailing > 0) {
    cont = ctx.substr(ctx.size() - n_trailing) + cont;
    ctx.resize(ctx.size() - n_trailing);
  }
  if (cont.empty()) throw InputError(where + ": empty continuation to score");
  std::vector<int32_t> ctx_ids = model.tokenize(ctx, true);
  std::vector<int32_t> whole = model.tokenize(ctx + cont, true);
  std::vector<int32_t> tokens;
  size_t n_cont = 0;
  if (whole.size() > ctx_ids.size() && std::equal(ctx_ids.begin(), ctx_ids.end(), whole.begin())) {
    tokens = std::move(whole);
    n_cont = tokens.size() - ctx_ids.size();
  } else {
    std::vector<int32_t> cont_ids = model.tokenize(cont, false);
    if (cont_ids.empty()) throw InputError(where + ": continuation '" + cont + "' tokenises to nothing");
    tokens = ctx_ids;
    tokens.insert(tokens.end(), cont_ids.begin(), cont_ids.end());
    n_cont = cont_ids.size();
  }
  size_t limit = static_cast<size_t>(std::max(2, model.context_length()));
  if (n_cont >= limit)
    throw InputError(where + ": continuation of " + std::to_string(n_cont) + " tokens does not fit the model's context of " +
                     std::to_string(limit) + " tokens");
  if (tokens.size() > limit) tokens.erase(tokens.begin(), tokens.end() - static_cast<std::ptrdiff_t>(limit));
  size_t first = tokens.size() - n_cont;
  if (first == 0) {  // no BOS and an empty context: nothing to condition the first token on
    throw InputError(where + ": empty context and the model has no BOS token to condition on");
  }
  std::vector<double> lps = model.token_logprobs(tokens, first);
  MECLLM_CHECK(lps.size() == n_cont, "model returned {} log-probs for {} tokens", lps.size(), n_cont);
  double sum = 0.0;
  for (double lp : lps) sum += lp;
  return sum;
}

McItemScore decide_mc(std::vector<double> logprobs, const std::vector<std::string>& choices) {
  MECLLM_CHECK(logprobs.size() == choices.size() && !choices.empty());
  McItemScore s;
  std::vector<double> norm(logprobs.size());
  for (size_t i = 0; i < choices.size(); ++i)
    norm[i] = logprobs[i] / static_cast<double>(std::max<size_t>(1, utf8_length(choices[i])));
  s.pred = argmax_first(logprobs);
  s.pred_norm = argmax_first(norm);
  s.logprobs = std::move(logprobs);
  return s;
}

McResult score_mc(LanguageModel& model, const std::vector<McItem>& items, const McConfig& cfg, bool show_progress) {
  McResult r;
  auto bar = make_bar(show_progress, "mc", items.size(), "questions");
  int64_t hits = 0, hits_norm = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const McItem& item = items[i];
    std::vector<double> lps;
    for (size_t c = 0; c < item.choices.size(); ++c)
      lps.push_back(loglikelihood(model, item.query, cfg.target_delimiter + item.choices[c],
                                  item.id + ": choice " + std::to_string(c)));
    McItemScore s = decide_mc(std::move(lps), item.choices);
    hits += s.pred == item.gold;
    hits_norm += s.pred_norm == item.gold;
    r.items.push_back(std::move(s));
    if (bar) bar->update(static_cast<int64_t>(i + 1), fmt::format("acc {:.3f}", double(hits) / double(i + 1)));
  }
  if (bar) bar->finish();
  r.n = static_cast<int64_t>(items.size());
  r.acc = r.n ? double(hits) / double(r.n) : 0.0;
  r.acc_norm = r.n ? double(hits_norm) / double(r.n) : 0.0;
  return r;
}

double truthfulqa_mc2(const std::vector<double>& logprobs, const std::vector<int>& labels) {
  MECLLM_CHECK(logprobs.size() == labels.size() && !labels.empty());
  std::vector<double> lp_true;
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == 1) lp_true.push_back(logprobs[i]);
  double all = log_sum_exp(logprobs);
  if (lp_true.empty() || !std::isfinite(all)) return 0.0;
  return std::exp(log_sum_exp(lp_true) - all);
}

TruthfulQaResult score_truthfulqa(LanguageModel& model, const std::vector<TruthfulQaItem>& items,
                                  const TruthfulQaConfig& cfg, bool show_progress) {
  TruthfulQaResult r;
  auto bar = make_bar(show_progress, "truthfulqa", items.size(), "questions");
  int64_t mc1_hits = 0;
  double mc2_sum = 0.0;
  for (size_t i = 0; i < items.size(); ++i) {
    const TruthfulQaItem& item = items[i];
    std::string ctx = replace_all(cfg.prompt_template, "{question}", item.question);
    std::string where = "truthfulqa item " + std::to_string(i);
    std::vector<double> mc1, mc2;
    for (const auto& c : item.mc1_choices) mc1.push_back(loglikelihood(model, ctx, cfg.target_delimiter + c, where));
    for (const auto& c : item.mc2_choices) mc2.push_back(loglikelihood(model, ctx, cfg.target_delimiter + c, where));
    mc1_hits += item.mc1_labels[argmax_first(mc1)] == 1;
    double m2 = truthfulqa_mc2(mc2, item.mc2_labels);
    mc2_sum += m2;
    r.mc2_per_item.push_back(m2);
    if (bar) bar->update(static_cast<int64_t>(i + 1), fmt::format("mc1 {:.3f}", double(mc1_hits) / double(i + 1)));
  }
  if (bar) bar->finish();
  r.n = static_cast<int64_t>(items.size());
  r.mc1 = r.n ? double(mc1_hits) / double(r.n) : 0.0;
  r.mc2 = r.n ? mc2_sum / double(r.n) : 0.0;
  return r;
}

PerplexityResult score_perplexity(LanguageModel& model, const std::string& text, const PerplexityConfig& cfg,
                                  const std::string& path, bool show_progress) {
  int ctx = cfg.ctx > 0 ? cfg.ctx : model.context_length();
  if (ctx > model.context_length())
    throw InputError(path + ": perplexity window ctx = " + std::to_string(ctx) + " exceeds the model's context of " +
                     std::to_string(model.context_length()) + " tokens");
  if (ctx < 4) throw InputError(path + ": perplexity window ctx = " + std::to_string(ctx) + ", expected >= 4");
  std::vector<int32_t> tokens = model.tokenize(text, true);
  int64_t n_chunks = static_cast<int64_t>(tokens.size()) / ctx;
  if (n_chunks == 0)
    throw InputError(path + ": text has " + std::to_string(tokens.size()) + " tokens, expected at least one window of ctx = " +
                     std::to_string(ctx));
  if (cfg.max_chunks > 0) n_chunks = std::min<int64_t>(n_chunks, cfg.max_chunks);
  const size_t first = static_cast<size_t>(ctx / 2 + 1);  // llama.cpp: logits from ctx/2 on predict ctx/2+1 on
  const int32_t bos = model.bos_token();
  auto bar = make_bar(show_progress, "perplexity", static_cast<size_t>(n_chunks), "windows");
  std::vector<double> nll;
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> window(tokens.begin() + c * ctx, tokens.begin() + (c + 1) * ctx);
    if (bos >= 0) window[0] = bos;
    std::vector<double> lps = model.token_logprobs(window, first);
    MECLLM_CHECK(lps.size() == window.size() - first, "model returned {} log-probs, expected {}", lps.size(),
                 window.size() - first);
    for (double lp : lps) nll.push_back(-lp);
    if (bar) {
      double m = 0;
      for (double x : nll) m += x;
      bar->update(c + 1, fmt::format("ppl {:.3f}", std::exp(m / double(nll.size()))));
    }
  }
  if (bar) bar->finish();
  PerplexityResult r;
  r.ctx = ctx;
  r.n_chunks = n_chunks;
  r.n_tokens_scored = static_cast<int64_t>(nll.size());
  double sum = 0.0;
  for (double x : nll) sum += x;
  r.mean_nll = sum / double(nll.size());
  double var = 0.0;
  for (double x : nll) var += (x - r.mean_nll) * (x - r.mean_nll);
  var = nll.size() > 1 ? var / double(nll.size() - 1) : 0.0;
  r.ppl = std::exp(r.mean_nll);
  r.ppl_stderr = r.ppl * std::sqrt(var / double(nll.size()));
  return r;
}

}  // namespace mecllm::eval
