// A SentencePiece tokenizer.model read without libsentencepiece: the file is a protobuf
// ModelProto (sentencepiece_model.proto, proto2), of which we need the pieces, a few trainer
// fields and the normaliser flags. The reader knows only the protobuf wire format (varints,
// fixed32/64, length-delimited fields; Protocol Buffers encoding guide) and skips every field it
// does not use. Why not the library: in a binary that also links LibTorch, libprotobuf (pulled in
// by LibTorch) takes over the protobuf symbols libsentencepiece bundles, and every load fails
// its version check.
#include <cstring>

#include "common/errors.h"
#include "common/rundir.h"
#include "runtime/tokenizer.h"

namespace mecllm::runtime {

namespace {

// Field numbers of sentencepiece_model.proto.
constexpr uint32_t kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
constexpr uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint32_t kTrainerModelType = 3, kTrainerByteFallback = 35, kTrainerUnkId = 40, kTrainerBosId = 41,
                   kTrainerEosId = 42, kTrainerPadId = 43;
constexpr uint32_t kNormName = 1, kNormCharsmap = 2, kNormDummyPrefix = 3, kNormRemoveWhitespace = 4;

enum class Wire : uint32_t { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 };

struct Field {
  uint32_t number = 0;
  Wire wire = Wire::Varint;
  uint64_t varint = 0;      // Varint
  uint32_t fixed32 = 0;     // Fixed32
  std::string_view bytes;   // Bytes
};

// One message's fields in order; errors name the file and the byte offset.
class Reader {
 public:
  Reader(std::string_view data, const std::string& path, size_t base) : data_(data), path_(path), base_(base) {}
  bool done() const { return pos_ >= data_.size(); }

  Field next() {
    Field f;
    const size_t at = pos_;
    const uint64_t key = varint();
    f.number = static_cast<uint32_t>(key >> 3);
    if (f.number == 0 || key >> 32 != 0) fail(at, "field number {} is not valid", key >> 3);
    switch (key & 7) {
      case 0: f.wire = Wire::Varint, f.varint = varint(); break;
      case 1: f.wire = Wire::Fixed64, take(8); break;
      case 2: {
        f.wire = Wire::Bytes;
        const uint64_t n = varint();
        if (n > data_.size() - pos_) fail(at, "field {} claims {} bytes, {} are left", f.number, n, data_.size() - pos_);
        f.bytes = data_.substr(pos_, static_cast<size_t>(n));
        pos_ += static_cast<size_t>(n);
        break;
      }
      case 5: {
        f.wire = Wire::Fixed32;
        std::memcpy(&f.fixed32, take(4), 4);
        break;
      }
      default: fail(at, "wire type {} (groups or invalid) in field {}", key & 7, f.number);
    }
    return f;
  }
  Reader sub(const Field& f) const {
    return Reader(f.bytes, path_, base_ + static_cast<size_t>(f.bytes.data() - data_.data()));
  }
  template <class... A>
  [[noreturn]] void fail(size_t at, fmt::format_string<A...> what, A&&... a) const {
    throw_input_error(path_, "not a SentencePiece model (byte {}): {}", base_ + at,
                      fmt::format(what, std::forward<A>(a)...));
  }
  void expect(const Field& f, Wire w, const char* name) const {
    if (f.wire != w) fail(pos_, "{} (field {}) has wire type {}", name, f.number, static_cast<uint32_t>(f.wire));
  }

 private:
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail(pos_, "the data ends inside a varint");
      const auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail(pos_, "a varint longer than 10 bytes");
  }
  const char* take(size_t n) {
    if (n > data_.size() - pos_) fail(pos_, "the data ends inside a {}-byte field", n);
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }

  std::string_view data_;
  const std::string& path_;
  size_t base_;
  size_t pos_ = 0;
};

// proto2 int32 fields are sign-extended to 64 bits on the wire (-1 is ten bytes).
int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<int64_t>(v)); }

void read_piece(Reader r, SentencePieceModel& m) {
  std::string text;
  float score = 0.0f;
  auto type = TokenType::Normal;  // the proto's default
  while (!r.done()) {
    const Field f = r.next();
    if (f.number == kPieceText) r.expect(f, Wire::Bytes, "piece"), text = std::string(f.bytes);
    else if (f.number == kPieceScore) r.expect(f, Wire::Fixed32, "score"), std::memcpy(&score, &f.fixed32, 4);
    else if (f.number == kPieceType) {
      r.expect(f, Wire::Varint, "type");
      if (f.varint < 1 || f.varint > 6) r.fail(0, "piece '{}' has type {}, expected 1..6", text, f.varint);
      type = static_cast<TokenType>(f.varint);
    }
  }
  m.vocab.tokens.push_back(std::move(text));
  m.vocab.scores.push_back(score);
  m.vocab.types.push_back(type);
}

