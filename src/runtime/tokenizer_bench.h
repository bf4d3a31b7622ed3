// `mecllm bench tokenize`: encode/decode throughput of a tokenizer file against a reference
// measured in the same run on the same text:
//   spm-bpe       -> llama2.c's encode() merge loop (quadratic scan for the best pair),
//   byte-bpe      -> GPT-2's original bpe() loop (rescan for the lowest-ranked pair) after the
//                    same regex split,
//   sentencepiece -> ours is SpmBpeTokenizer on the model's vocabulary, the reference is
//                    libsentencepiece itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mecllm::runtime {

struct TokenizerBenchOptions {
  double seconds = 1.0;      // measuring time per case
  size_t chunk_bytes = 512;  // texts are encoded in prompt-sized chunks of about this size
  size_t total_bytes = 16384;
  uint64_t seed = 0;         // the text is sampled from the vocabulary with mecllm::Rng
};

struct TokenizerBenchResult {
  std::string path, kind, reference;
  size_t text_bytes = 0, tokens = 0;
  double encode_mb_s = 0, reference_mb_s = 0, decode_mb_s = 0;
  bool same_ids = false;  // ours and the reference gave identical ids on the whole text
  nlohmann::json to_json() const;
};

class Tokenizer;

// llama2.c's encode() loop (quadratic rescan for the best-scoring pair, first best wins, byte
// fallback to ids 3 + byte, ' ' dummy prefix): the reference the benchmark times and the oracle
// the tokenizer tests compare the heap-based merge with.
std::vector<int32_t> llama2c_reference_encode(const Tokenizer& tok, std::string_view text);

TokenizerBenchResult bench_tokenizer(const std::string& path, const TokenizerBenchOptions& options);

}  // namespace mecllm::runtime
