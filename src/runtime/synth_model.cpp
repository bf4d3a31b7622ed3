#include "runtime/synth_model.h"

#include "common/errors.h"
#include "common/log.h"
#include "common/rng.h"
#include "runtime/model_writer.h"

namespace mecllm::runtime {

namespace {

struct NamedShape {
  const char* name;
  int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};
// llama2.c's published tinyllamas shapes (stories260K: its README; 15M/42M/110M: run.c's repo).
constexpr NamedShape kShapes[] = {
    {"260K", 64, 172, 5, 8, 4, 512, 512},
    {"15M", 288, 768, 6, 6, 6, 32000, 256},
    {"42M", 512, 1376, 8, 8, 8, 32000, 1024},
    {"110M", 768, 2048, 12, 12, 12, 32000, 1024},
};

}  // namespace

std::vector<std::string> synth_shape_names() {
  std::vector<std::string> out;
  for (const auto& s : kShapes) out.emplace_back(s.name);
  return out;
}

ModelConfig synth_shape(const std::string& shape) {
  for (const auto& s : kShapes) {
    if (shape == s.name) {
      ModelConfig c;
      c.arch = "llama";
      c.dim = s.dim;
      c.hidden_dim = s.hidden_dim;
      c.n_layers = s.n_layers;
      c.n_heads = s.n_heads;
      c.n_kv_heads = s.n_kv_heads;
      c.vocab_size = s.vocab_size;
      c.seq_len = s.seq_len;
      c.tied_embeddings = true;
      return c;
    }
  }
  throw InputError(fmt::format("synth-model: shape '{}' is unknown, expected one of {}", shape,
                               fmt::join(synth_shape_names(), ", ")));
}

ModelConfig write_synth_model(const std::string& path, const SynthOptions& opt) {
  const ModelConfig config = synth_shape(opt.shape);
  const bool gguf = path.ends_with(".gguf");
  if (!gguf && opt.type != QuantType::F32) {
    throw InputError(fmt::format("synth-model: {}: the llama2.c format stores f32 only, got type {}; write a .gguf",
                                 path, quant_type_name(opt.type)));
  }
  if (!(opt.init_std > 0.0f)) throw InputError(fmt::format("synth-model: init_std = {}, expected > 0", opt.init_std));
  Rng rng(opt.seed);
  std::vector<OwnedTensor> tensors;
  for (const TensorSpec& spec : expected_tensors(config)) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    std::vector<float> values(static_cast<size_t>(n));
    if (spec.is_norm_or_bias) {
      for (auto& v : values) v = 1.0f;
    } else {
      for (auto& v : values) v = static_cast<float>(rng.normal(0.0, opt.init_std));
    }
    QuantType type = spec.is_norm_or_bias ? QuantType::F32 : opt.type;
    if (!row_fits(type, spec.shape.back())) {
      log_warn("synth-model: {} rows of {} do not fit {} blocks; stored as f32", spec.name, spec.shape.back(),
               quant_type_name(type));
      type = QuantType::F32;
    }
    tensors.push_back(make_tensor(spec.name, spec.shape, values, type));
  }
  const auto views = views_of(tensors);
  if (gguf) {
    GgufMetadata extra;
    extra.set("general.name", GgufValue::of_string("mecllm synth " + opt.shape));
    write_gguf(path, config, views, extra);
  } else {
    write_llama2c(path, config, views);
  }
  return config;
}

}  // namespace mecllm::runtime
