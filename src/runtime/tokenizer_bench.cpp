// Tokenizer throughput against a naive reference (see tokenizer_bench.h).
#include "runtime/tokenizer_bench.h"


#include <functional>
#include <map>

#include "common/clock.h"
#include "common/errors.h"
#include "common/rng.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_detail.h"

namespace mecllm::runtime {

namespace {


// Runs fn repeatedly for at least `seconds`; returns bytes per second (MB/s) over `bytes` per call.
double measure(double seconds, size_t bytes, const std::function<void()>& fn) {
  fn();  // warm-up
  size_t calls = 0;
  const auto start = SteadyClock::now();
  double elapsed = 0;
  do {
    fn();
    ++calls;
    elapsed = mecllm::seconds_since(start);
  } while (elapsed < seconds);
  return static_cast<double>(bytes) * static_cast<double>(calls) / elapsed / 1e6;
}

// Text sampled from the vocabulary's normal pieces (their decoded bytes), cut into chunks.
std::vector<std::string> sample_text(const Tokenizer& tok, const TokenizerBenchOptions& o) {
  std::vector<int32_t> normal;
  for (int32_t i = 0; i < tok.vocab_size(); ++i)
    if (tok.token_type(i) == TokenType::Normal) normal.push_back(i);
  if (normal.empty()) throw InputError("bench tokenize: the vocabulary has no normal tokens to sample text from");
  Rng rng(o.seed);
  std::vector<std::string> chunks(1);
  size_t total = 0;
  while (total < o.total_bytes) {
    std::string piece = tok.decode_piece(-2, normal[rng.below(normal.size())]);
    if (rng.bernoulli(0.15)) piece += ' ';
    chunks.back() += piece;
    total += piece.size();
    if (chunks.back().size() >= o.chunk_bytes) chunks.emplace_back();
  }
  if (chunks.back().empty()) chunks.pop_back();
  return chunks;
}

// GPT-2 bpe(): per pre-token, rescan for the lowest-ranked pair and merge it, until none.
std::vector<int32_t> gpt2_encode(const ByteBpeTokenizer& tok, const std::map<std::pair<std::string, std::string>, size_t>& ranks,
                                 std::string_view text) {
  std::vector<int32_t> ids;
  for (std::string_view word : tok.pre_split(text)) {
    std::vector<std::string> parts;
    for (unsigned char c : word) parts.push_back(byte_to_unicode(c));
    while (parts.size() > 1) {
      size_t best = SIZE_MAX, at = 0;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = ranks.find({parts[i], parts[i + 1]});
        if (it != ranks.end() && it->second < best) {
          best = it->second;
          at = i;
        }
      }
      if (best == SIZE_MAX) break;
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    for (const auto& p : parts) ids.push_back(tok.find_token(p).value_or(-1));
  }
  return ids;
}

}  // namespace

// llama2.c encode(): after the initial split, rescan all pairs for the best score each step.
std::vector<int32_t> llama2c_reference_encode(const Tokenizer& tok, std::string_view text) {
  // As llama2.c: ids 3 + byte for byte fallback and a literal ' ' dummy prefix (none for "").
  std::vector<int32_t> ids;
  if (text.empty()) return ids;
  std::string t = " ";
  t += text;
  for (size_t i = 0; i < t.size();) {
    size_t j = i + 1;
    while (j < t.size() && (static_cast<uint8_t>(t[j]) & 0xC0) == 0x80 && j - i < 4) ++j;
    if (auto id = tok.find_token(std::string_view(t).substr(i, j - i))) ids.push_back(*id);
    else
      for (size_t k = i; k < j; ++k) ids.push_back(static_cast<uint8_t>(t[k]) + 3);
    i = j;
  }
  std::string buf;
  while (true) {
    float best = -1e10f;
    int best_i = -1;
    int32_t best_id = -1;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      buf.assign(tok.token_text(ids[i]));
      buf.append(tok.token_text(ids[i + 1]));
      auto id = tok.find_token(buf);
      if (id && tok.score(*id) > best) {
        best = tok.score(*id);
        best_i = static_cast<int>(i);
        best_id = *id;
      }
    }
    if (best_i < 0) break;
    ids[static_cast<size_t>(best_i)] = best_id;
    ids.erase(ids.begin() + best_i + 1);
  }
  return ids;
}

