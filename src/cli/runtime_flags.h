// Flags the runtime commands share (generate, chat, perplexity, bench model): weight and KV cache
// types, load options and the sampler, declared and parsed in one place so every command spells
// and checks them the same way.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>

#include "common/errors.h"
#include "runtime/quant.h"
#include "runtime/sampler.h"
#include "runtime/transformer.h"

namespace mecllm::cli {

// The value of a --type / --kv-type flag.
inline runtime::QuantType parse_quant_type(const std::string& flag, const std::string& value) {
  if (auto t = runtime::quant_type_from_name(value)) return *t;
  throw InputError(fmt::format("{} = '{}', expected f32, f16, bf16, q8_0, q4_0 or q4_k", flag, value));
}

// --type: re-quantisation at load, empty for none.
inline void apply_weight_type(const std::string& type, runtime::LoadOptions& lo) {
  if (!type.empty()) lo.weight_type = parse_quant_type("--type", type);
}

// -t/--threads, -c/--ctx, --type and --kv-type, turned into LoadOptions by options().
struct LoadFlags {
  int threads = 1, ctx = 0;
  std::string type, kv_type = "f32";

  void add_to(CLI::App& app) {
    app.add_option("-t,--threads", threads, "threads (>= 1)")->capture_default_str();
    app.add_option("-c,--ctx", ctx, "context length; 0 = the model's")->capture_default_str();
    app.add_option("--type", type, "re-quantise weights at load: f16, q8_0, q4_0, q4_k");
    app.add_option("--kv-type", kv_type, "KV cache type: f32 or f16")->capture_default_str();
  }
  runtime::LoadOptions options() const {
    runtime::LoadOptions lo;
    lo.n_threads = threads;
    lo.context = ctx;
    lo.kv_type = parse_quant_type("--kv-type", kv_type);
    apply_weight_type(type, lo);
    return lo;
  }
};

// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n and --seed into `s`.
inline void add_sampling_flags(CLI::App& app, runtime::SamplerConfig& s) {
  app.add_option("--temp", s.temperature, "temperature; 0 = greedy")->capture_default_str();
  app.add_option("--top-k", s.top_k, "top-k; 0 = off")->capture_default_str();
  app.add_option("--top-p", s.top_p, "top-p (nucleus); 1 = off")->capture_default_str();
  app.add_option("--min-p", s.min_p, "min-p; 0 = off")->capture_default_str();
  app.add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty; 1 = off")->capture_default_str();
  app.add_option("--repeat-last-n", s.repeat_last_n, "tokens the penalty looks back")->capture_default_str();
  app.add_option("--seed", s.seed, "sampling seed")->capture_default_str();
}

}  // namespace mecllm::cli
