// `mecllm inspect`: a human-readable summary of a checkpoint in any supported format.
#pragma once

#include <string>

namespace mecllm::runtime {

struct InspectOptions {
  bool tensors = false;   // one line per tensor: name, type, shape, bytes
  bool metadata = false;  // every GGUF key (arrays abbreviated)
};

// Opens `path` (ModelFile::open, so every check applies) and returns the text:
// format, architecture and config, parameter count, tensor types with counts, data size and
// bits per weight, tokenizer summary; plus the optional tables.
std::string inspect_model(const std::string& path, const InspectOptions& options = {});

}  // namespace mecllm::runtime
