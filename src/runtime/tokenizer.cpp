// Tokenizer base class (the shared id table) and load_tokenizer(), which picks a reader by file.
#include "runtime/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "runtime/gguf.h"
#include "runtime/mapped_file.h"

namespace mecllm::runtime {

Tokenizer::~Tokenizer() = default;

Tokenizer::Tokenizer(Vocab vocab) { set_vocab(std::move(vocab)); }

void Tokenizer::set_vocab(Vocab vocab) {
  MECLLM_CHECK(vocab.scores.size() == vocab.tokens.size() && vocab.types.size() == vocab.tokens.size(),
               "vocab arrays differ: {} tokens, {} scores, {} types", vocab.tokens.size(), vocab.scores.size(),
               vocab.types.size());
  vocab_ = std::move(vocab);
  index_.clear();
  index_.reserve(vocab_.tokens.size());
  for (size_t i = 0; i < vocab_.tokens.size(); ++i) index_.emplace(vocab_.tokens[i], static_cast<int32_t>(i));
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(vocab_.tokens.size()); }
int32_t Tokenizer::bos_id() const { return vocab_.bos_id; }
int32_t Tokenizer::eos_id() const { return vocab_.eos_id; }

std::string_view Tokenizer::token_text(int32_t id) const {
  MECLLM_CHECK(id >= 0 && id < vocab_size(), "token id {} outside [0, {})", id, vocab_size());
  return vocab_.tokens[static_cast<size_t>(id)];
}

float Tokenizer::score(int32_t id) const {
  MECLLM_CHECK(id >= 0 && id < vocab_size(), "token id {} outside [0, {})", id, vocab_size());
  return vocab_.scores[static_cast<size_t>(id)];
}

TokenType Tokenizer::token_type(int32_t id) const {
  MECLLM_CHECK(id >= 0 && id < vocab_size(), "token id {} outside [0, {})", id, vocab_size());
  return vocab_.types[static_cast<size_t>(id)];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  auto it = index_.find(text);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += decode_piece(prev, id);
    prev = id;
  }
  return out;
}

std::string Tokenizer::decode_piece(int32_t /*prev*/, int32_t id) const {
  TokenType t = token_type(id);
  if (t == TokenType::Control || t == TokenType::Unused) return "";
  return std::string(token_text(id));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {  // an HF model directory
    for (const char* name : {"tokenizer.json", "tokenizer.model"})
      if (fs::exists(fs::path(path) / name)) return load_tokenizer((fs::path(path) / name).string());
    throw_input_error(path, "directory has neither tokenizer.json nor tokenizer.model");
  }
  // a device or pipe (/dev/zero) would be read without end
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) throw_input_error(path, "not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_input_error(path, "cannot open tokenizer file");
  char head[4] = {0, 0, 0, 0};
  f.read(head, 4);
  const std::string ext = fs::path(path).extension().string();
  if (std::string_view(head, 4) == "GGUF") {
    const MappedFile file = MappedFile::open(path);
    const GgufContents gguf = parse_gguf(path, file.bytes());
    return tokenizer_from_gguf(gguf.metadata);
  }
  if (ext == ".json" || head[0] == '{') return load_hf_tokenizer(path);
  if (ext == ".model") return load_sentencepiece_tokenizer(path);
  return load_llama2c_tokenizer(path);
}

}  // namespace mecllm::runtime
