// A SentencePiece tokenizer.model through libsentencepiece (the reference implementation, so
// Llama-2/Mistral tokenizer.model files tokenize exactly as their authors' code does).
#include <sentencepiece_processor.h>

#include "common/errors.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_detail.h"

namespace mecllm::runtime {

struct SentencePieceTokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
  std::vector<int32_t> control_ids;  // matched in text when parse_special
};

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& path) : impl_(std::make_unique<Impl>()) {
  const auto status = impl_->sp.Load(path);
  if (!status.ok()) throw_input_error(path, "not a SentencePiece model: {}", status.ToString());
  Vocab v;
  const int n = impl_->sp.GetPieceSize();
  if (n <= 0) throw_input_error(path, "SentencePiece model has no pieces");
  v.tokens.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    v.tokens.push_back(impl_->sp.IdToPiece(i));
    v.scores.push_back(impl_->sp.GetScore(i));
    TokenType t = TokenType::Normal;
    if (impl_->sp.IsUnknown(i)) t = TokenType::Unknown;
    else if (impl_->sp.IsControl(i)) t = TokenType::Control;
    else if (impl_->sp.IsUnused(i)) t = TokenType::Unused;
    else if (impl_->sp.IsByte(i)) t = TokenType::Byte;
    v.types.push_back(t);
    if (t == TokenType::Control) impl_->control_ids.push_back(i);
  }
  // libsentencepiece reports -1 for disabled ids, the same convention as Vocab.
  v.bos_id = impl_->sp.bos_id();
  v.eos_id = impl_->sp.eos_id();
  v.unk_id = impl_->sp.unk_id();
  v.pad_id = impl_->sp.pad_id();
  set_vocab(std::move(v));
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                                    bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  auto append = [&](std::string_view s) {
    if (s.empty()) return;
    std::vector<int> ids;
    const auto status = impl_->sp.Encode(s, &ids);
    MECLLM_CHECK(status.ok(), "SentencePiece Encode failed: {}", status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
  };
  // libsentencepiece never maps control-piece text to control ids; split on them ourselves.
  if (parse_special) {
    for (const auto& f : detail::split_on_specials(text, impl_->control_ids, vocab_)) {
      if (f.special_id >= 0) out.push_back(f.special_id);
      else append(f.text);
    }
  } else {
    append(text);
  }
  if (add_eos && vocab_.eos_id >= 0) out.push_back(vocab_.eos_id);
  return out;
}

std::string SentencePieceTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<int> v;
  v.reserve(ids.size());
  for (int32_t id : ids) {
    MECLLM_CHECK(id >= 0 && id < vocab_size(), "token id {} outside [0, {})", id, vocab_size());
    v.push_back(id);
  }
  std::string out;
  const auto status = impl_->sp.Decode(v, &out);
  MECLLM_CHECK(status.ok(), "SentencePiece Decode failed: {}", status.ToString());
  return out;
}

std::string SentencePieceTokenizer::decode_piece(int32_t prev, int32_t id) const {
  const TokenType t = token_type(id);
  if (t == TokenType::Control || t == TokenType::Unused) return "";
  if (t == TokenType::Byte) return std::string(1, static_cast<char>(detail::parse_byte_piece(token_text(id))));
  std::string piece(token_text(id));
  std::string out;
  for (size_t pos = 0; pos < piece.size();) {  // U+2581 is SentencePiece's spelling of ' '
    if (piece.compare(pos, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      pos += 3;
    } else {
      out += piece[pos++];
    }
  }
  if ((prev == -1 || prev == vocab_.bos_id) && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

}  // namespace mecllm::runtime
