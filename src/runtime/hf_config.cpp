// Hugging Face config.json <-> ModelConfig. Field names and defaults follow transformers'
// LlamaConfig, MistralConfig, Qwen2Config and Qwen3Config.
#include "runtime/hf_config.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::runtime {

namespace {

struct Family {
  const char* model_type;
  const char* architecture;
};
constexpr Family kFamilies[] = {{"llama", "LlamaForCausalLM"},
                                {"mistral", "MistralForCausalLM"},
                                {"qwen2", "Qwen2ForCausalLM"},
                                {"qwen3", "Qwen3ForCausalLM"}};

class Fields {
 public:
  Fields(const nlohmann::json& j, const std::string& path) : j_(j), path_(path) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  int size(const char* key) const {
    if (!has(key)) throw_input_error(path_, "required key '{}' is missing", key);
    return size_of(j_[key], key);
  }
  int size_or(const char* key, int fallback) const { return has(key) ? size_of(j_[key], key) : fallback; }
  double number_or(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number()) throw_input_error(path_, "key '{}' = {}, expected a number", key, j_[key].dump());
    return j_[key].get<double>();
  }
  bool flag_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) throw_input_error(path_, "key '{}' = {}, expected true or false", key, j_[key].dump());
    return j_[key].get<bool>();
  }
  // A token id, or a list of ids (Llama-3 lists several EOS ids: the first is the main one).
  int token_or(const char* key, int fallback) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (v.is_array()) {
      if (v.empty()) return fallback;
      return id_of(v[0], key);
    }
    return id_of(v, key);
  }

 private:
  int size_of(const nlohmann::json& v, const char* key) const {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > std::numeric_limits<int32_t>::max())
      throw_input_error(path_, "key '{}' = {}, expected a positive integer", key, v.dump());
    return static_cast<int>(v.get<int64_t>());
  }
  int id_of(const nlohmann::json& v, const char* key) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > std::numeric_limits<int32_t>::max())
      throw_input_error(path_, "key '{}' = {}, expected a token id", key, v.dump());
    return static_cast<int>(v.get<int64_t>());
  }
  const nlohmann::json& j_;
  const std::string& path_;
};

// transformers' `rope_scaling` object: {"rope_type" (older files: "type"): "linear" | "llama3",
// "factor", and for llama3 "low_freq_factor", "high_freq_factor",
// "original_max_position_embeddings" (transformers' defaults 1, 4, 8192 where absent).
void read_rope_scaling(const nlohmann::json& j, const std::string& path, ModelConfig& c) {
  const nlohmann::json& rs = j["rope_scaling"];
  if (!rs.is_object()) throw_input_error(path, "key 'rope_scaling' = {}, expected an object or null", rs.dump());
  const char* type_key = rs.contains("rope_type") ? "rope_type" : "type";
  if (!rs.contains(type_key) || !rs[type_key].is_string())
    throw_input_error(path, "key 'rope_scaling' = {}: no string 'rope_type'", rs.dump());
  const std::string type = rs[type_key].get<std::string>();
  if (type == "default") return;
  if (type != "linear" && type != "llama3")
    throw_input_error(path, "key 'rope_scaling' has rope_type '{}': supported are linear and llama3 (Llama 3.1)", type);
  Fields f(rs, path);
  if (!f.has("factor")) throw_input_error(path, "key 'rope_scaling' = {}: 'factor' is missing", rs.dump());
  c.rope_factor = static_cast<float>(f.number_or("factor", 1.0));
  if (type == "linear") {
    c.rope_scaling = RopeScaling::linear;
    return;
  }
  c.rope_scaling = RopeScaling::llama3;
  c.rope_low_freq_factor = static_cast<float>(f.number_or("low_freq_factor", 1.0));
  c.rope_high_freq_factor = static_cast<float>(f.number_or("high_freq_factor", 4.0));
  c.rope_original_context = f.size_or("original_max_position_embeddings", 8192);
  if (!(c.rope_low_freq_factor > 0.0f) || !(c.rope_high_freq_factor > c.rope_low_freq_factor))
    throw_input_error(path, "key 'rope_scaling': low_freq_factor = {} and high_freq_factor = {}, expected 0 < low < high",
                      c.rope_low_freq_factor, c.rope_high_freq_factor);
}

}  // namespace

