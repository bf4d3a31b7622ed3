// GPT-2 style byte-level BPE (Llama-3, Qwen2): split the text with the pre-tokenizer regex,
// spell each pre-token's bytes with GPT-2's bytes_to_unicode alphabet, then apply ranked
// merges (lowest rank first, leftmost on ties) as Hugging Face tokenizers' BPE model does.
//
// Regexes run through PCRE2 with PCRE2_UTF | PCRE2_UCP (so \s, \p{L}, \p{N} are Unicode
// classes, as in the Rust regex/Oniguruma engines the patterns were written for) and
// PCRE2_MATCH_INVALID_UTF, so invalid UTF-8 never matches and instead falls into the gaps
// between matches, which are kept as their own pre-tokens: every byte reaches the BPE.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <unordered_map>

#include "common/errors.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_detail.h"
#include "runtime/unicode.h"

namespace mecllm::runtime {

namespace {

// GPT-2 bytes_to_unicode(): printable bytes stand for themselves; the other 68 bytes
// (0x00-0x20, 0x7F-0xA0, 0xAD) take code points 256, 257, ... in byte order.
struct ByteAlphabet {
  std::array<std::string, 256> to_unicode;
  std::unordered_map<char32_t, uint8_t> from_unicode;
  ByteAlphabet() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(to_unicode[static_cast<size_t>(b)], cp);
      from_unicode[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

// Patterns as published in the models' tokenizer.json files (see docs/tokenizers.md).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};

}  // namespace

std::string_view pre_tokenizer_pattern(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Gpt2: return kGpt2Pattern;
    case PreTokenizer::Llama3: return kLlama3Pattern;
    case PreTokenizer::Qwen2: return kQwen2Pattern;
  }
  return kGpt2Pattern;
}

std::string_view pre_tokenizer_name(PreTokenizer pre) {
  switch (pre) {
    case PreTokenizer::Gpt2: return "gpt2";
    case PreTokenizer::Llama3: return "llama3";
    case PreTokenizer::Qwen2: return "qwen2";
  }
  return "gpt2";
}

std::string byte_to_unicode(uint8_t b) { return alphabet().to_unicode[b]; }

std::string unicode_to_bytes(std::string_view piece) {
  const auto& a = alphabet();
  std::string out;
  out.reserve(piece.size());
  for (size_t pos = 0; pos < piece.size();) {
    const size_t n = utf8_char_len(piece, pos);
    if (n == 0) {  // not UTF-8: cannot be an alphabet character, pass the byte through
      out += piece[pos++];
      continue;
    }
    auto it = a.from_unicode.find(decode_utf8_at(piece, pos));
    if (it != a.from_unicode.end()) out += static_cast<char>(it->second);
    else out.append(piece.substr(pos, n));
    pos += n;
  }
  return out;
}

struct ByteBpeTokenizer::Impl {
  std::unique_ptr<pcre2_code, CodeDeleter> regex;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // (left id, right id) -> (rank, merged id)
  std::array<int32_t, 256> byte_ids{};  // id of each byte's alphabet character, -1 if absent
  std::vector<int32_t> always_split;    // UserDefined added tokens: matched in any text
  std::vector<int32_t> all_specials;    // plus Control tokens: matched when parse_special
  bool ignore_merges = false;
  bool add_prefix_space = false;
  bool add_bos = true;
  std::vector<std::pair<std::string, std::string>> merge_list;  // as given, for writers
};

ByteBpeTokenizer::ByteBpeTokenizer(ByteBpeModel model, std::string source)
    : impl_(std::make_unique<Impl>()), pre_(model.pre) {
  Vocab& v = model.vocab;
  if (v.tokens.empty()) throw_input_error(source, "empty vocabulary");
  if (v.scores.empty()) v.scores.assign(v.tokens.size(), 0.0f);
  if (v.types.empty()) v.types.assign(v.tokens.size(), TokenType::Normal);
  if (v.scores.size() != v.tokens.size() || v.types.size() != v.tokens.size())
    throw_input_error(source, "vocabulary arrays differ in length: {} tokens, {} scores, {} types", v.tokens.size(),
                      v.scores.size(), v.types.size());
  const int32_t n = static_cast<int32_t>(v.tokens.size());
  for (auto [name, id] : {std::pair{"bos", v.bos_id}, std::pair{"eos", v.eos_id}, std::pair{"unk", v.unk_id},
                          std::pair{"pad", v.pad_id}})
    if (id < -1 || id >= n) throw_input_error(source, "{} token id {} outside [0, {})", name, id, n);
  set_vocab(std::move(model.vocab));

  // Merges: both halves and the result must be tokens; the rank is the position in the list.
  for (size_t r = 0; r < model.merges.size(); ++r) {
    const auto& [l, rt] = model.merges[r];
    auto li = index_.find(l), ri = index_.find(rt), mi = index_.find(l + rt);
    if (li == index_.end() || ri == index_.end() || mi == index_.end()) {
      const std::string& missing = li == index_.end() ? l : ri == index_.end() ? rt : l + rt;
      throw_input_error(source, "merge {} '{} {}': '{}' is not in the vocabulary", r, l, rt, missing);
    }
    impl_->merges.try_emplace(pair_key(li->second, ri->second), static_cast<int32_t>(r), mi->second);
  }
  for (int b = 0; b < 256; ++b) {
    auto it = index_.find(alphabet().to_unicode[static_cast<size_t>(b)]);
    impl_->byte_ids[static_cast<size_t>(b)] = it == index_.end() ? -1 : it->second;
    if (it == index_.end() && vocab_.unk_id < 0)
      throw_input_error(source, "byte 0x{:02X} (spelled '{}') is not in the vocabulary and there is no unk token", b,
                        alphabet().to_unicode[static_cast<size_t>(b)]);
  }
  for (int32_t i = 0; i < n; ++i) {
    const TokenType t = vocab_.types[static_cast<size_t>(i)];
    if (t == TokenType::UserDefined) impl_->always_split.push_back(i);
    if (t == TokenType::UserDefined || t == TokenType::Control) impl_->all_specials.push_back(i);
  }
  impl_->merge_list = std::move(model.merges);
  impl_->add_bos = model.add_bos;
  impl_->ignore_merges = model.ignore_merges;
  impl_->add_prefix_space = model.add_prefix_space;

  const std::string pattern = model.pattern.empty() ? std::string(pre_tokenizer_pattern(model.pre)) : model.pattern;
  int err = 0;
  PCRE2_SIZE err_off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_off, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw_input_error(source, "pre-tokenizer regex '{}' does not compile at offset {}: {}", pattern, err_off,
                      reinterpret_cast<const char*>(msg));
  }
  impl_->regex.reset(code);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; the interpreter is the fallback
}

ByteBpeTokenizer::~ByteBpeTokenizer() = default;

const std::vector<std::pair<std::string, std::string>>& ByteBpeTokenizer::merges() const { return impl_->merge_list; }
bool ByteBpeTokenizer::add_bos_default() const { return impl_->add_bos; }

std::vector<std::string_view> ByteBpeTokenizer::pre_split(std::string_view text) const {
  std::vector<std::string_view> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->regex.get(), nullptr);
  MECLLM_CHECK(md != nullptr, "pcre2_match_data_create_from_pattern failed");
  size_t pos = 0, gap = 0;  // gap: start of text not covered by a match yet
  while (pos <= text.size()) {
    int rc = pcre2_match(impl_->regex.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, 0, md, nullptr);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH (invalid UTF-8 cannot raise errors with MATCH_INVALID_UTF)
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t s = ov[0], e = ov[1];
    if (s > gap) out.push_back(text.substr(gap, s - gap));
    if (e > s) out.push_back(text.substr(s, e - s));
    gap = e;
    if (e == s) {  // an empty match: step over one character (or one invalid byte)
      const size_t n = utf8_char_len(text, e);
      pos = e + (n > 0 ? n : 1);
    } else {
      pos = e;
    }
    if (pos > text.size()) break;
  }
  pcre2_match_data_free(md);
  if (gap < text.size()) out.push_back(text.substr(gap));
  return out;
}

