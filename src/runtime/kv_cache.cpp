#include "runtime/kv_cache.h"

#include <cstring>

#include "common/errors.h"
#include "runtime/quant_blocks.h"

namespace mecllm::runtime {

KvCache::KvCache(QuantType type, int n_layers, int context, int kv_dim)
    : type_(type), n_layers_(n_layers), context_(context), kv_dim_(kv_dim) {
  if (type != QuantType::F32 && type != QuantType::F16) {
    throw InputError(fmt::format("kv cache type = {}, expected f32 or f16", quant_type_name(type)));
  }
  MECLLM_CHECK(n_layers > 0 && context > 0 && kv_dim > 0, "kv cache {}x{}x{}", n_layers, context, kv_dim);
  const size_t n = 2 * static_cast<size_t>(n_layers) * static_cast<size_t>(context) * static_cast<size_t>(kv_dim);
  if (is_f16()) f16_.assign(n, 0);
  else f32_.assign(n, 0.0f);
}

void KvCache::store(int layer, int pos, const float* key, const float* value) {
  MECLLM_CHECK(layer >= 0 && layer < n_layers_ && pos >= 0 && pos < context_, "kv store at layer {} pos {}", layer, pos);
  if (is_f16()) {
    fp32_to_fp16_row(key, f16_.data() + offset(0, layer, pos), kv_dim_);
    fp32_to_fp16_row(value, f16_.data() + offset(1, layer, pos), kv_dim_);
  } else {
    std::memcpy(f32_.data() + offset(0, layer, pos), key, static_cast<size_t>(kv_dim_) * sizeof(float));
    std::memcpy(f32_.data() + offset(1, layer, pos), value, static_cast<size_t>(kv_dim_) * sizeof(float));
  }
}

}  // namespace mecllm::runtime
