// Settings of the compress subcommands (configs/compress/defaults.yaml documents every key):
// one struct per stage plus the ECLD pipeline that holds all of them. Plain C++, so configs are
// parsed and validated without LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "compress/prune.h"
#include "compress/quantize.h"

namespace mecllm::compress {

struct DistillConfig {
  double temperature = 2.0;     // tau of the softened distributions; the KL term is scaled by tau^2
  double alpha_ce = 0.1;        // weight of cross-entropy on the data tokens
  bool hidden_loss = false;     // add MSE between final hidden states (projected when widths differ)
  double hidden_weight = 1.0;
  int teacher_samples = 0;      // documents sampled from the teacher and added to the data
  int steps = 300;
  int batch_size = 16;
  int seq_len = 128;            // capped by both models' seq_len
  double lr = 1e-3;
  double min_lr_ratio = 0.1;
  int warmup_steps = 20;
  double weight_decay = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;
  uint64_t seed = 1;
  std::string device = "cpu";   // cpu | cuda | cuda:N
  int threads = 0;              // torch threads; 0 = default
  int log_every = 10;
  int checkpoint_every = 100;
  int heldout_sequences = 8;    // windows of held-out data for the KL-to-teacher before/after
  int stop_at_step = 0;         // stop as if killed (resume tests)

  template <class V>
  void visit(V& v) {
    v("temperature", temperature, "softmax temperature tau (> 0); loss uses tau^2 KL");
    v("alpha_ce", alpha_ce, "weight of the data cross-entropy, >= 0");
    v("hidden_loss", hidden_loss, "add MSE on final hidden states (linear projection when widths differ)");
    v("hidden_weight", hidden_weight, "weight of the hidden-state MSE");
    v("teacher_samples", teacher_samples, "documents sampled from the teacher (temperature 1) added to the data");
    v("steps", steps, "optimiser steps");
    v("batch_size", batch_size, "windows per step");
    v("seq_len", seq_len, "tokens per window (capped by the models)");
    v("lr", lr, "peak AdamW learning rate");
    v("min_lr_ratio", min_lr_ratio, "cosine floor as a share of lr");
    v("warmup_steps", warmup_steps, "linear warm-up steps");
    v("weight_decay", weight_decay, "AdamW decoupled decay on matrices");
    v("beta1", beta1, "Adam beta1");
    v("beta2", beta2, "Adam beta2");
    v("grad_clip", grad_clip, "global gradient norm clip; 0 = off");
    v("seed", seed, "batch sampling seed");
    v("device", device, "cpu | cuda | cuda:N");
    v("threads", threads, "torch threads; 0 = default");
    v("log_every", log_every, "steps between metrics lines");
    v("checkpoint_every", checkpoint_every, "steps between checkpoints");
    v("heldout_sequences", heldout_sequences, "held-out windows for KL to the teacher");
    v("stop_at_step", stop_at_step, "stop after this step as if killed; 0 = off");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct EcldConfig {
  PruneConfig prune;
  DistillConfig distill;
  QuantizeConfig quantize;
  bool baselines = false;       // also build quantization-only, pruning-only, pruning+quantization
  int qa_max_questions = 0;     // per factworld split in the stage reports; 0 = all
  std::string device_classes = "all";  // classes in the model card's accessibility table

  template <class V>
  void visit(V& v) {
    v("prune", prune, "stage I: structured pruning");
    v("distill", distill, "stage II: knowledge distillation");
    v("quantize", quantize, "stage III: quantization");
    v("baselines", baselines, "also build quantization-only, pruning-only, pruning+quantization");
    v("qa_max_questions", qa_max_questions, "factworld questions per split in reports; 0 = all");
    v("device_classes", device_classes, "device classes in the model card (all or a comma list)");
  }
  void validate(const config::ConfigErrors& err) const;
};

// Layers from configs/compress/ (names or paths) and --set overrides; errors name file and key.
EcldConfig load_compress_config(const std::vector<std::string>& files, const std::vector<std::string>& sets);

}  // namespace mecllm::compress
