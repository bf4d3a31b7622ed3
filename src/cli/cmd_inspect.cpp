// mecllm inspect FILE [--tensors] [--metadata]
//   Architecture, shape, parameter count, tensor types, size and bits per weight, tokenizer
//   of a llama2.c .bin, .gguf, .safetensors or Hugging Face directory. Every reader check runs,
//   so `inspect` is also the quick way to validate a file.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "runtime/model_inspect.h"

namespace {

struct Args {
  std::string path;
  mecllm::runtime::InspectOptions options;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("file", a->path, "model: llama2.c .bin, .gguf, .safetensors or a Hugging Face directory")->required();
  app.add_flag("--tensors", a->options.tensors, "list every tensor (name, type, shape, bytes)");
  app.add_flag("--metadata", a->options.metadata, "list every GGUF metadata key");
  app.callback([a] { std::cout << mecllm::runtime::inspect_model(a->path, a->options); });
}

const mecllm::cli::Registrar reg{"inspect", "summarise a checkpoint: architecture, shapes, types, size, tokenizer", &setup};

}  // namespace
