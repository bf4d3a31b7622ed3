#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "common/errors.h"
#include "common/progress.h"

namespace mecllm::runtime {

nlohmann::json PerplexityResult::to_json() const {
  nlohmann::json j = {{"ppl", ppl}, {"nll", nll}, {"nll_sd", nll_sd}, {"n_scored", n_scored}, {"n_chunks", n_chunks},
                      {"ctx", ctx}};
  if (has_ref) {
    j["ref_ppl"] = ref_ppl;
    j["kl_mean"] = kl_mean;
    j["top1_agreement"] = top1_agreement;
  }
  return j;
}

namespace {

// log-softmax of one logit row into out (double for the long sums)
void log_softmax(std::span<const float> x, std::vector<double>& out) {
  const double mx = *std::max_element(x.begin(), x.end());
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v) - mx);
  const double lse = mx + std::log(s);
  out.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<double>(x[i]) - lse;
}

}  // namespace

PerplexityResult perplexity(Transformer& model, const Tokenizer& tokenizer, std::string_view text,
                            const PerplexityOptions& opt, Transformer* ref) {
  const int ctx = opt.ctx;
  // positions ctx/2 .. ctx-2 predict the scored tokens: ctx = 2 would score none
  if (ctx < 3) throw InputError(fmt::format("perplexity: ctx = {}, expected at least 3 (a window scores its second half)", ctx));
  if (ctx > model.context_length()) {
    throw InputError(fmt::format("perplexity: ctx = {} exceeds the model's context of {}", ctx, model.context_length()));
  }
  if (ref != nullptr) {
    if (ctx > ref->context_length()) {
      throw InputError(fmt::format("perplexity: ctx = {} exceeds the reference model's context of {}", ctx,
                                   ref->context_length()));
    }
    if (ref->config().vocab_size != model.config().vocab_size) {
      throw InputError(fmt::format("perplexity: reference vocabulary {} differs from the model's {}",
                                   ref->config().vocab_size, model.config().vocab_size));
    }
  }
  const std::vector<int32_t> tokens = tokenizer.encode(text, true);
  const int64_t n_avail = static_cast<int64_t>(tokens.size()) / ctx;
  if (n_avail < 1) {
    throw InputError(fmt::format("perplexity: the text has {} tokens, fewer than one window of ctx = {}", tokens.size(), ctx));
  }
  const int n_chunks = static_cast<int>(opt.max_chunks > 0 ? std::min<int64_t>(n_avail, opt.max_chunks) : n_avail);
  const int first = ctx / 2;
  const size_t V = static_cast<size_t>(model.config().vocab_size);
  const int32_t bos = tokenizer.bos_id() >= 0 ? tokenizer.bos_id() : tokens[0];

  PerplexityResult r;
  r.ctx = ctx;
  r.n_chunks = n_chunks;
  r.has_ref = ref != nullptr;
  double sum = 0, sum_sq = 0, ref_sum = 0, kl_sum = 0;
  int64_t agree = 0;
  std::vector<double> lp, lq;
  std::vector<float> ref_logits;
  std::unique_ptr<Progress> bar;
  if (opt.progress) bar = std::make_unique<Progress>("perplexity", n_chunks, "windows");
  for (int c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> window(tokens.begin() + static_cast<std::ptrdiff_t>(c) * ctx,
                                tokens.begin() + static_cast<std::ptrdiff_t>(c + 1) * ctx);
    window[0] = bos;
    if (ref != nullptr) {
      const auto rl = ref->forward(window, 0, true);
      ref_logits.assign(rl.begin(), rl.end());
    }
    const auto logits = model.forward(window, 0, true);
    for (int j = first; j < ctx - 1; ++j) {
      const int32_t target = tokens[static_cast<size_t>(c) * ctx + static_cast<size_t>(j) + 1];
      log_softmax(logits.subspan(static_cast<size_t>(j) * V, V), lq);
      const double nll = -lq[static_cast<size_t>(target)];
      if (!std::isfinite(nll)) {
        throw InputError(fmt::format("perplexity: {}: non-finite log-probability in window {} at position {}: the "
                                     "model's weights hold NaN or Inf (a corrupt or diverged checkpoint)",
                                     model.file().path(), c + 1, j));
      }
      sum += nll;
      sum_sq += nll * nll;
      ++r.n_scored;
      if (ref != nullptr) {
        const std::span<const float> row(ref_logits.data() + static_cast<size_t>(j) * V, V);
        log_softmax(row, lp);
        ref_sum += -lp[static_cast<size_t>(target)];
        double kl = 0;
        for (size_t i = 0; i < V; ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
        kl_sum += kl;
        const auto am = [](const std::vector<double>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); };
        agree += am(lp) == am(lq);
      }
    }
    if (bar) bar->update(c + 1, fmt::format("ppl {:.4f}", std::exp(sum / static_cast<double>(r.n_scored))));
  }
  if (bar) bar->finish();
  const double n = static_cast<double>(r.n_scored);
  r.nll = sum / n;
  r.nll_sd = std::sqrt(std::max(0.0, sum_sq / n - r.nll * r.nll));
  r.ppl = std::exp(r.nll);
  if (ref != nullptr) {
    r.ref_ppl = std::exp(ref_sum / n);
    r.kl_mean = kl_sum / n;
    r.top1_agreement = static_cast<double>(agree) / n;
  }
  return r;
}

}  // namespace mecllm::runtime
