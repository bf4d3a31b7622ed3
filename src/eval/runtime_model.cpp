#include "eval/runtime_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/clock.h"
#include "common/errors.h"
#include "common/rng.h"
#include "runtime/generate.h"
#include "runtime/tokenizer.h"
#include "runtime/transformer.h"

namespace mecllm::eval {

RuntimeModel::RuntimeModel(const RuntimeModelOptions& options) : options_(options) {
  runtime::LoadOptions lo;
  lo.n_threads = std::max(1, options.threads);
  if (!options.weight_type.empty()) {
    auto t = runtime::quant_type_from_name(options.weight_type);
    if (!t) throw InputError("--weight-type '" + options.weight_type + "': expected f32, f16, q8_0, q4_0 or q4_k");
    lo.weight_type = *t;
  }
  model_ = std::make_unique<runtime::Transformer>(runtime::Transformer::load(options.model_path, lo));
  tokenizer_ = runtime::tokenizer_for_model(model_->file(), options.tokenizer_path);
}

RuntimeModel::~RuntimeModel() = default;

std::vector<int32_t> RuntimeModel::tokenize(std::string_view text, bool add_bos) const {
  return tokenizer_->encode(text, add_bos);
}
int32_t RuntimeModel::context_length() const { return model_->context_length(); }
int32_t RuntimeModel::bos_token() const { return tokenizer_->bos_id(); }
std::string RuntimeModel::name() const { return std::filesystem::path(options_.model_path).stem().string(); }

std::vector<double> RuntimeModel::token_logprobs(std::span<const int32_t> tokens, size_t first) {
  MECLLM_CHECK(first >= 1 && first <= tokens.size() && tokens.size() <= size_t(context_length()));
  // One batched forward from position 0 (it rewrites the cache for every position it covers).
  std::span<const float> logits = model_->forward(tokens, 0, /*all_logits=*/true);
  const size_t vocab = static_cast<size_t>(model_->config().vocab_size);
  std::vector<double> out;
  out.reserve(tokens.size() - first);
  for (size_t i = first; i < tokens.size(); ++i) {
    const float* row = logits.data() + (i - 1) * vocab;  // logits at i-1 predict token i
    double m = *std::max_element(row, row + vocab);
    double s = 0.0;
    for (size_t v = 0; v < vocab; ++v) s += std::exp(double(row[v]) - m);
    out.push_back(double(row[tokens[i]]) - m - std::log(s));
  }
  return out;
}

std::string RuntimeModel::generate_greedy(std::string_view prompt, int32_t max_tokens, std::span<const std::string> stop) {
  runtime::GenerateOptions go;
  go.max_tokens = max_tokens;
  go.sampler.temperature = 0.0f;
  go.stop.assign(stop.begin(), stop.end());
  return runtime::generate(*model_, *tokenizer_, prompt, go).text;
}

ModelFootprint RuntimeModel::footprint() const {
  const auto& f = model_->file();
  const auto& c = model_->config();
  ModelFootprint m;
  m.name = name();
  m.n_params = c.parameter_count();
  m.weight_bytes = double(f.tensor_bytes());
  if (const auto* e = f.find("token_embd.weight")) m.token_embd_bytes = double(e->data.size());
  if (!options_.weight_type.empty()) {
    // Re-quantised at load: the bytes that matter are the engine's, not the file's.
    const auto& w = model_->weights();
    double bytes = double(w.token_embd.bytes()) + 4.0 * double(w.output_norm.size());
    if (!c.tied_embeddings) bytes += double(w.output.bytes());
    for (const auto& l : w.layers) {
      for (const auto* mat : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_down, &l.w_up}) bytes += double(mat->bytes());
      bytes += 4.0 * double(l.attn_norm.size() + l.ffn_norm.size() + l.bq.size() + l.bk.size() + l.bv.size() +
                            l.q_norm.size() + l.k_norm.size());
    }
    m.weight_bytes = bytes;
    m.token_embd_bytes = double(w.token_embd.bytes());
  }
  m.tied_embeddings = c.tied_embeddings;
  m.n_layers = c.n_layers;
  m.kv_dim = c.kv_dim();
  m.q_dim = c.q_dim();
  m.seq_len = c.seq_len;
  m.vocab_size = c.vocab_size;
  m.dim = c.dim;
  return m;
}

std::string RuntimeModel::arch_summary() const {
  return model_->config().summary() + ", " + std::string(runtime::format_name(model_->file().format())) + ", " +
         std::string(runtime::traits(model_->weight_type()).name);
}

double RuntimeModel::kv_elem_bytes() const { return model_->kv_type() == runtime::QuantType::F16 ? 2.0 : 4.0; }

HostSpeed RuntimeModel::measure_speed(int prompt_tokens, int output_tokens, int reps, uint64_t seed) {
  const int ctx = context_length();
  HostSpeed best;
  best.prompt_tokens = std::clamp(prompt_tokens, 1, std::max(1, ctx / 2));
  best.output_tokens = std::clamp(output_tokens, 1, ctx - best.prompt_tokens);
  Rng rng(seed);
  const int vocab = model_->config().vocab_size;
  for (int r = 0; r < std::max(1, reps); ++r) {
    std::vector<int32_t> prompt(static_cast<size_t>(best.prompt_tokens));
    for (auto& t : prompt) t = static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab)));
    auto t0 = SteadyClock::now();
    std::span<const float> logits = model_->forward(prompt, 0);
    auto t1 = SteadyClock::now();
    int pos = best.prompt_tokens;
    for (int i = 0; i < best.output_tokens; ++i, ++pos) {
      int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      logits = model_->forward(next, pos);
    }
    auto t2 = SteadyClock::now();
    double pre = mecllm::seconds_between(t0, t1);
    double dec = mecllm::seconds_between(t1, t2);
    if (r == 0 || pre + dec < best.prefill_s + best.decode_s) {
      best.prefill_s = pre;
      best.decode_s = dec;
    }
  }
  return best;
}

}  // namespace mecllm::eval