std::vector<int32_t> ByteBpeTokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                              bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);

  std::string spelled;
  struct Symbol {
    int32_t id;
    int prev, next;
  };
  std::vector<Symbol> sym;
  struct Candidate {
    int32_t rank;
    int left;
    int32_t left_id, right_id, merged;
  };
  std::vector<Candidate> heap;
  auto encode_word = [&](std::string_view word) {
    if (word.empty()) return;
    spelled.clear();
    for (unsigned char c : word) spelled += alphabet().to_unicode[c];
    if (impl_->ignore_merges) {
      auto it = index_.find(spelled);
      if (it != index_.end()) {
        out.push_back(it->second);
        return;
      }
    }
    sym.clear();
    for (unsigned char c : word) {
      const int32_t id = impl_->byte_ids[c] >= 0 ? impl_->byte_ids[c] : vocab_.unk_id;
      sym.push_back({id, static_cast<int>(sym.size()) - 1, static_cast<int>(sym.size()) + 1});
    }
    sym.back().next = -1;
    // Lowest rank first, then leftmost: position order equals index order in `sym`.
    auto worse = [](const Candidate& a, const Candidate& b) {
      return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
    };
    heap.clear();  // reused across words: no allocation per pre-token once warm
    auto try_pair = [&](int l) {
      if (l < 0) return;
      const int r = sym[static_cast<size_t>(l)].next;
      if (r < 0) return;
      const int32_t a = sym[static_cast<size_t>(l)].id, b = sym[static_cast<size_t>(r)].id;
      auto it = impl_->merges.find(pair_key(a, b));
      if (it == impl_->merges.end()) return;
      heap.push_back({it->second.first, l, a, b, it->second.second});
      std::push_heap(heap.begin(), heap.end(), worse);
    };
    for (size_t i = 0; i + 1 < sym.size(); ++i) try_pair(static_cast<int>(i));
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      const Candidate c = heap.back();
      heap.pop_back();
      Symbol& a = sym[static_cast<size_t>(c.left)];
      if (a.id != c.left_id || a.next < 0) continue;  // stale: the left side changed
      Symbol& b = sym[static_cast<size_t>(a.next)];
      if (b.id != c.right_id) continue;  // stale: the right neighbour changed
      a.id = c.merged;
      a.next = b.next;
      if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = c.left;
      b.id = -2;  // removed
      try_pair(a.prev);
      try_pair(c.left);
    }
    for (int i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next)
      if (sym[static_cast<size_t>(i)].id >= 0) out.push_back(sym[static_cast<size_t>(i)].id);
  };

  std::string prefixed;
  if (impl_->add_prefix_space && !text.empty() && text[0] != ' ') {
    prefixed = " ";
    prefixed += text;
    text = prefixed;
  }
  const auto& specials = parse_special ? impl_->all_specials : impl_->always_split;
  for (const auto& frag : detail::split_on_specials(text, specials, vocab_)) {
    if (frag.special_id >= 0) {
      out.push_back(frag.special_id);
      continue;
    }
    for (std::string_view word : pre_split(frag.text)) encode_word(word);
  }
  if (add_eos && vocab_.eos_id >= 0) out.push_back(vocab_.eos_id);
  return out;
}

std::string ByteBpeTokenizer::decode_piece(int32_t /*prev*/, int32_t id) const {
  const TokenType t = token_type(id);
  if (t == TokenType::Control || t == TokenType::Unused) return "";
  if (t == TokenType::UserDefined) return std::string(token_text(id));  // added tokens are stored verbatim
  return unicode_to_bytes(token_text(id));
}

std::string ByteBpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  // As HF's ByteLevel decoder: a prefix space added by add_prefix_space stays in the text.
  for (int32_t id : ids) out += decode_piece(-1, id);
  return out;
}

}  // namespace mecllm::runtime
