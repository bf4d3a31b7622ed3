// Hugging Face config.json <-> ModelConfig for LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM and Qwen3ForCausalLM.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "runtime/model_config.h"

namespace mecllm::runtime {

// Reads the fields of config.json (path names the file in errors): model_type/architectures,
// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
// vocab_size, max_position_embeddings, rms_norm_eps, rope_theta, tie_word_embeddings, head_dim,
// attention_bias, sliding_window, bos/eos_token_id. Unknown architectures and RoPE scaling
// (which the runtime does not implement) are rejected with an InputError.
ModelConfig config_from_hf_json(const nlohmann::json& j, const std::string& path);
ModelConfig read_hf_config(const std::string& config_json_path);

// The config.json a writer emits for `config` (transformers-loadable for the four families).
nlohmann::json config_to_hf_json(const ModelConfig& config);

}  // namespace mecllm::runtime
