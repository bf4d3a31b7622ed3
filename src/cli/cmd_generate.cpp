// mecllm generate -m MODEL -p TEXT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]
//                 [--repeat-penalty R] [--seed S] [--threads T] [--ctx C] [--stop S]...
//                 [--type q8_0] [--kv-type f16] [--tokenizer F] [--no-bos]
//   Streams the continuation of the prompt to stdout; speed and stop reason go to stderr.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "cli/runtime_flags.h"
#include "runtime/generate.h"

namespace {

using namespace mecllm::runtime;

struct Args {
  std::string model, prompt, tokenizer;
  int n = 128;
  bool no_bos = false;
  std::vector<std::string> stop;
  mecllm::cli::LoadFlags load;
  SamplerConfig sampler;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->model, "model file (GGUF, llama2.c .bin, safetensors, HF dir)")->required();
  app.add_option("-p,--prompt", a->prompt, "prompt text")->required();
  app.add_option("-n,--n-predict", a->n, "tokens to generate at most")->capture_default_str();
  mecllm::cli::add_sampling_flags(app, a->sampler);
  a->load.add_to(app);
  app.add_option("--stop", a->stop, "stop string (repeatable)");
  app.add_option("--tokenizer", a->tokenizer, "tokenizer file; default: found from the model");
  app.add_flag("--no-bos", a->no_bos, "do not prepend BOS");
  app.callback([a] {
    Transformer model = Transformer::load(a->model, a->load.options());
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
