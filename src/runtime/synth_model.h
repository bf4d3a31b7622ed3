// Random-weight Llama-shaped checkpoints of known sizes, so speed can be measured where no
// real large model is available. Shapes follow llama2.c's tinyllamas family (Karpathy, 2023),
// whose 110M model has the Llama-2 layout at dim 768 (multiples of 256, so Q4_K fits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model_config.h"
#include "runtime/quant.h"

namespace mecllm::runtime {

// "260K" (the stories260K shape), "15M", "42M", "110M". InputError naming the shape otherwise.
ModelConfig synth_shape(const std::string& shape);
std::vector<std::string> synth_shape_names();

struct SynthOptions {
  std::string shape = "110M";
  QuantType type = QuantType::F32;  // 2-D weights; norms stay F32. llama2.c output needs F32.
  uint64_t seed = 1;
  float init_std = 0.02f;           // weights ~ N(0, init_std^2); norms are 1
};

// Writes the checkpoint to `path`: GGUF when it ends in ".gguf", llama2.c otherwise.
// Returns the config written.
ModelConfig write_synth_model(const std::string& path, const SynthOptions& options);

}  // namespace mecllm::runtime
