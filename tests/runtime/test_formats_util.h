// Helpers shared by the checkpoint-format tests: temp directories, random models, and a
// byte builder for handcrafted (and deliberately broken) GGUF / safetensors files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/rng.h"
#include "runtime/model_config.h"
#include "runtime/model_writer.h"

namespace mecllm::runtime {
// gtest prints configs readably instead of as bytes.
inline void PrintTo(const ModelConfig& c, std::ostream* os) {
  *os << c.summary() << " eps=" << c.norm_eps << " bos=" << c.bos_id << " eos=" << c.eos_id << " head_dim=" << c.head_dim;
}
}  // namespace mecllm::runtime

namespace mecllm::runtime::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / ("mecllm-formats-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A small config of each family (llama, mistral, qwen2, qwen3) with the family's features on.
// The default width 256 lets every quant type fit (rows of 256 values); the engine tests use
// narrower ones.
inline ModelConfig small_config(const std::string& arch = "llama", int dim = 256) {
  ModelConfig c;
  c.arch = arch;
  c.dim = dim;
  c.hidden_dim = 2 * dim;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.vocab_size = 64;
  c.seq_len = 128;
  if (arch == "qwen2" || arch == "qwen3") {
    c.rope_style = RopeStyle::neox;
    c.rope_theta = 1000000.0f;
    c.norm_eps = 1e-6f;
    c.bos_id = -1;
    c.eos_id = 5;
  }
  if (arch == "qwen2") c.attn_bias = true;
  if (arch == "qwen3") {
    c.qk_norm = true;
    c.head_dim = dim / 2;  // explicit, != dim / n_heads
    c.tied_embeddings = true;
  }
  if (arch == "mistral") c.sliding_window = 64;
  return c;
}

// Every tensor of `c` in F32 from a seeded Rng: weights N(0, weight_std^2), norm gains and biases
// 1 + N(0, norm_std^2).
inline std::vector<OwnedTensor> random_model(const ModelConfig& c, uint64_t seed, double weight_std = 0.1,
                                             double norm_std = 0.1) {
  Rng rng(seed);
  std::vector<OwnedTensor> out;
  for (const auto& spec : expected_tensors(c)) {
    int64_t n = 1;
    for (auto d : spec.shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<float>(spec.is_norm_or_bias ? 1.0 + norm_std * rng.normal() : weight_std * rng.normal());
    out.push_back(make_tensor(spec.name, spec.shape, v, QuantType::F32));
  }
  return out;
}

// Little-endian byte builder.
struct Bytes {
  std::string s;
  Bytes& u8(uint8_t v) { return raw(&v, 1); }
  Bytes& u32(uint32_t v) { return raw(&v, 4); }
  Bytes& i32(int32_t v) { return raw(&v, 4); }
  Bytes& u64(uint64_t v) { return raw(&v, 8); }
  Bytes& f32(float v) { return raw(&v, 4); }
  Bytes& str(const std::string& v) { u64(v.size()); s += v; return *this; }
  Bytes& raw(const void* p, size_t n) { s.append(static_cast<const char*>(p), n); return *this; }
  Bytes& pad(size_t a) { s.append((a - s.size() % a) % a, '\0'); return *this; }
};

// Runs f and checks it throws InputError whose message contains every one of `parts`.
inline void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected InputError containing '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
  }
}

}  // namespace mecllm::runtime::testing
