// SentencePiece-style BPE by merge scores with byte fallback (llama2.c's encode()), and the
// llama2.c tokenizer file reader/writer.
//
// Algorithm (as llama2.c run.c encode(), which follows SentencePiece's BPE model):
//  1. prepend the dummy-prefix space (text non-empty); with a metaspace vocabulary ' ' is
//     spelled U+2581 first;
//  2. split into UTF-8 characters; a character that is not a piece falls back to its bytes
//     <0xXX> (invalid UTF-8 bytes always do), and byte pieces never merge;
//  3. repeatedly merge the adjacent pair whose concatenation is a piece with the highest score,
//     the leftmost pair on ties, until no pair is a piece.
// Step 3 uses a heap of candidate pairs with lazy invalidation (O(n log n)), which picks the
// same pair as llama2.c's quadratic scan: highest score first, then the smallest offset.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <queue>

#include "common/errors.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_detail.h"
#include "runtime/unicode.h"

namespace mecllm::runtime {

namespace detail {

std::vector<Fragment> split_on_specials(std::string_view text, std::span<const int32_t> special_ids,
                                        const Vocab& vocab) {
  std::vector<int32_t> specials;
  for (int32_t id : special_ids)
    if (!vocab.tokens[static_cast<size_t>(id)].empty()) specials.push_back(id);
  std::stable_sort(specials.begin(), specials.end(), [&](int32_t a, int32_t b) {
    return vocab.tokens[static_cast<size_t>(a)].size() > vocab.tokens[static_cast<size_t>(b)].size();
  });
  std::vector<Fragment> out;
  size_t start = 0;  // start of the pending plain-text run
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t hit = -1;
    for (int32_t id : specials) {
      const std::string& t = vocab.tokens[static_cast<size_t>(id)];
      if (text.compare(pos, t.size(), t) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) {
      ++pos;
      continue;
    }
    if (pos > start) out.push_back({text.substr(start, pos - start), -1});
    out.push_back({text.substr(pos, vocab.tokens[static_cast<size_t>(hit)].size()), hit});
    pos += vocab.tokens[static_cast<size_t>(hit)].size();
    start = pos;
  }
  if (start < text.size()) out.push_back({text.substr(start), -1});
  return out;
}

int parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    char c = piece[i];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::vector<TokenType> derive_spm_types(std::span<const std::string> tokens) {
  std::vector<TokenType> types(tokens.size(), TokenType::Normal);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i == 0) types[i] = TokenType::Unknown;
    else if (i == 1 || i == 2) types[i] = TokenType::Control;
    else if (parse_byte_piece(tokens[i]) >= 0) types[i] = TokenType::Byte;
  }
  return types;
}

}  // namespace detail

namespace {
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    if (s.compare(pos, from.size(), from) == 0) {
      out += to;
      pos += from.size();
    } else {
      out += s[pos++];
    }
  }
  return out;
}
}  // namespace

SpmBpeTokenizer::SpmBpeTokenizer(std::vector<std::string> tokens, std::vector<float> scores,
                                 std::vector<TokenType> types, std::string source) {
  if (scores.size() != tokens.size())
    throw_input_error(source, "{} tokens but {} scores", tokens.size(), scores.size());
  if (types.empty()) types = detail::derive_spm_types(tokens);
  if (types.size() != tokens.size())
    throw_input_error(source, "{} tokens but {} token types", tokens.size(), types.size());
  Vocab v;
  v.tokens = std::move(tokens);
  v.scores = std::move(scores);
  v.types = std::move(types);
  for (size_t i = 0; i < v.types.size(); ++i) {
    if (v.types[i] == TokenType::Unknown && v.unk_id < 0) v.unk_id = static_cast<int32_t>(i);
  }
  // The llama2.c / SentencePiece convention: BOS=1, EOS=2 when those are control tokens.
  if (v.types.size() > 2 && v.types[1] == TokenType::Control) v.bos_id = 1;
  if (v.types.size() > 2 && v.types[2] == TokenType::Control) v.eos_id = 2;
  set_vocab(std::move(v));
  init(std::move(source));
}

SpmBpeTokenizer::SpmBpeTokenizer(Vocab vocab, std::string source) {
  if (vocab.scores.size() != vocab.tokens.size() || vocab.types.size() != vocab.tokens.size())
    throw_input_error(source, "vocabulary arrays differ in length: {} tokens, {} scores, {} types",
                      vocab.tokens.size(), vocab.scores.size(), vocab.types.size());
  const int32_t n = static_cast<int32_t>(vocab.tokens.size());
  for (auto [name, id] : {std::pair{"bos", vocab.bos_id}, std::pair{"eos", vocab.eos_id},
                          std::pair{"unk", vocab.unk_id}, std::pair{"pad", vocab.pad_id}})
    if (id < -1 || id >= n) throw_input_error(source, "{} token id {} outside [0, {})", name, id, n);
  set_vocab(std::move(vocab));
  init(std::move(source));
}

