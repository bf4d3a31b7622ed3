// SentencePiece-style BPE (llama2.c layout): golden ids on stories260K's tok512.bin, round trips,
// the heap merge against llama2.c's quadratic scan, and every bad-file check of the reader.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "common/errors.h"
#include "common/rng.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_bench.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::runtime;

namespace {

const std::string kTok512 = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/tok512.bin";

#define SKIP_WITHOUT_TOK512()                                         \
  if (!fs::exists(kTok512)) GTEST_SKIP() << kTok512 << " absent"

std::string temp_path(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("mecllm_tok_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string i32(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string f32(float v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

// A small llama2.c-convention vocabulary: <unk>, <s>, </s>, 256 byte pieces, then merges.
struct SmallVocab {
  std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
  std::vector<float> scores{0, 0, 0};
  SmallVocab() {
    for (int b = 0; b < 256; ++b) {
      tokens.push_back(fmt::format("<0x{:02X}>", b));
      scores.push_back(0);
    }
    // Single characters first (score irrelevant), then merges with falling scores.
    for (const char* c : {" ", "a", "b", "c", "h", "e", "l", "o", "w", "r", "d", "\xC3\xA9"}) add(c, 0);
    float s = -1;
    for (const char* m : {"he", " h", "ll", " he", "llo", "hello", " hello", " w", "or", " wor", "ld", " world", "ab",
                          "bc", "abc", " a"})
      add(m, s--);
  }
  void add(const std::string& t, float s) {
    tokens.push_back(t);
    scores.push_back(s);
  }
};


}  // namespace

TEST(SpmBpeTokenizer, golden_prompt_ids_on_tok512) {
  SKIP_WITHOUT_TOK512();
  auto tok = load_tokenizer(kTok512);
  EXPECT_EQ(tok->kind(), "spm-bpe");
  EXPECT_EQ(tok->vocab_size(), 512);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  // /work/shared/golden/stories260K-greedy-logits.jsonl, positions 0..4.
  EXPECT_EQ(tok->encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
}

TEST(SpmBpeTokenizer, pinned_ids_on_tok512) {
  SKIP_WITHOUT_TOK512();
  auto tok = load_tokenizer(kTok512);
  // Pinned with an independent Python transcription of llama2.c's encode().
  EXPECT_EQ(tok->encode("Lily and Tom went to the park.", true),
            (std::vector<int32_t>{1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433, 426}));
  EXPECT_EQ(tok->encode("Hello, world!\nNew line", true),
            (std::vector<int32_t>{1, 346, 306, 414, 432, 263, 304, 341, 443, 13, 458, 411, 424, 278, 271, 411}));
  // ï and the emoji are not pieces: byte fallback, id = byte + 3.
  EXPECT_EQ(tok->encode("na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80", true),
            (std::vector<int32_t>{1, 297, 412, 198, 178, 360, 280, 412, 431, 485, 410, 243, 162, 155, 131}));
  EXPECT_EQ(tok->encode("  double  spaces", false),
            (std::vector<int32_t>{410, 410, 279, 277, 430, 305, 410, 262, 427, 412, 331, 419}));
  EXPECT_EQ(tok->encode("", true, true), (std::vector<int32_t>{1, 2}));
}

TEST(SpmBpeTokenizer, decodes_the_golden_greedy_text) {
  SKIP_WITHOUT_TOK512();
  const std::string golden_dir = std::string(MECLLM_SHARED_DIR) + "/golden/";
  std::ifstream jf(golden_dir + "stories260K-greedy-logits.jsonl");
  std::ifstream tf(golden_dir + "stories260K-greedy.txt");
  if (!jf || !tf) GTEST_SKIP() << "golden files absent";
  std::vector<int32_t> ids;
  int32_t last_argmax = -1;
  for (std::string line; std::getline(jf, line);) {
    auto tpos = line.find("\"token\": ");
    auto apos = line.find("\"argmax\": ");
    ASSERT_NE(tpos, std::string::npos);
    ids.push_back(std::stoi(line.substr(tpos + 9)));
    last_argmax = std::stoi(line.substr(apos + 10));
  }
  ids.push_back(last_argmax);  // the last position's prediction is the final generated token
  std::string expected((std::istreambuf_iterator<char>(tf)), std::istreambuf_iterator<char>());
  while (!expected.empty() && (expected.back() == '\n')) expected.pop_back();
  auto tok = load_tokenizer(kTok512);
  EXPECT_EQ(tok->decode(ids), expected);
  // Streaming pieces give the same text, with llama2.c's "no space after BOS".
  std::string streamed;
  for (size_t i = 1; i < ids.size(); ++i) streamed += tok->decode_piece(ids[i - 1], ids[i]);
  EXPECT_EQ(streamed, expected);
}

TEST(SpmBpeTokenizer, round_trips_unicode_whitespace_and_invalid_utf8_on_tok512) {
  SKIP_WITHOUT_TOK512();
  auto tok = load_tokenizer(kTok512);
  const std::vector<std::string> texts{
      "Once upon a time",          "\xE6\x9D\xB1\xE4\xBA\xAC and \xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0",
      "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "   leading, trailing   ",
      "tabs\t\tand\n\nnewlines\r\n", std::string("nul\0byte", 8),
      "bad \xFF\xFE bytes \xC3 \x80 \xED\xA0\x80 overlong \xC0\xAF", " "};
  for (const auto& t : texts) {
    auto ids = tok->encode(t, true, true);
    EXPECT_EQ(tok->decode(ids), t) << t;
    EXPECT_EQ(tok->decode(tok->encode(t, false)), t) << t;
  }
}

TEST(SpmBpeTokenizer, heap_merge_matches_llama2c_scan_on_random_text) {
  SmallVocab sv;
  SpmBpeTokenizer tok(sv.tokens, sv.scores, {});
  Rng rng(7);
  const std::vector<std::string> alphabet{"a", "b", "c", "h", "e", "l", "o", " ", "w", "r", "d", "\xC3\xA9", "x",
                                          "\xFF", "\xF0\x9F\x98\x80"};
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const int len = static_cast<int>(rng.below(25));
    for (int i = 0; i < len; ++i) text += alphabet[rng.below(alphabet.size())];
    auto ids = tok.encode(text, false);
    EXPECT_EQ(ids, llama2c_reference_encode(tok, text)) << "text '" << text << "'";
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST(SpmBpeTokenizer, parse_special_maps_control_text_only_when_asked) {
  SmallVocab sv;
  SpmBpeTokenizer tok(sv.tokens, sv.scores, {});
  const auto plain = tok.encode("a</s>", false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  const auto special = tok.encode("a</s>b", false, false, true);
  ASSERT_EQ(special.size(), 3u);  // " a", "</s>", "b": the dummy prefix only opens the text
  EXPECT_EQ(tok.token_text(special[0]), " a");
  EXPECT_EQ(special[1], 2);
  EXPECT_EQ(tok.token_text(special[2]), "b");
}

TEST(SpmBpeTokenizer, writer_and_reader_round_trip) {
  SmallVocab sv;
  const std::string path = temp_path("small.bin");
  write_llama2c_tokenizer(path, sv.tokens, sv.scores);
  auto tok = load_tokenizer(path);
  ASSERT_EQ(tok->vocab_size(), static_cast<int32_t>(sv.tokens.size()));
  for (size_t i = 0; i < sv.tokens.size(); ++i) {
    EXPECT_EQ(tok->token_text(static_cast<int32_t>(i)), sv.tokens[i]);
    EXPECT_EQ(tok->score(static_cast<int32_t>(i)), sv.scores[i]);
  }
  EXPECT_EQ(tok->token_type(10), TokenType::Byte);
  EXPECT_EQ(tok->decode(tok->encode(" hello world", true)), " hello world");
  EXPECT_EQ(tok->find_token(" world"), tok->encode("world", false).front());
}

// ---- bad llama2.c tokenizer files ----------------------------------------------------------

namespace {
void expect_input_error(const std::string& path, const std::string& bytes, const std::string& needle) {
  write_bytes(path, bytes);
  try {
    load_llama2c_tokenizer(path);
    ADD_FAILURE() << "no error for " << needle;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

std::string token(float score, const std::string& text) { return f32(score) + i32(static_cast<int32_t>(text.size())) + text; }
std::string three_tokens() { return token(0, "<unk>") + token(0, "<s>") + token(0, "</s>"); }
}  // namespace

TEST(SpmBpeTokenizer, rejects_truncated_file) {
  const std::string p = temp_path("trunc.bin");
  expect_input_error(p, "", "truncated at byte 0 reading max_token_length");
  const std::string good = i32(8) + three_tokens() + token(-1, "ab");
  expect_input_error(p, good.substr(0, good.size() - 5), "truncated");  // cut inside a header
  expect_input_error(p, good.substr(0, good.size() - 1), "runs past the end of the file");
}

TEST(SpmBpeTokenizer, rejects_bad_token_lengths) {
  const std::string p = temp_path("badlen.bin");
  expect_input_error(p, i32(8) + three_tokens() + f32(0) + i32(-3) + "x", "token 3: length -3");
  expect_input_error(p, i32(5) + three_tokens() + token(0, "toolong"), "token 3: length 7 outside [0, max_token_length=5]");
  expect_input_error(p, i32(8) + three_tokens() + f32(0) + i32(8) + "abc", "token 3: length 8 runs past the end");
  expect_input_error(p, i32(0) + three_tokens(), "max_token_length 0");
  expect_input_error(p, i32(-1), "max_token_length -1");
  expect_input_error(p, i32(8) + token(0, "<unk>"), "only 1 tokens");
}

TEST(SpmBpeTokenizer, rejects_short_file_when_vocab_size_is_known) {
  const std::string p = temp_path("short.bin");
  write_bytes(p, i32(8) + three_tokens());
  EXPECT_THROW(load_llama2c_tokenizer(p, 5), InputError);
  EXPECT_NO_THROW(load_llama2c_tokenizer(p, 3));
}

TEST(SpmBpeTokenizer, rejects_mismatched_arrays_and_missing_file) {
  EXPECT_THROW(SpmBpeTokenizer({"a", "b"}, {0.0f}, {}), InputError);
  EXPECT_THROW(load_tokenizer(temp_path("does_not_exist.bin")), InputError);
}

TEST(SpmBpeTokenizer, gguf_metadata_round_trip_on_tok512) {
  SKIP_WITHOUT_TOK512();
  auto tok = load_tokenizer(kTok512);
  GgufMetadata md("tok512.gguf");
  tokenizer_to_gguf(*tok, md);
  EXPECT_EQ(md.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(md.get_int("tokenizer.ggml.bos_token_id"), 1);
  auto back = tokenizer_from_gguf(md);
  EXPECT_EQ(back->kind(), "spm-bpe");
  for (int32_t i = 0; i < tok->vocab_size(); ++i) {
    ASSERT_EQ(back->token_text(i), tok->token_text(i));
    ASSERT_EQ(back->token_type(i), tok->token_type(i));
  }
  EXPECT_EQ(back->encode("Once upon a time", true), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  // A bad token type value is named with its index.
  md.set("tokenizer.ggml.token_type", GgufValue::of_i32s(std::vector<int32_t>(512, 9)));
  try {
    tokenizer_from_gguf(md);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.token_type[0] = 9"), std::string::npos) << e.what();
  }
}
