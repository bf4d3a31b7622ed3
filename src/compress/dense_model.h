// A whole model as float tensors in memory: the working form of pruning and quantization.
//
// Pruning changes shapes and the config together, and quantization needs every weight as floats
// with its calibration statistics, so the compress stages work on this plain copy instead of the
// mapped, possibly quantized views of runtime::ModelFile. Tensors keep llama.cpp's canonical
// names and row-major {out, in} shapes (runtime/model_config.h expected_tensors).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/gguf.h"
#include "runtime/model_config.h"
#include "runtime/model_writer.h"
#include "runtime/quant.h"
#include "runtime/tokenizer.h"

namespace mecllm::compress {

struct DenseModel {
  runtime::ModelConfig config;
  std::map<std::string, std::vector<float>> tensors;  // name -> values, shape from expected_tensors(config)
  runtime::GgufMetadata extra;  // tokenizer.ggml.* and general.* keys carried into exports
  std::string source;           // path it was loaded from (for messages)

  std::vector<float>& at(const std::string& name);
  const std::vector<float>& at(const std::string& name) const;
  // Checks that the tensor set and every size matches expected_tensors(config).
  void check_consistent() const;
  // Parameters (tied output counted once) and bytes when matrices are stored as `type`
  // (norms/biases F32), the quantities the budget targets use.
  int64_t parameter_count() const { return config.parameter_count(); }
};

// Reads any checkpoint runtime::ModelFile opens (dequantised to float). The GGUF tokenizer keys
// (tokenizer.ggml.*) are kept in `extra`; for other formats a tokenizer is looked for beside it.
DenseModel load_dense_model(const std::string& path);

// The tokenizer of a model: from its GGUF keys, or `tokenizer_path` when given. InputError when
// neither exists.
std::unique_ptr<runtime::Tokenizer> model_tokenizer(const DenseModel& m, const std::string& tokenizer_path = "");

// Chooses the storage type of one tensor (norms/biases are always F32 whatever it returns).
using TypeRule = std::function<runtime::QuantType(const runtime::TensorSpec&)>;

// Encodes every tensor with the rule (round-to-nearest through the quant traits), falling back
// Q4_K -> Q4_0 -> Q8_0 -> F16 when a row length does not fit the block, as llama.cpp does.
std::vector<runtime::OwnedTensor> encode_tensors(const DenseModel& m, const TypeRule& rule);
runtime::QuantType fit_type(runtime::QuantType want, int64_t row_len);

// Writes a model by the extension of `path`: .gguf (with `extra`), .bin (llama2.c, F32 only),
// .safetensors or a directory (Hugging Face layout). Atomic: nothing is left on failure.
void write_model(const std::string& path, const runtime::ModelConfig& config,
                 const std::vector<runtime::OwnedTensor>& tensors, const runtime::GgufMetadata& extra);
void save_dense_model(const DenseModel& m, const std::string& path,
                      runtime::QuantType matrix_type = runtime::QuantType::F32);

// Bytes of the tensor data when matrices are stored as `type` (norms/biases F32), without
// encoding anything: the size the budget targets compare with.
uint64_t model_bytes(const runtime::ModelConfig& config, runtime::QuantType type);
// The same with a per-tensor rule (mixed precision), falling back like encode_tensors.
uint64_t model_bytes(const runtime::ModelConfig& config, const TypeRule& rule);

}  // namespace mecllm::compress
