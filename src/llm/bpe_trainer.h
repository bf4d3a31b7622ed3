// A small SentencePiece-style BPE trainer (Sennrich et al. 2016, "Neural Machine Translation of
// Rare Words with Subword Units"; piece conventions of SentencePiece, Kudo & Richardson 2018).
//
// The vocabulary it produces follows the llama2.c / Llama-2 layout, so the project's ordinary
// SentencePiece-BPE encoder (runtime/tokenizer.h) runs it unchanged:
//   id 0 "<unk>", 1 "<s>" (BOS), 2 "</s>" (EOS), 3..258 byte fallbacks "<0x00>".."<0xFF>",
//   then every character seen in the corpus, then merged pieces. A merged piece's score is
//   -(merge rank), so "merge the adjacent pair whose concatenation scores highest" replays the
//   training merges in order. Words carry their leading space (the encoder adds the dummy-prefix
//   space before the first word); a newline is its own symbol and never merges.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mecllm::llm {

struct BpeVocab {
  std::vector<std::string> tokens;  // (vocab_size) piece bytes, spaces as ' '
  std::vector<float> scores;        // (vocab_size) merge priority: higher merges first
  std::vector<int32_t> types;       // (vocab_size) GGUF token types: 1 normal, 2 unknown, 3 control, 6 byte
};

inline constexpr int kBpeUnk = 0;
inline constexpr int kBpeBos = 1;
inline constexpr int kBpeEos = 2;
inline constexpr int kBpeFirstByte = 3;  // <0x00>; byte b is id 3 + b

// Learns merges over `documents` until the vocabulary holds `vocab_size` pieces (fewer when the
// corpus runs out of pairs seen at least twice). Deterministic: ties break by the pair's text.
BpeVocab train_bpe(const std::vector<std::string>& documents, int vocab_size);

// Writes the vocabulary in the llama2.c tokenizer layout through the runtime's writer.
void write_bpe_tokenizer(const BpeVocab& vocab, const std::filesystem::path& path);

}  // namespace mecllm::llm
