// Keys and values of every past position, per layer, in F32 or F16 (half the memory and half
// the bytes read per generated token, at ~1e-3 relative error on each entry).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/quant.h"

namespace mecllm::runtime {

class KvCache {
 public:
  KvCache() = default;
  // type: F32 or F16 (InputError otherwise).
  KvCache(QuantType type, int n_layers, int context, int kv_dim);

  QuantType type() const { return type_; }
  int context() const { return context_; }
  int kv_dim() const { return kv_dim_; }
  bool is_f16() const { return type_ == QuantType::F16; }
  size_t bytes_per_value() const { return is_f16() ? 2 : 4; }
  uint64_t total_bytes() const { return (f32_.size() * 4 + f16_.size() * 2); }

  // Stores kv_dim values of key and value at (layer, pos).
  void store(int layer, int pos, const float* key, const float* value);
  // Row (layer, pos) of keys / values: a float* for F32, a uint16_t* (binary16 bits) for F16.
  const void* key(int layer, int pos) const { return row(0, layer, pos); }
  const void* value(int layer, int pos) const { return row(1, layer, pos); }

 private:
  size_t offset(int kv, int layer, int pos) const {
    return ((static_cast<size_t>(kv) * n_layers_ + static_cast<size_t>(layer)) * context_ + static_cast<size_t>(pos)) *
           static_cast<size_t>(kv_dim_);
  }
  const void* row(int kv, int layer, int pos) const {
    return is_f16() ? static_cast<const void*>(f16_.data() + offset(kv, layer, pos))
                    : static_cast<const void*>(f32_.data() + offset(kv, layer, pos));
  }
  QuantType type_ = QuantType::F32;
  int n_layers_ = 0, context_ = 0, kv_dim_ = 0;
  std::vector<float> f32_;     // (2 [k, v], n_layers, context, kv_dim) when F32
  std::vector<uint16_t> f16_;  // (2 [k, v], n_layers, context, kv_dim) when F16
};

}  // namespace mecllm::runtime