void read_trainer(Reader r, SentencePieceModel& m) {
  while (!r.done()) {
    const Field f = r.next();
    if (f.wire != Wire::Varint) continue;
    switch (f.number) {
      case kTrainerModelType: m.model_type = static_cast<int>(f.varint); break;
      case kTrainerByteFallback: m.byte_fallback = f.varint != 0; break;
      case kTrainerUnkId: m.vocab.unk_id = as_int32(f.varint); break;
      case kTrainerBosId: m.vocab.bos_id = as_int32(f.varint); break;
      case kTrainerEosId: m.vocab.eos_id = as_int32(f.varint); break;
      case kTrainerPadId: m.vocab.pad_id = as_int32(f.varint); break;
      default: break;
    }
  }
}

void read_normalizer(Reader r, SentencePieceModel& m) {
  while (!r.done()) {
    const Field f = r.next();
    if (f.number == kNormName && f.wire == Wire::Bytes) m.normalizer = std::string(f.bytes);
    else if (f.number == kNormCharsmap && f.wire == Wire::Bytes) m.has_charsmap = !f.bytes.empty();
    else if (f.number == kNormDummyPrefix && f.wire == Wire::Varint) m.add_dummy_prefix = f.varint != 0;
    else if (f.number == kNormRemoveWhitespace && f.wire == Wire::Varint) m.remove_extra_whitespaces = f.varint != 0;
  }
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(const std::string& path, std::string_view data) {
  SentencePieceModel m;
  m.vocab.unk_id = 0, m.vocab.bos_id = 1, m.vocab.eos_id = 2, m.vocab.pad_id = -1;  // TrainerSpec defaults
  Reader r(data, path, 0);
  while (!r.done()) {
    const Field f = r.next();
    if (f.number == kModelPieces) r.expect(f, Wire::Bytes, "pieces"), read_piece(r.sub(f), m);
    else if (f.number == kModelTrainerSpec) r.expect(f, Wire::Bytes, "trainer_spec"), read_trainer(r.sub(f), m);
    else if (f.number == kModelNormalizerSpec) r.expect(f, Wire::Bytes, "normalizer_spec"), read_normalizer(r.sub(f), m);
  }
  const auto n = static_cast<int32_t>(m.vocab.tokens.size());
  if (n == 0) throw_input_error(path, "not a SentencePiece model: it has no pieces");
  for (int32_t* id : {&m.vocab.unk_id, &m.vocab.bos_id, &m.vocab.eos_id, &m.vocab.pad_id}) {
    if (*id < -1 || *id >= n) throw_input_error(path, "special token id {} outside the {} pieces", *id, n);
  }
  return m;
}

SentencePieceModel read_sentencepiece_model(const std::string& path) {
  return parse_sentencepiece_model(path, read_text_file(path));
}

std::string_view SentencePieceModel::model_type_name() const {
  switch (model_type) {
    case 1: return "unigram";
    case 2: return "bpe";
    case 3: return "word";
    case 4: return "char";
    default: return "unknown";
  }
}

bool SentencePieceModel::spm_bpe_exact() const {
  // SpmBpeTokenizer is SentencePiece's BPE; it has the whitespace rule but no normalisation
  // table (Llama 2, Mistral, TinyLlama tokenizer.model files have none).
  return model_type == 2 && !has_charsmap;
}

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path) {
  SentencePieceModel m = read_sentencepiece_model(path);
  if (m.spm_bpe_exact()) {
    auto tok = std::make_unique<SpmBpeTokenizer>(std::move(m.vocab), path);
    tok->add_dummy_prefix = m.add_dummy_prefix;
    tok->remove_extra_whitespaces = m.remove_extra_whitespaces;
    return tok;
  }
  try {
    return std::make_unique<SentencePieceTokenizer>(path);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw_input_error(path,
                      "a SentencePiece {} model with normaliser '{}' needs libsentencepiece, which failed to load "
                      "it: {} (in a binary that links LibTorch, LibTorch's libprotobuf displaces the protobuf "
                      "libsentencepiece bundles; a build with -DMECLLM_WITH_TORCH=OFF reads this file)",
                      m.model_type_name(), m.normalizer, e.what());
  }
}

}  // namespace mecllm::runtime
