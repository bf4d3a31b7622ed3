// Tokenizers from and to GGUF metadata (llama.cpp's tokenizer.ggml.* keys, see ggml's
// docs/gguf.md "Tokenizer" section and llama.cpp's llama-vocab.cpp for the pre-tokenizer names).
#include <algorithm>

#include "common/errors.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer.h"

namespace mecllm::runtime {

namespace {

int32_t optional_id(const GgufMetadata& md, std::string_view key, size_t n_tokens) {
  auto v = md.find_int(key);
  if (!v) return -1;
  if (*v < 0 || static_cast<uint64_t>(*v) >= n_tokens)
    throw_input_error(md.path(), "{} = {} is outside the vocabulary [0, {})", key, *v, n_tokens);
  return static_cast<int32_t>(*v);
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufMetadata& md) {
  const std::string model = md.get_string("tokenizer.ggml.model");
  const std::vector<std::string>& tokens = md.get_string_array("tokenizer.ggml.tokens");
  const size_t n = tokens.size();
  if (n == 0) throw_input_error(md.path(), "tokenizer.ggml.tokens is empty");

  Vocab v;
  v.tokens = tokens;
  if (auto scores = md.find_float_array("tokenizer.ggml.scores")) {
    if (scores->size() != n)
      throw_input_error(md.path(), "tokenizer.ggml.scores has {} entries, expected {} (one per token)", scores->size(), n);
    v.scores = std::move(*scores);
  } else {
    v.scores.assign(n, 0.0f);
  }
  if (auto types = md.find_int_array("tokenizer.ggml.token_type")) {
    if (types->size() != n)
      throw_input_error(md.path(), "tokenizer.ggml.token_type has {} entries, expected {} (one per token)",
                        types->size(), n);
    v.types.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i];
      if (t < 0 || t > 6)
        throw_input_error(md.path(), "tokenizer.ggml.token_type[{}] = {} is not a token type (0..6)", i, t);
      v.types.push_back(static_cast<TokenType>(t));
    }
  } else {
    v.types.assign(n, TokenType::Normal);
  }
  v.bos_id = optional_id(md, "tokenizer.ggml.bos_token_id", n);
  v.eos_id = optional_id(md, "tokenizer.ggml.eos_token_id", n);
  v.unk_id = optional_id(md, "tokenizer.ggml.unknown_token_id", n);
  v.pad_id = optional_id(md, "tokenizer.ggml.padding_token_id", n);

  if (model == "llama") {
    auto tok = std::make_unique<SpmBpeTokenizer>(std::move(v), md.path());
    tok->add_dummy_prefix = md.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    return tok;
  }
  if (model == "gpt2") {
    ByteBpeModel bm;
    bm.vocab = std::move(v);
    const std::vector<std::string>& merges = md.get_string_array("tokenizer.ggml.merges");
    bm.merges.reserve(merges.size());
    for (size_t r = 0; r < merges.size(); ++r) {
      const size_t sp = merges[r].find(' ', 1);
      if (sp == std::string::npos || sp + 1 >= merges[r].size())
        throw_input_error(md.path(), "tokenizer.ggml.merges[{}] = '{}' is not 'left right'", r, merges[r]);
      bm.merges.emplace_back(merges[r].substr(0, sp), merges[r].substr(sp + 1));
    }
    const std::string pre = md.find_string("tokenizer.ggml.pre").value_or("default");
    bm.pre = pre == "llama-bpe" || pre == "llama3" ? PreTokenizer::Llama3
             : pre == "qwen2"                      ? PreTokenizer::Qwen2
                                                   : PreTokenizer::Gpt2;
    bm.add_bos = md.find_bool("tokenizer.ggml.add_bos_token").value_or(bm.pre == PreTokenizer::Llama3);
    return std::make_unique<ByteBpeTokenizer>(std::move(bm), md.path());
  }
  throw_input_error(md.path(), "tokenizer.ggml.model = '{}' is not supported (expected 'llama' or 'gpt2')", model);
}

void tokenizer_to_gguf(const Tokenizer& tok, GgufMetadata& md) {
  const Vocab& v = tok.vocab();
  const auto* bpe = dynamic_cast<const ByteBpeTokenizer*>(&tok);
  md.set("tokenizer.ggml.model", GgufValue::of_string(bpe ? "gpt2" : "llama"));
  if (bpe) {
    const PreTokenizer p = bpe->pre_tokenizer();
    md.set("tokenizer.ggml.pre", GgufValue::of_string(p == PreTokenizer::Llama3  ? "llama-bpe"
                                                      : p == PreTokenizer::Qwen2 ? "qwen2"
                                                                                 : "gpt-2"));
  } else {
    md.set("tokenizer.ggml.pre", GgufValue::of_string("default"));
  }
  md.set("tokenizer.ggml.tokens", GgufValue::of_strings(v.tokens));
  md.set("tokenizer.ggml.scores", GgufValue::of_f32s(v.scores));
  std::vector<int32_t> types(v.types.size());
  std::transform(v.types.begin(), v.types.end(), types.begin(), [](TokenType t) { return static_cast<int32_t>(t); });
  md.set("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
  if (bpe) {
    std::vector<std::string> merges;
    merges.reserve(bpe->merges().size());
    for (const auto& [l, r] : bpe->merges()) merges.push_back(l + " " + r);
    md.set("tokenizer.ggml.merges", GgufValue::of_strings(std::move(merges)));
  }
  auto set_id = [&](const char* key, int32_t id) {
    if (id >= 0) md.set(key, GgufValue::of_u32(static_cast<uint32_t>(id)));
    else md.erase(key);
  };
  set_id("tokenizer.ggml.bos_token_id", v.bos_id);
  set_id("tokenizer.ggml.eos_token_id", v.eos_id);
  set_id("tokenizer.ggml.unknown_token_id", v.unk_id);
  set_id("tokenizer.ggml.padding_token_id", v.pad_id);
  md.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(bpe ? bpe->add_bos_default() : v.bos_id >= 0));
  if (const auto* spm = dynamic_cast<const SpmBpeTokenizer*>(&tok))
    md.set("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(spm->add_dummy_prefix));
}

}  // namespace mecllm::runtime