ModelConfig config_from_hf_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) throw_input_error(path, "expected a JSON object at the top level, got {}", j.type_name());
  std::string model_type;
  if (j.contains("model_type")) {
    if (!j["model_type"].is_string()) throw_input_error(path, "key 'model_type' = {}, expected a string", j["model_type"].dump());
    model_type = j["model_type"].get<std::string>();
  } else if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
             j["architectures"][0].is_string()) {
    std::string a = j["architectures"][0].get<std::string>();
    for (const auto& f : kFamilies)
      if (a == f.architecture) model_type = f.model_type;
    if (model_type.empty())
      throw_input_error(path, "architecture '{}' is not supported, expected LlamaForCausalLM, MistralForCausalLM, "
                        "Qwen2ForCausalLM or Qwen3ForCausalLM", a);
  } else {
    throw_input_error(path, "neither 'model_type' nor 'architectures' is present: not a transformers config.json?");
  }
  if (!is_known_arch(model_type))
    throw_input_error(path, "model_type '{}' is not supported, expected llama, mistral, qwen2 or qwen3", model_type);

  Fields f(j, path);
  if (f.has("hidden_act") && j["hidden_act"] != "silu")
    throw_input_error(path, "key 'hidden_act' = {}, expected \"silu\" (SwiGLU)", j["hidden_act"].dump());
  if (f.flag_or("use_sliding_window", false))
    throw_input_error(path, "key 'use_sliding_window' = true: per-layer sliding windows (Qwen) are not supported");

  ModelConfig c;
  c.arch = model_type;
  c.dim = f.size("hidden_size");
  c.hidden_dim = f.size("intermediate_size");
  c.n_layers = f.size("num_hidden_layers");
  c.n_heads = f.size("num_attention_heads");
  c.n_kv_heads = f.size_or("num_key_value_heads", c.n_heads);
  c.vocab_size = f.size("vocab_size");
  c.seq_len = f.size_or("max_position_embeddings", 2048);
  c.head_dim = f.size_or("head_dim", model_type == "qwen3" ? 128 : 0);  // Qwen3Config defaults to 128
  c.norm_eps = static_cast<float>(f.number_or("rms_norm_eps", 1e-6));
  c.rope_theta = static_cast<float>(f.number_or("rope_theta", 10000.0));
  c.tied_embeddings = f.flag_or("tie_word_embeddings", false);
  c.qk_norm = model_type == "qwen3";
  // Qwen2 always has q/k/v biases; Llama and Qwen3 have them when attention_bias is set.
  c.attn_bias = model_type == "qwen2" ? true : f.flag_or("attention_bias", false);
  c.sliding_window = model_type == "mistral" ? f.size_or("sliding_window", 0) : 0;
  // Llama/Mistral weights are permuted to interleaved pairs on read; Qwen keeps rotate_half.
  c.rope_style = (model_type == "llama" || model_type == "mistral") ? RopeStyle::interleaved : RopeStyle::neox;
  c.bos_id = f.token_or("bos_token_id", -1);
  c.eos_id = f.token_or("eos_token_id", -1);
  if (f.has("rope_scaling")) read_rope_scaling(j, path, c);
  if (c.rope_scaling == RopeScaling::llama3 && c.head_size() > 0) {
    c.rope_freq_factors = llama3_rope_freq_factors(c.rope_theta, c.head_size(), c.rope_factor, c.rope_low_freq_factor,
                                                   c.rope_high_freq_factor, c.rope_original_context);
  }
  if (c.bos_id >= c.vocab_size) c.bos_id = -1;
  if (c.eos_id >= c.vocab_size) c.eos_id = -1;
  c.validate(path);
  return c;
}

ModelConfig read_hf_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_input_error(path, "cannot open config.json");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw_input_error(path, "malformed JSON: {}", e.what());
  }
  return config_from_hf_json(j, path);
}

nlohmann::json config_to_hf_json(const ModelConfig& c) {
  nlohmann::json j;
  for (const auto& f : kFamilies)
    if (c.arch == f.model_type) j["architectures"] = {f.architecture};
  j["model_type"] = c.arch;
  j["hidden_size"] = c.dim;
  j["intermediate_size"] = c.hidden_dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  // Only when explicit: transformers derives hidden_size / heads otherwise (Qwen3 defaults to 128).
  if (c.head_dim > 0 || c.arch == "qwen3") j["head_dim"] = c.head_size();
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.seq_len;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tied_embeddings;
  j["hidden_act"] = "silu";
  if (c.arch != "qwen2") j["attention_bias"] = c.attn_bias;
  if (c.arch == "mistral") j["sliding_window"] = c.sliding_window > 0 ? nlohmann::json(c.sliding_window) : nlohmann::json();
  if (c.bos_id >= 0) j["bos_token_id"] = c.bos_id;
  if (c.eos_id >= 0) j["eos_token_id"] = c.eos_id;
  if (c.rope_scaling == RopeScaling::linear) j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope_factor}};
  if (c.rope_scaling == RopeScaling::llama3) {
    if (c.rope_original_context <= 0)
      throw InputError("config.json: llama3 RoPE scaling read from a GGUF rope_freqs.weight tensor keeps only the "
                       "per-pair divisors, not the factor / low_freq_factor / high_freq_factor / "
                       "original_max_position_embeddings that config.json needs");
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_factor},
                         {"low_freq_factor", c.rope_low_freq_factor},
                         {"high_freq_factor", c.rope_high_freq_factor},
                         {"original_max_position_embeddings", c.rope_original_context}};
  }
  j["torch_dtype"] = "float32";
  return j;
}

}  // namespace mecllm::runtime