nlohmann::json TokenizerBenchResult::to_json() const {
  return {{"path", path},         {"kind", kind},           {"reference", reference},
          {"text_bytes", text_bytes}, {"tokens", tokens},   {"encode_mb_s", encode_mb_s},
          {"reference_mb_s", reference_mb_s}, {"encode_x_reference", encode_mb_s / reference_mb_s},
          {"decode_mb_s", decode_mb_s}, {"same_ids", same_ids}};
}

TokenizerBenchResult bench_tokenizer(const std::string& path, const TokenizerBenchOptions& o) {
  if (!(o.seconds > 0 && o.seconds <= 3600)) {
    throw InputError(fmt::format("bench tokenize: seconds = {}, expected a time in (0, 3600]", o.seconds));
  }
  if (o.total_bytes < 1 || o.total_bytes > (size_t{1} << 30) || o.chunk_bytes < 1) {
    throw InputError(fmt::format("bench tokenize: {} bytes of text in chunks of {}, expected 1 B .. 1 GiB and chunks >= 1",
                                 o.total_bytes, o.chunk_bytes));
  }
  auto loaded = load_tokenizer(path);
  TokenizerBenchResult r;
  r.path = path;
  r.kind = std::string(loaded->kind());
  const auto chunks = sample_text(*loaded, o);
  for (const auto& c : chunks) r.text_bytes += c.size();

  // "ours" and "ref" encode one chunk without BOS.
  std::unique_ptr<Tokenizer> own_spm;
  std::function<std::vector<int32_t>(std::string_view)> ours, ref;
  std::map<std::pair<std::string, std::string>, size_t> ranks;
  if (auto* spm = dynamic_cast<const SpmBpeTokenizer*>(loaded.get())) {
    r.reference = "llama2.c encode() scan";
    ours = [spm](std::string_view t) { return spm->encode(t, false); };
    ref = [spm](std::string_view t) { return llama2c_reference_encode(*spm, t); };
  } else if (auto* bpe = dynamic_cast<const ByteBpeTokenizer*>(loaded.get())) {
    r.reference = "GPT-2 bpe() rescan";
    for (size_t i = 0; i < bpe->merges().size(); ++i) ranks.try_emplace(bpe->merges()[i], i);
    ours = [bpe](std::string_view t) { return bpe->encode(t, false); };
    ref = [bpe, &ranks](std::string_view t) { return gpt2_encode(*bpe, ranks, t); };
  } else {
    r.reference = "libsentencepiece";
    own_spm = std::make_unique<SpmBpeTokenizer>(loaded->vocab(), path);
    const Tokenizer* o_tok = own_spm.get();
    const Tokenizer* sp = loaded.get();
    ours = [o_tok](std::string_view t) { return o_tok->encode(t, false); };
    ref = [sp](std::string_view t) { return sp->encode(t, false); };
  }

  r.same_ids = true;
  std::vector<std::vector<int32_t>> encoded;
  for (const auto& c : chunks) {
    encoded.push_back(ours(c));
    r.tokens += encoded.back().size();
    if (ref(c) != encoded.back()) r.same_ids = false;
  }
  size_t sink = 0;  // keeps the optimiser from dropping the work
  r.encode_mb_s = measure(o.seconds, r.text_bytes, [&] {
    for (const auto& c : chunks) sink += ours(c).size();
  });
  r.reference_mb_s = measure(o.seconds, r.text_bytes, [&] {
    for (const auto& c : chunks) sink += ref(c).size();
  });
  const Tokenizer& dec = own_spm ? *own_spm : *loaded;
  r.decode_mb_s = measure(o.seconds, r.text_bytes, [&] {
    for (const auto& ids : encoded) sink += dec.decode(ids).size();
  });
  MECLLM_CHECK(sink > 0, "benchmark did no work");
  return r;
}

}  // namespace mecllm::runtime
