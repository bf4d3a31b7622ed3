// mecllm generate -m MODEL -p TEXT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//                 [--repeat-penalty R] [--seed S] [--threads T] [--ctx C] [--stop S]...
//                 [--type q8_0] [--kv-type f16] [--tokenizer F] [--no-bos]
//   Streams the continuation of the prompt to stdout; speed and stop reason go to stderr.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "common/errors.h"
#include "runtime/generate.h"

namespace {

using namespace mecllm::runtime;

struct Args {
  std::string model, prompt, tokenizer, type, kv_type = "f32";
  int n = 128, threads = 1, ctx = 0;
  bool no_bos = false;
  std::vector<std::string> stop;
  SamplerConfig sampler;
};

QuantType parse_type(const std::string& flag, const std::string& value) {
  if (auto t = quant_type_from_name(value)) return *t;
  throw mecllm::InputError(fmt::format("{} = '{}', expected f32, f16, bf16, q8_0, q4_0 or q4_k", flag, value));
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->model, "model file (GGUF, llama2.c .bin, safetensors, HF dir)")->required();
  app.add_option("-p,--prompt", a->prompt, "prompt text")->required();
  app.add_option("-n,--n-predict", a->n, "tokens to generate at most")->capture_default_str();
  app.add_option("--temp", a->sampler.temperature, "temperature; 0 = greedy")->capture_default_str();
  app.add_option("--top-k", a->sampler.top_k, "top-k; 0 = off")->capture_default_str();
  app.add_option("--top-p", a->sampler.top_p, "top-p (nucleus); 1 = off")->capture_default_str();
  app.add_option("--min-p", a->sampler.min_p, "min-p; 0 = off")->capture_default_str();
  app.add_option("--repeat-penalty", a->sampler.repeat_penalty, "repetition penalty; 1 = off")->capture_default_str();
  app.add_option("--repeat-last-n", a->sampler.repeat_last_n, "tokens the penalty looks back")->capture_default_str();
  app.add_option("--seed", a->sampler.seed, "sampling seed")->capture_default_str();
  app.add_option("-t,--threads", a->threads, "threads (>= 1)")->capture_default_str();
  app.add_option("-c,--ctx", a->ctx, "context length; 0 = the model's")->capture_default_str();
  app.add_option("--stop", a->stop, "stop string (repeatable)");
  app.add_option("--type", a->type, "re-quantise weights at load: f16, q8_0, q4_0, q4_k");
  app.add_option("--kv-type", a->kv_type, "KV cache type: f32 or f16")->capture_default_str();
  app.add_option("--tokenizer", a->tokenizer, "tokenizer file; default: found from the model");
  app.add_flag("--no-bos", a->no_bos, "do not prepend BOS");
  app.callback([a] {
    LoadOptions lo;
    lo.n_threads = a->threads;
    lo.context = a->ctx;
    lo.kv_type = parse_type("--kv-type", a->kv_type);
    if (!a->type.empty()) lo.weight_type = parse_type("--type", a->type);
    Transformer model = Transformer::load(a->model, lo);
    for (const auto& note : model.notes()) std::fprintf(stderr, "note: %s\n", note.c_str());
    const auto tok = tokenizer_for_model(model.file(), a->tokenizer);
    GenerateOptions opt;
    opt.max_tokens = a->n;
    opt.sampler = a->sampler;
    opt.stop = a->stop;
    opt.add_bos = !a->no_bos;
    std::cout << a->prompt << std::flush;
    const GenerateResult r = generate(model, *tok, a->prompt, opt, [](std::string_view piece) {
      std::cout << piece << std::flush;
      return true;
    });
    std::cout << "\n";
    std::cerr << fmt::format("prompt {} tokens at {:.1f} tok/s; generated {} tokens at {:.1f} tok/s; stop: {}\n",
                             r.n_prompt, r.prompt_tps(), r.tokens.size(), r.gen_tps(), r.stop_reason);
  });
}

}  // namespace

static const mecllm::cli::Registrar reg{"generate", "generate text from a prompt (CPU runtime)", &setup};
