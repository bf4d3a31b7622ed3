#include "llm/train_config.h"

#include "common/errors.h"

namespace mecllm::llm {

void LmModelConfig::validate(const config::ConfigErrors& err) const {
  err.require(dim > 0 && dim % 32 == 0, "dim", "a positive multiple of 32");
  err.require(hidden_dim > 0 && hidden_dim % 32 == 0, "hidden_dim", "a positive multiple of 32");
  err.require(n_layers >= 1 && n_layers <= 256, "n_layers", "in 1..256");
  err.require(n_heads >= 1, "n_heads", "at least 1");
  err.require(n_kv_heads >= 1 && n_heads % n_kv_heads == 0, "n_kv_heads", "at least 1 and dividing n_heads");
  err.require(head_dim >= 0, "head_dim", "0 (= dim / n_heads) or positive");
  err.require(head_dim > 0 || dim % n_heads == 0, "n_heads", "dividing dim when head_dim is 0");
  const int hs = head_dim > 0 ? head_dim : dim / n_heads;
  err.require(hs % 2 == 0, "head_dim", "even (RoPE rotates pairs)");
  err.require(seq_len >= 2 && seq_len <= 65536, "seq_len", "in 2..65536");
  err.require(norm_eps > 0, "norm_eps", "positive");
  err.require(rope_theta > 0, "rope_theta", "positive");
  err.require(rope_style == "interleaved" || rope_style == "neox", "rope_style", "interleaved or neox");
  err.require(sliding_window >= 0, "sliding_window", "0 (off) or positive");
}

runtime::ModelConfig LmModelConfig::to_model_config(int vocab_size) const {
  runtime::ModelConfig c;
  c.arch = qk_norm ? "qwen3" : attn_bias ? "qwen2" : sliding_window > 0 ? "mistral" : "llama";
  c.dim = dim;
  c.hidden_dim = hidden_dim;
  c.n_layers = n_layers;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.vocab_size = vocab_size;
  c.seq_len = seq_len;
  c.head_dim = head_dim;
  c.norm_eps = static_cast<float>(norm_eps);
  c.rope_theta = static_cast<float>(rope_theta);
  c.rope_style = rope_style == "neox" ? runtime::RopeStyle::neox : runtime::RopeStyle::interleaved;
  c.tied_embeddings = tied_embeddings;
  c.qk_norm = qk_norm;
  c.attn_bias = attn_bias;
  c.sliding_window = sliding_window;
  return c;
}

void TrainLmConfig::validate(const config::ConfigErrors& err) const {
  model.validate(err.nested("model"));
  if (data.factworld_dir.empty()) data.world.validate(err.nested("data.world"));
  const auto o = err.nested("optim");
  o.require(optim.lr > 0 && optim.lr < 1, "lr", "in (0, 1)");
  o.require(optim.min_lr_ratio >= 0 && optim.min_lr_ratio <= 1, "min_lr_ratio", "in [0, 1]");
  o.require(optim.warmup_steps >= 0, "warmup_steps", "0 or more");
  o.require(optim.weight_decay >= 0, "weight_decay", "0 or more");
  o.require(optim.beta1 >= 0 && optim.beta1 < 1, "beta1", "in [0, 1)");
  o.require(optim.beta2 >= 0 && optim.beta2 < 1, "beta2", "in [0, 1)");
  o.require(optim.eps > 0, "eps", "positive");
  o.require(optim.grad_clip >= 0, "grad_clip", "0 (off) or positive");
  err.require(steps >= 1, "steps", "at least 1");
  err.require(batch_size >= 1, "batch_size", "at least 1");
  err.require(device == "cpu" || device == "cuda" || device.rfind("cuda:", 0) == 0, "device",
              "cpu, cuda or cuda:N");
  err.require(threads >= 0, "threads", "0 (all cores) or positive");
  err.require(log_every >= 1, "log_every", "at least 1");
  err.require(checkpoint_every >= 1, "checkpoint_every", "at least 1");
  err.require(stop_at_step >= 0 && stop_at_step <= steps, "stop_at_step", "in 0..steps");
  for (const auto& t : export_types) err.require(t == "f32" || t == "f16", "export_types", "a list of f32, f16");
  err.require(eval_max_questions >= 0, "eval_max_questions", "0 (all) or positive");
  err.require(eval_max_train_questions >= 0, "eval_max_train_questions", "0 or positive");
}

TrainLmConfig load_train_lm_config(const std::vector<std::string>& files, const std::vector<std::string>& sets) {
  TrainLmConfig cfg;
  config::load_layers(cfg, files, sets, "lm");
  return cfg;
}

}  // namespace mecllm::llm
