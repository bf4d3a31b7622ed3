// Small random models and a byte-level tokenizer for the compress tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include "common/rng.h"
#include "compress/compress_config.h"
#include "compress/dense_model.h"
#include "runtime/tokenizer.h"

namespace mecllm::compress::testing {

inline runtime::ModelConfig tiny_config() {
  runtime::ModelConfig c;
  c.dim = 64;
  c.hidden_dim = 128;
  c.n_layers = 3;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.vocab_size = 288;
  c.seq_len = 64;
  return c;
}

// <unk> <s> </s>, the 256 byte pieces, then filler pieces up to vocab.
inline std::unique_ptr<runtime::SpmBpeTokenizer> byte_tokenizer(int vocab = 288) {
  std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    toks.push_back(buf);
  }
  while (static_cast<int>(toks.size()) < vocab) toks.push_back("zz" + std::to_string(toks.size()));
  std::vector<float> scores(toks.size(), 0.0f);
  return std::make_unique<runtime::SpmBpeTokenizer>(toks, scores, std::vector<runtime::TokenType>{});
}

// Weights N(0, 0.08), norms 1 + N(0, 0.1); the tokenizer is carried in the GGUF keys.
inline DenseModel random_model(const runtime::ModelConfig& c, uint64_t seed = 7) {
  DenseModel m;
  m.config = c;
  m.source = "random";
  Rng rng(seed);
  for (const auto& s : runtime::expected_tensors(c)) {
    int64_t n = 1;
    for (auto d : s.shape) n *= d;
    std::vector<float> v(n);
    for (auto& x : v) x = s.is_norm_or_bias ? static_cast<float>(1.0 + 0.1 * rng.normal()) : static_cast<float>(0.08 * rng.normal());
    m.tensors[s.name] = std::move(v);
  }
  runtime::tokenizer_to_gguf(*byte_tokenizer(c.vocab_size), m.extra);
  return m;
}

inline std::vector<std::vector<int32_t>> random_windows(int n, int T, int vocab, uint64_t seed = 3) {
  Rng rng(seed);
  std::vector<std::vector<int32_t>> w(n, std::vector<int32_t>(T));
  for (auto& s : w)
    for (auto& t : s) t = static_cast<int32_t>(3 + rng.below(vocab - 3));
  return w;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("mecllm_compress_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A fresh temp dir holding a random model saved as GGUF (`model`) and a small text corpus beside
// it (`text`, one document per line: line(i) for i < n_lines): the inputs of the file-level tests.
struct ModelAndText {
  std::filesystem::path dir;
  std::string model, text;
};
inline ModelAndText model_and_text(const std::string& name, const runtime::ModelConfig& c, uint64_t seed, int n_lines,
                                   const std::function<std::string(int)>& line) {
  ModelAndText r{temp_dir(name), "", ""};
  r.model = (r.dir / "model.gguf").string();
  save_dense_model(random_model(c, seed), r.model);
  r.text = (r.dir / "text.txt").string();
  std::ofstream f(r.text);
  for (int i = 0; i < n_lines; ++i) f << line(i) << "\n";
  return r;
}

// The short seeded distillation of the distillation tests (CPU and CUDA): 30 steps of 4 x 32
// tokens, enough to lower the held-out KL of a tiny pruned student clearly.
inline DistillConfig short_distill_config(int threads) {
  DistillConfig d;
  d.steps = 30;
  d.batch_size = 4;
  d.seq_len = 32;
  d.lr = 3e-3;
  d.warmup_steps = 3;
  d.heldout_sequences = 2;
  d.checkpoint_every = 10;
  d.log_every = 5;
  d.threads = threads;
  return d;
}

}  // namespace mecllm::compress::testing
