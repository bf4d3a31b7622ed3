// Settings of `mecllm train-lm` (configs/lm/defaults.yaml documents every key). Plain C++ so the
// CLI and tests can parse and validate a config without LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "llm/factworld.h"
#include "runtime/model_config.h"

namespace mecllm::llm {

// The decoder's shape; vocab_size comes from the tokenizer.
struct LmModelConfig {
  int dim = 256;
  int hidden_dim = 512;
  int n_layers = 3;
  int n_heads = 8;
  int n_kv_heads = 4;
  int head_dim = 0;  // 0: dim / n_heads
  int seq_len = 128;
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  std::string rope_style = "interleaved";  // interleaved (llama2.c / GGUF llama) | neox
  bool tied_embeddings = true;
  bool qk_norm = false;
  bool attn_bias = false;
  int sliding_window = 0;

  template <class V>
  void visit(V& v) {
    v("dim", dim, "model width; multiple of 32 (256 for Q4_K rows)");
    v("hidden_dim", hidden_dim, "SwiGLU inner width; multiple of 32");
    v("n_layers", n_layers, "transformer blocks");
    v("n_heads", n_heads, "query heads");
    v("n_kv_heads", n_kv_heads, "key/value heads; divides n_heads (GQA)");
    v("head_dim", head_dim, "per-head width; 0 = dim / n_heads");
    v("seq_len", seq_len, "training window and maximum context");
    v("norm_eps", norm_eps, "RMSNorm epsilon");
    v("rope_theta", rope_theta, "RoPE base frequency");
    v("rope_style", rope_style, "interleaved | neox");
    v("tied_embeddings", tied_embeddings, "output projection reuses the token embedding");
    v("qk_norm", qk_norm, "RMSNorm on each head's q and k (Qwen3)");
    v("attn_bias", attn_bias, "biases on q, k, v (Qwen2)");
    v("sliding_window", sliding_window, "attend to at most this many past tokens; 0 = full causal");
  }
  void validate(const config::ConfigErrors& err) const;
  runtime::ModelConfig to_model_config(int vocab_size) const;
};

struct LmDataConfig {
  std::string factworld_dir = "";  // "" = generate into <out>/factworld from `world`
  FactworldConfig world;           // used only when factworld_dir is empty
  template <class V>
  void visit(V& v) {
    v("factworld_dir", factworld_dir, "an existing factworld directory; empty = generate one into <out>/factworld");
    v("world", world, "factworld settings when generating");
  }
};

struct LmOptimConfig {
  double lr = 3e-3;            // peak learning rate after warm-up
  double min_lr_ratio = 0.1;   // cosine decays to lr * min_lr_ratio
  int warmup_steps = 100;
  double weight_decay = 0.1;   // AdamW decay on matrices (not norms, biases)
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double grad_clip = 1.0;      // global L2 norm; 0 disables
  template <class V>
  void visit(V& v) {
    v("lr", lr, "peak learning rate");
    v("min_lr_ratio", min_lr_ratio, "final lr = lr * min_lr_ratio, in [0, 1]");
    v("warmup_steps", warmup_steps, "linear warm-up steps");
    v("weight_decay", weight_decay, "AdamW decoupled weight decay on matrices");
    v("beta1", beta1, "Adam beta1");
    v("beta2", beta2, "Adam beta2");
    v("eps", eps, "Adam epsilon");
    v("grad_clip", grad_clip, "max global gradient L2 norm; 0 = off");
  }
};

struct TrainLmConfig {
  LmModelConfig model;
  LmDataConfig data;
  LmOptimConfig optim;
  int steps = 3000;
  int batch_size = 32;        // sequences of model.seq_len tokens per step
  uint64_t seed = 1;          // model init and batch sampling
  std::string device = "cpu"; // cpu | cuda | cuda:N
  int threads = 0;            // torch intra-op threads; 0 = all cores
  int log_every = 25;
  int checkpoint_every = 500;
  int stop_at_step = 0;       // stop as if killed after this step (resume tests); 0 = run to the end
  std::vector<std::string> export_types = {"f32", "f16"};
  int eval_max_questions = 0;  // per QA split at the end; 0 = all
  int eval_max_train_questions = 0;  // the train split alone (it is the largest); 0 = as the others
  std::string init_from = "";  // start from these weights (any format ModelFile reads)

  template <class V>
  void visit(V& v) {
    v("model", model, "decoder shape");
    v("data", data, "training data");
    v("optim", optim, "AdamW + cosine schedule");
    v("steps", steps, "optimiser steps");
    v("batch_size", batch_size, "sequences per step");
    v("seed", seed, "init and batch sampling seed");
    v("device", device, "cpu | cuda | cuda:N");
    v("threads", threads, "torch threads; 0 = all cores");
    v("log_every", log_every, "steps between metrics lines");
    v("checkpoint_every", checkpoint_every, "steps between checkpoints (model + optimiser + RNG)");
    v("stop_at_step", stop_at_step, "stop after this step as if killed (for resume tests); 0 = off");
    v("export_types", export_types, "GGUF exports of the final model: f32, f16");
    v("eval_max_questions", eval_max_questions, "QA questions per split in the final evaluation; 0 = all");
    v("eval_max_train_questions", eval_max_train_questions,
      "questions of the (shuffled) train split in the final evaluation; 0 = eval_max_questions");
    v("init_from", init_from, "initial weights (GGUF, llama2.c, safetensors); empty = random init");
  }
  void validate(const config::ConfigErrors& err) const;
};

// Loads configs/lm/<files...> layers and --set overrides; errors name the file and key.
TrainLmConfig load_train_lm_config(const std::vector<std::string>& files, const std::vector<std::string>& sets);

}  // namespace mecllm::llm
