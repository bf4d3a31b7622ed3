// The runtime engine (src/runtime) behind the scorers' LanguageModel interface, plus what the
// evaluator measures on it: its footprint for the roofline and its speed on this machine.
// Compiled only when mecllm_runtime exists (see src/eval/CMakeLists.txt).
#pragma once

#include <memory>
#include <string>

#include "eval/language_model.h"
#include "eval/roofline.h"

namespace mecllm::runtime {
class Transformer;
class Tokenizer;
}  // namespace mecllm::runtime

namespace mecllm::eval {

struct RuntimeModelOptions {
  std::string model_path;
  std::string tokenizer_path;  // "": found beside/inside the model (runtime::tokenizer_for_model)
  int threads = 1;
  std::string weight_type;     // "": as stored; else re-quantise at load ("q8_0", "q4_0", ...)
};

// Host speed of one reference query, measured.
struct HostSpeed {
  int prompt_tokens = 0;
  int output_tokens = 0;
  double prefill_s = 0.0;  // one batched forward over the prompt
  double decode_s = 0.0;   // output_tokens single-token forwards
  double prefill_tok_s() const { return prefill_s > 0 ? prompt_tokens / prefill_s : 0.0; }
  double decode_tok_s() const { return decode_s > 0 ? output_tokens / decode_s : 0.0; }
};

class RuntimeModel : public LanguageModel {
 public:
  explicit RuntimeModel(const RuntimeModelOptions& options);
  ~RuntimeModel() override;

  std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const override;
  int32_t context_length() const override;
  int32_t bos_token() const override;
  std::vector<double> token_logprobs(std::span<const int32_t> tokens, size_t first) override;
  std::string generate_greedy(std::string_view prompt, int32_t max_tokens, std::span<const std::string> stop) override;
  std::string name() const override;

  // Weights, shapes and bytes from the model file (the name is the file stem).
  ModelFootprint footprint() const;
  std::string arch_summary() const;
  double kv_elem_bytes() const;  // of the engine's KV cache
  // Runs a prompt of prompt_tokens seeded-random ids then greedily decodes output_tokens
  // (clipped to the context), best of `reps` by total time.
  HostSpeed measure_speed(int prompt_tokens, int output_tokens, int reps, uint64_t seed);

 private:
  RuntimeModelOptions options_;
  std::unique_ptr<runtime::Transformer> model_;
  std::unique_ptr<runtime::Tokenizer> tokenizer_;
};

}  // namespace mecllm::eval
