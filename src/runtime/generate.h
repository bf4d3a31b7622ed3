// Text generation on the engine: prompt processing (one batched forward), then token by token
// sampling with streaming output, stop strings, EOS and the context limit; plus a Generator
// that keeps the KV cache between turns (chat).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/tokenizer.h"
#include "runtime/transformer.h"

namespace mecllm::runtime {

struct GenerateOptions {
  int max_tokens = 128;           // generated tokens at most; stops earlier at EOS/stop/context end
  SamplerConfig sampler;
  std::vector<std::string> stop;  // stop strings: generation ends before the first occurrence
  bool add_bos = true;            // prepend BOS to the (first) prompt
  bool stop_at_eos = true;
  std::vector<int32_t> stop_ids;  // further token ids that end generation (e.g. <|im_end|>)
};

struct GenerateResult {
  std::string text;             // generated text, stop string excluded
  std::vector<int32_t> tokens;  // generated ids (including the one that completed a stop string)
  int n_prompt = 0;             // prompt tokens processed by this call
  double prompt_seconds = 0;    // wall time of prompt processing
  double gen_seconds = 0;       // wall time of generation (sampling included)
  std::string stop_reason;      // "eos" | "stop" | "length" | "context" | "callback"
  double prompt_tps() const { return prompt_seconds > 0 ? n_prompt / prompt_seconds : 0; }
  double gen_tps() const { return gen_seconds > 0 ? static_cast<double>(tokens.size()) / gen_seconds : 0; }
};

// Receives each piece of text as it becomes final; return false to stop generating.
using StreamFn = std::function<bool(std::string_view piece)>;

// Holds back text that might be the start of a stop string, so streamed text never contains
// any part of one.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops);
  // Appends a piece; `emit` receives the text now safe to show. True when a stop string
  // completed (emit then holds the text before it, and the rest is dropped).
  bool push(std::string_view piece, std::string& emit);
  // Text still held back at the end of generation.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  std::string pending_;
};

class Generator {
 public:
  Generator(Transformer& model, const Tokenizer& tokenizer, GenerateOptions options);

  // Appends text (encoded; BOS first when this is the start and add_bos) to the context and
  // generates a reply. InputError when the prompt does not fit in the remaining context.
  GenerateResult generate(std::string_view prompt, const StreamFn& stream = {});
  // The same from token ids (parse_special formatting done by the caller, e.g. chat).
  GenerateResult generate_ids(std::span<const int32_t> prompt, const StreamFn& stream = {});
  // Generates after the whole context `ids`, reusing the cached prefix it shares with
  // history() (a chat re-sends the full conversation each turn; only new tokens are run).
  GenerateResult generate_after(std::span<const int32_t> ids, const StreamFn& stream = {});

  int position() const { return pos_; }
  const std::vector<int32_t>& history() const { return history_; }
  void reset();  // forget the context (the next prompt starts at position 0)

 private:
  Transformer& model_;
  const Tokenizer& tok_;
  GenerateOptions opt_;
  Sampler sampler_;
  int pos_ = 0;                   // next position to fill in the KV cache
  std::vector<int32_t> history_;  // every token in the cache, in order
  std::vector<float> logits_;     // logits after the last token fed, of the ids the tokenizer has

  void keep_decodable_logits(std::span<const float> logits);
};

// One-shot: a fresh Generator on `prompt`.
GenerateResult generate(Transformer& model, const Tokenizer& tokenizer, std::string_view prompt,
                        const GenerateOptions& options, const StreamFn& stream = {});

// The tokenizer of a model: `explicit_path` when given; else the GGUF's tokenizer.ggml.* keys,
// the tokenizer files of an HF directory, or for llama2.c a tokenizer.bin / tok*.bin beside
// the checkpoint. InputError naming what was looked for when none is found.
std::unique_ptr<Tokenizer> tokenizer_for_model(const ModelFile& file, const std::string& explicit_path = "");

}  // namespace mecllm::runtime