void SpmBpeTokenizer::init(std::string source) {
  if (vocab_.tokens.empty()) throw_input_error(source, "empty vocabulary");
  byte_ids_.assign(256, -1);
  size_t n_meta = 0, n_space = 0;
  for (size_t i = 0; i < vocab_.tokens.size(); ++i) {
    const std::string& t = vocab_.tokens[i];
    if (vocab_.types[i] == TokenType::Byte) {
      int b = detail::parse_byte_piece(t);
      if (b < 0) throw_input_error(source, "token {} has type BYTE but text '{}' is not <0xXX>", i, t);
      if (byte_ids_[static_cast<size_t>(b)] < 0) byte_ids_[static_cast<size_t>(b)] = static_cast<int32_t>(i);
    } else if (vocab_.types[i] == TokenType::Control || vocab_.types[i] == TokenType::UserDefined) {
      specials_.push_back(static_cast<int32_t>(i));
      if (vocab_.types[i] == TokenType::UserDefined) user_defined_.push_back(static_cast<int32_t>(i));
    }
    if (t.rfind(kMetaspace, 0) == 0) ++n_meta;
    if (!t.empty() && t[0] == ' ') ++n_space;
  }
  spaces_are_metaspace_ = n_meta > n_space;
}

void SpmBpeTokenizer::encode_segment(std::string_view raw, bool dummy_prefix, std::vector<int32_t>& out) const {
  if (raw.empty()) return;
  std::string text;
  if (dummy_prefix) text += ' ';
  text += raw;
  if (spaces_are_metaspace_) text = replace_all(text, " ", kMetaspace);

  const std::string_view tv = text;
  // One symbol per UTF-8 character (or per byte when it must fall back); a doubly linked list.
  struct Symbol {
    size_t off, len;
    int prev, next;
    bool fallback;  // byte-fallback symbols never merge
  };
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t n = utf8_char_len(text, pos);
    if (n > 0 && index_.find(tv.substr(pos, n)) != index_.end()) {
      sym.push_back({pos, n, static_cast<int>(sym.size()) - 1, static_cast<int>(sym.size()) + 1, false});
      pos += n;
      continue;
    }
    size_t nbytes = n > 0 ? n : 1;  // a valid character's bytes, or one invalid byte
    for (size_t k = 0; k < nbytes; ++k)
      sym.push_back({pos + k, 1, static_cast<int>(sym.size()) - 1, static_cast<int>(sym.size()) + 1, true});
    pos += nbytes;
  }
  sym.back().next = -1;

  struct Candidate {
    float score;
    int left, right;
    size_t left_len, right_len;
    int32_t id;
  };
  auto worse = [&](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score < b.score;
    return sym[static_cast<size_t>(a.left)].off > sym[static_cast<size_t>(b.left)].off;  // leftmost wins ties
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> heap(worse);
  auto try_pair = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const Symbol& a = sym[static_cast<size_t>(l)];
    const Symbol& b = sym[static_cast<size_t>(r)];
    if (a.fallback || b.fallback) return;
    auto it = index_.find(tv.substr(a.off, a.len + b.len));
    if (it == index_.end()) return;
    heap.push({vocab_.scores[static_cast<size_t>(it->second)], l, r, a.len, b.len, it->second});
  };
  for (size_t i = 0; i + 1 < sym.size(); ++i) try_pair(static_cast<int>(i), static_cast<int>(i + 1));

  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    Symbol& a = sym[static_cast<size_t>(c.left)];
    Symbol& b = sym[static_cast<size_t>(c.right)];
    // Stale when either side was merged away or grown since the candidate was pushed.
    if (a.len != c.left_len || b.len != c.right_len || a.next != c.right || b.len == 0) continue;
    a.len += b.len;
    a.next = b.next;
    if (b.next >= 0) sym[static_cast<size_t>(b.next)].prev = c.left;
    b.len = 0;
    try_pair(a.prev, c.left);
    try_pair(c.left, a.next);
  }

  for (int i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    const Symbol& s = sym[static_cast<size_t>(i)];
    if (s.fallback) {
      int32_t id = byte_ids_[static_cast<uint8_t>(text[s.off])];
      out.push_back(id >= 0 ? id : vocab_.unk_id >= 0 ? vocab_.unk_id : 0);
    } else {
      out.push_back(index_.find(tv.substr(s.off, s.len))->second);
    }
  }
}

