// mecllm convert IN OUT [--type f32|f16|bf16|q8_0|q4_0|q4_k] [--tokenizer FILE]
//   Any checkpoint format to any other: llama2.c .bin, GGUF .gguf, .safetensors (config.json
//   beside it), or a Hugging Face directory (OUT ending in '/'). The output format comes from
//   OUT's name; without --type the source types are kept where the output can hold them.
//   Examples:
//     mecllm convert stories260K.bin stories.gguf --tokenizer tok512.bin
//     mecllm convert stories.gguf stories-q8.gguf --type q8_0
//     mecllm convert stories.gguf hf/            (config.json + model.safetensors)
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "runtime/model_convert.h"

namespace {

void setup(CLI::App& app) {
  auto opt = std::make_shared<mecllm::runtime::ConvertOptions>();
  app.add_option("input", opt->input, "source: llama2.c .bin, .gguf, .safetensors or a Hugging Face directory")->required();
  app.add_option("output", opt->output, "destination: .gguf, .bin (llama2.c, f32), .safetensors, or DIR/ (Hugging Face)")
      ->required();
  app.add_option("--type", opt->type,
                 "matrix type: f32 | f16 | bf16 | q8_0 | q4_0 | q4_k (default: keep the source's; llama2.c needs f32, "
                 "safetensors f32/f16/bf16)");
  app.add_option("--tokenizer", opt->tokenizer,
                 "tokenizer to embed in GGUF output: llama2.c tok*.bin, tokenizer.json or tokenizer.model");
  app.add_flag("!--no-progress", opt->show_progress, "no progress bar");
  app.callback([opt] {
    auto r = mecllm::runtime::convert_model(*opt);
    using mecllm::runtime::format_name;
    std::cout << fmt::format("{} ({}) -> {} ({})\n", opt->input, format_name(r.input_format), opt->output,
                             format_name(r.output_format));
    std::cout << fmt::format("model:      {}\n", r.config.summary());
    std::cout << fmt::format("tensors:    {} ({} re-encoded, {} kept finer because their rows do not fit the block)\n",
                             r.n_tensors, r.n_converted, r.n_fallback);
    std::cout << fmt::format("size:       {} -> {} bytes of tensor data, {:.2f} bits per weight\n", r.input_bytes,
                             r.output_bytes, r.output_bits_per_weight);
    std::cout << fmt::format("tokenizer:  {}\n", r.tokenizer);
  });
}

const mecllm::cli::Registrar reg{"convert", "convert a checkpoint between llama2.c, GGUF, safetensors and HF layouts",
                                 &setup};

}  // namespace
