#include "llm/bpe_trainer.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/errors.h"
#include "runtime/tokenizer.h"

namespace mecllm::llm {

namespace {

// Splits a UTF-8 string into characters (a malformed lead byte counts as one character, which
// the encoder then sends to byte fallback).
std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// Pre-tokenisation as SentencePiece sees it: the dummy prefix space, then words that own their
// leading space; each newline stands alone.
void count_words(const std::string& doc, std::map<std::string, int64_t>& counts) {
  const std::string text = " " + doc;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) ++counts[word];
    word.clear();
  };
  for (char c : text) {
    if (c == '\n') {
      flush();
      ++counts["\n"];
    } else if (c == ' ') {
      // A run of spaces: each space after the first is a word of its own, like SentencePiece.
      flush();
      word.assign(1, ' ');  // (not `word = " "`: GCC 12 warns a false -Wrestrict on it)
    } else {
      word += c;
    }
  }
  flush();
}

}  // namespace

BpeVocab train_bpe(const std::vector<std::string>& documents, int vocab_size) {
  MECLLM_CHECK(vocab_size >= kBpeFirstByte + 256, "vocab_size {} leaves no room past the byte fallbacks", vocab_size);
  BpeVocab v;
  auto add = [&](std::string piece, float score, int32_t type) {
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0.0f, 2);
  add("<s>", 0.0f, 3);
  add("</s>", 0.0f, 3);
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), 0.0f, 6);

  std::map<std::string, int64_t> word_counts;
  for (const auto& d : documents) count_words(d, word_counts);

  // Words as symbol sequences, with their counts.
  std::vector<std::vector<std::string>> words;
  std::vector<int64_t> counts;
  std::set<std::string> alphabet;
  for (const auto& [w, c] : word_counts) {
    words.push_back(utf8_chars(w));
    counts.push_back(c);
    for (const auto& ch : words.back()) alphabet.insert(ch);
  }
  std::set<std::string> known;
  for (const auto& t : v.tokens) known.insert(t);
  // Single characters: scored below every merge so they never outrank one.
  const float char_score_base = -1e6f;
  int char_index = 0;
  for (const auto& ch : alphabet) {
    if (static_cast<int>(v.tokens.size()) >= vocab_size) break;
    if (known.insert(ch).second) add(ch, char_score_base - static_cast<float>(char_index++), 1);
  }

  int rank = 0;
  while (static_cast<int>(v.tokens.size()) < vocab_size) {
    // Count adjacent pairs (newline words have one symbol and never pair up).
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (size_t w = 0; w < words.size(); ++w)
      for (size_t i = 0; i + 1 < words[w].size(); ++i) pairs[{words[w][i], words[w][i + 1]}] += counts[w];
    std::pair<std::string, std::string> best;
    int64_t best_count = 1;  // a pair seen once is not worth a piece
    for (const auto& [p, c] : pairs)
      if (c > best_count) best = p, best_count = c;
    if (best_count <= 1) break;
    const std::string merged = best.first + best.second;
    if (known.insert(merged).second) add(merged, -static_cast<float>(rank), 1);
    ++rank;
    for (auto& w : words) {
      std::vector<std::string> out;
      out.reserve(w.size());
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == best.first && w[i + 1] == best.second) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(w[i]);
        }
      }
      w = std::move(out);
    }
  }
  return v;
}

}  // namespace mecllm::llm

namespace mecllm::llm {

void write_bpe_tokenizer(const BpeVocab& vocab, const std::filesystem::path& path) {
  runtime::write_llama2c_tokenizer(path.string(), vocab.tokens, vocab.scores);
}

}  // namespace mecllm::llm
