#include "compress/compress_config.h"

namespace mecllm::compress {

void DistillConfig::validate(const config::ConfigErrors& err) const {
  err.require(temperature > 0, "temperature", "> 0");
  err.require(alpha_ce >= 0, "alpha_ce", ">= 0");
  err.require(hidden_weight >= 0, "hidden_weight", ">= 0");
  err.require(teacher_samples >= 0, "teacher_samples", ">= 0");
  err.require(steps >= 1, "steps", ">= 1");
  err.require(batch_size >= 1, "batch_size", ">= 1");
  err.require(seq_len >= 2, "seq_len", ">= 2");
  err.require(lr > 0, "lr", "> 0");
  err.require(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min_lr_ratio", "in [0, 1]");
  err.require(warmup_steps >= 0, "warmup_steps", ">= 0");
  err.require(weight_decay >= 0, "weight_decay", ">= 0");
  err.require(beta1 >= 0 && beta1 < 1, "beta1", "in [0, 1)");
  err.require(beta2 >= 0 && beta2 < 1, "beta2", "in [0, 1)");
  err.require(grad_clip >= 0, "grad_clip", ">= 0");
  err.require(threads >= 0, "threads", ">= 0");
  err.require(log_every >= 1, "log_every", ">= 1");
  err.require(checkpoint_every >= 1, "checkpoint_every", ">= 1");
  err.require(heldout_sequences >= 1, "heldout_sequences", ">= 1");
  err.require(stop_at_step >= 0, "stop_at_step", ">= 0");
}

void EcldConfig::validate(const config::ConfigErrors& err) const {
  prune.validate(err.nested("prune"));
  distill.validate(err.nested("distill"));
  quantize.validate(err.nested("quantize"));
  err.require(qa_max_questions >= 0, "qa_max_questions", ">= 0");
}

EcldConfig load_compress_config(const std::vector<std::string>& files, const std::vector<std::string>& sets) {
  EcldConfig cfg;
  config::load_layers(cfg, files, sets, "compress");
  return cfg;
}

}  // namespace mecllm::compress
