// mecllm synth-model --shape 110M --out F [--type q8_0] [--seed S]
//   A random-weight Llama-shaped checkpoint (GGUF when F ends in .gguf, else llama2.c) for
//   speed measurements where no real model of that size is at hand.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "common/errors.h"
#include "runtime/synth_model.h"

namespace {

using namespace mecllm::runtime;

void setup(CLI::App& app) {
  struct Args {
    std::string shape = "110M", out, type = "f32";
    uint64_t seed = 1;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--shape", a->shape, "260K, 15M, 42M or 110M (llama2.c tinyllamas shapes)")->capture_default_str();
  app.add_option("--out", a->out, "output file: *.gguf (any type) or llama2.c .bin (f32)")->required();
  app.add_option("--type", a->type, "weight type: f32, f16, bf16, q8_0, q4_0, q4_k")->capture_default_str();
  app.add_option("--seed", a->seed, "weight seed")->capture_default_str();
  app.callback([a] {
    SynthOptions opt;
    opt.shape = a->shape;
    opt.seed = a->seed;
    const auto t = quant_type_from_name(a->type);
    if (!t) throw mecllm::InputError(fmt::format("--type = '{}', expected f32, f16, bf16, q8_0, q4_0 or q4_k", a->type));
    opt.type = *t;
    const auto config = write_synth_model(a->out, opt);
    std::cout << fmt::format("wrote {} ({} bytes): {}, {} parameters, {}\n", a->out, std::filesystem::file_size(a->out),
                             config.summary(), config.parameter_count(), a->type);
  });
}

}  // namespace

static const mecllm::cli::Registrar reg{"synth-model", "write a random-weight Llama-shaped checkpoint", &setup};