std::vector<int32_t> SpmBpeTokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                             bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 2 + 2);
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  std::string collapsed;
  if (remove_extra_whitespaces) {
    // SentencePiece's normaliser: no leading or trailing spaces, one space for every run
    for (char c : text)
      if (c != ' ' || (!collapsed.empty() && collapsed.back() != ' ')) collapsed += c;
    if (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
    text = collapsed;
  }
  // User-defined pieces are matched in any text (as llama.cpp does); control pieces only when
  // the caller asks, so user text cannot smuggle in BOS/EOS.
  const auto& specials = parse_special ? specials_ : user_defined_;
  if (!specials.empty()) {
    auto frags = detail::split_on_specials(text, specials, vocab_);
    for (size_t i = 0; i < frags.size(); ++i) {
      if (frags[i].special_id >= 0) out.push_back(frags[i].special_id);
      // As llama.cpp: the dummy prefix goes only before text that opens the input.
      else encode_segment(frags[i].text, add_dummy_prefix && i == 0, out);
    }
  } else {
    encode_segment(text, add_dummy_prefix, out);
  }
  if (add_eos && vocab_.eos_id >= 0) out.push_back(vocab_.eos_id);
  return out;
}

std::string SpmBpeTokenizer::decode_piece(int32_t prev, int32_t id) const {
  const TokenType t = token_type(id);
  if (t == TokenType::Control || t == TokenType::Unused) return "";
  std::string_view piece = token_text(id);
  if (t == TokenType::Byte) return std::string(1, static_cast<char>(detail::parse_byte_piece(piece)));
  std::string out = spaces_are_metaspace_ ? replace_all(piece, kMetaspace, " ") : std::string(piece);
  // llama2.c: after BOS the dummy-prefix space is dropped; decode() also passes prev = -1 for
  // the first id, so a sequence encoded without BOS decodes back to its text as well.
  if (add_dummy_prefix && (prev == -1 || (prev >= 0 && prev == vocab_.bos_id)) && !out.empty() && out[0] == ' ')
    out.erase(0, 1);
  return out;
}

// ---------------------------------------------------------------------------------------------
// llama2.c tokenizer file.

std::unique_ptr<SpmBpeTokenizer> load_llama2c_tokenizer(const std::string& path, int32_t vocab_size) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_input_error(path, "cannot open tokenizer file");
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto read_i32 = [&](std::string_view what) {
    if (data.size() - pos < 4)
      throw_input_error(path, "truncated at byte {} reading {} (file has {} bytes)", pos, what, data.size());
    int32_t v;
    std::memcpy(&v, data.data() + pos, 4);
    pos += 4;
    return v;
  };
  if (vocab_size < 0) throw_input_error(path, "vocab_size {} is negative", vocab_size);
  const int32_t max_token_length = read_i32("max_token_length");
  if (max_token_length <= 0 || max_token_length > (1 << 20))
    throw_input_error(path, "max_token_length {} outside [1, 1048576]", max_token_length);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  while (vocab_size > 0 ? static_cast<int32_t>(tokens.size()) < vocab_size : pos < data.size()) {
    const size_t i = tokens.size();
    int32_t bits = read_i32(fmt::format("the score of token {}", i));
    float score;
    std::memcpy(&score, &bits, 4);
    if (std::isnan(score)) throw_input_error(path, "token {}: score is NaN", i);
    const int32_t len = read_i32(fmt::format("the length of token {}", i));
    if (len < 0 || len > max_token_length)
      throw_input_error(path, "token {}: length {} outside [0, max_token_length={}]", i, len, max_token_length);
    if (data.size() - pos < static_cast<size_t>(len))
      throw_input_error(path, "token {}: length {} runs past the end of the file ({} bytes left)", i, len,
                        data.size() - pos);
    tokens.emplace_back(data.data() + pos, static_cast<size_t>(len));
    scores.push_back(score);
    pos += static_cast<size_t>(len);
  }
  if (tokens.size() < 3) throw_input_error(path, "only {} tokens; need at least <unk>, BOS, EOS", tokens.size());
  return std::make_unique<SpmBpeTokenizer>(std::move(tokens), std::move(scores), std::vector<TokenType>{}, path);
}

void write_llama2c_tokenizer(const std::string& path, std::span<const std::string> tokens,
                             std::span<const float> scores) {
  MECLLM_CHECK(tokens.size() == scores.size(), "{} tokens but {} scores", tokens.size(), scores.size());
  int32_t max_len = 1;
  for (const auto& t : tokens) max_len = std::max(max_len, static_cast<int32_t>(t.size()));
  std::string buf;
  auto put = [&](const void* p, size_t n) { buf.append(static_cast<const char*>(p), n); };
  put(&max_len, 4);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const int32_t len = static_cast<int32_t>(tokens[i].size());
    put(&scores[i], 4);
    put(&len, 4);
    put(tokens[i].data(), tokens[i].size());
  }
  // Write beside the target and rename, so a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw_input_error(tmp, "cannot open for writing");
    f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (!f) throw_input_error(tmp, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw_input_error(path, "cannot rename {} into place", tmp);
}

}  // namespace mecllm::runtime
