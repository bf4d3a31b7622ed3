// Byte-level BPE from tokenizer.json (Llama-3 and Qwen2 splits): ids pinned against an
// independent Python encoder (tests/fixtures/tokenizers/make_fixtures.py), round trips,
// special tokens, GGUF metadata round trip and the reader's bad-file checks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::runtime;
using Ids = std::vector<int32_t>;

namespace {

const std::string kFixtures = std::string(MECLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/";
const std::string kLlama3 = kFixtures + "llama3-tiny.tokenizer.json";
const std::string kQwen2 = kFixtures + "qwen2-tiny.tokenizer.json";

std::string temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("mecllm_tokbpe_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

nlohmann::json fixture_json() {
  std::ifstream f(kLlama3);
  return nlohmann::json::parse(f);
}

const std::vector<std::string> kRoundTrip{
    "Hello world!",
    "\xE6\x9D\xB1\xE4\xBA\xAC and \xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0",
    "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD flag \xF0\x9F\x87\xAF\xF0\x9F\x87\xB5",
    "   leading, trailing   ",
    "tabs\t\tand\n\n\nnewlines\r\n  \n",
    std::string("nul\0byte", 8),
    "bad \xFF\xFE bytes \xC3 \x80 \xED\xA0\x80 overlong \xC0\xAF end\xE2\x82",
    "It's 2024, THEY'RE 1234567 robots.",
    "",
};

}  // namespace

TEST(ByteBpeTokenizer, pinned_ids_llama3_fixture) {
  auto tok = load_tokenizer(kLlama3);
  ASSERT_EQ(tok->kind(), "byte-bpe");
  EXPECT_EQ(dynamic_cast<ByteBpeTokenizer&>(*tok).pre_tokenizer(), PreTokenizer::Llama3);
  EXPECT_EQ(tok->vocab_size(), 422);
  EXPECT_EQ(tok->bos_id(), 416);  // from the TemplateProcessing post-processor
  EXPECT_EQ(tok->eos_id(), 417);
  EXPECT_EQ(tok->encode("Hello world!", false), (Ids{273, 268, 363, 33}));
  EXPECT_EQ(tok->encode("Once upon a time", true), (Ids{416, 320, 393, 258, 257, 348}));
  // Llama-3 groups digits by three: "2024" -> "202" "4", "12345" -> "123" "45".
  EXPECT_EQ(tok->encode("It's 2024, they're 12345 robots.", false),
            (Ids{317, 306, 32, 313, 52, 44, 260, 121, 305, 32, 312, 314, 298, 115, 46}));
  EXPECT_EQ(tok->encode("na\xC3\xAFve caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC", false), (Ids{353, 404, 399}));
  EXPECT_EQ(tok->encode("  two  spaces\n\n\tand tabs", false),
            (Ids{32, 257, 119, 111, 32, 259, 112, 97, 99, 278, 10, 10, 9, 97, 264, 257, 97, 98, 115}));
  EXPECT_EQ(tok->encode("emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD end", false),
            (Ids{101, 109, 111, 106, 105, 32, 240, 159, 152, 128, 240, 159, 145, 141, 240, 159, 143, 189, 32, 101, 264}));
  EXPECT_EQ(tok->encode("The THE the", false), (Ids{274, 386, 260}));
}

TEST(ByteBpeTokenizer, pinned_ids_qwen2_fixture) {
  auto tok = load_tokenizer(kQwen2);
  EXPECT_EQ(dynamic_cast<ByteBpeTokenizer&>(*tok).pre_tokenizer(), PreTokenizer::Qwen2);
  EXPECT_EQ(tok->bos_id(), -1);  // Qwen2 has no BOS: add_bos is a no-op
  EXPECT_EQ(tok->eos_id(), 416);
  EXPECT_EQ(tok->encode("Once upon a time", true), (Ids{314, 387, 258, 415}));
  // Qwen2 splits every digit.
  EXPECT_EQ(tok->encode("It's 2024, they're 12345 robots.", false),
            (Ids{311, 306, 32, 50, 48, 50, 52, 44, 260, 121, 305, 32, 49, 50, 51, 52, 53, 298, 115, 46}));
  EXPECT_EQ(tok->encode("The THE the", false), (Ids{274, 380, 260}));
}

TEST(ByteBpeTokenizer, pre_split_follows_the_published_regexes) {
  auto llama = load_tokenizer(kLlama3);
  auto& l3 = dynamic_cast<ByteBpeTokenizer&>(*llama);
  using Parts = std::vector<std::string_view>;
  EXPECT_EQ(l3.pre_split("I'LL pay 1234567 now!!\n\n  ok"),
            (Parts{"I", "'LL", " pay", " ", "123", "456", "7", " now", "!!\n\n", " ", " ok"}));  // as Python regex
  auto qwen = load_tokenizer(kQwen2);
  auto& q2 = dynamic_cast<ByteBpeTokenizer&>(*qwen);
  EXPECT_EQ(q2.pre_split("x 123"), (Parts{"x", " ", "1", "2", "3"}));
  // Invalid UTF-8 never matches; it is kept as its own pre-token so no byte is lost.
  EXPECT_EQ(l3.pre_split("ab\xFFjk"), (Parts{"ab", "\xFF", "jk"}));
}

TEST(ByteBpeTokenizer, round_trips_unicode_whitespace_and_invalid_utf8) {
  for (const auto& path : {kLlama3, kQwen2}) {
    auto tok = load_tokenizer(path);
    for (const auto& t : kRoundTrip) {
      EXPECT_EQ(tok->decode(tok->encode(t, true, true)), t) << path << ": " << t;
      std::string streamed;
      const Ids ids = tok->encode(t, false);
      for (size_t i = 0; i < ids.size(); ++i) streamed += tok->decode_piece(i ? ids[i - 1] : -1, ids[i]);
      EXPECT_EQ(streamed, t);
    }
  }
}

TEST(ByteBpeTokenizer, special_tokens_only_with_parse_special) {
  auto tok = load_tokenizer(kLlama3);
  const std::string text = "<|start_header_id|>user<|end_header_id|>";
  const Ids parsed = tok->encode(text, false, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 418);
  EXPECT_EQ(parsed.back(), 419);
  const Ids plain = tok->encode(text, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 418), 0);
  EXPECT_EQ(tok->decode(plain), text);   // spelled out, so it decodes back to the text
  EXPECT_EQ(tok->decode(parsed), "user");  // control tokens decode to nothing
  // A non-special added token is matched in any text and decodes verbatim.
  const Ids tool = tok->encode("a<tool>b", false);
  EXPECT_EQ(tool, (Ids{97, 421, 98}));
  EXPECT_EQ(tok->decode(tool), "a<tool>b");
  EXPECT_EQ(tok->find_token("<|eot_id|>"), 420);
}

TEST(ByteBpeTokenizer, gguf_metadata_round_trip_gives_same_ids) {
  for (const auto& path : {kLlama3, kQwen2}) {
    auto tok = load_tokenizer(path);
    GgufMetadata md("memory.gguf");
    tokenizer_to_gguf(*tok, md);
    auto back = tokenizer_from_gguf(md);
    EXPECT_EQ(back->kind(), "byte-bpe");
    EXPECT_EQ(dynamic_cast<ByteBpeTokenizer&>(*back).pre_tokenizer(),
              dynamic_cast<ByteBpeTokenizer&>(*tok).pre_tokenizer());
    EXPECT_EQ(back->bos_id(), tok->bos_id());
    EXPECT_EQ(back->eos_id(), tok->eos_id());
    for (const auto& t : kRoundTrip) EXPECT_EQ(back->encode(t, true, false, true), tok->encode(t, true, false, true));
  }
}

TEST(ByteBpeTokenizer, loads_from_a_gguf_file) {
  auto tok = load_tokenizer(kLlama3);
  GgufMetadata md;
  md.set("general.architecture", GgufValue::of_string("llama"));
  tokenizer_to_gguf(*tok, md);
  const std::string path = temp_dir() + "/tok.gguf";
  write_gguf_file(path, md, {});
  auto back = load_tokenizer(path);
  EXPECT_EQ(back->encode("Hello world!", true), tok->encode("Hello world!", true));
}

// ---- bad tokenizer.json files ---------------------------------------------------------------

namespace {
void expect_json_error(const std::string& name, const std::string& text, const std::string& needle) {
  const std::string path = write_file(name, text);
  try {
    load_tokenizer(path);
    ADD_FAILURE() << "no error for " << needle;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}
}  // namespace

TEST(ByteBpeTokenizer, rejects_malformed_json) {
  expect_json_error("trunc.json", fixture_json().dump().substr(0, 500), "malformed JSON at byte");
  expect_json_error("array.json", "[1, 2]", "expected a JSON object");
  expect_json_error("nomodel.json", R"({"added_tokens": []})", "missing key 'model'");
  expect_json_error("wordpiece.json", R"({"model": {"type": "WordPiece", "vocab": {}}})", "model.type 'WordPiece'");
  expect_json_error("vocabarray.json", R"({"model": {"type": "BPE", "vocab": []}})", "model.vocab: expected object");
  expect_json_error("emptyvocab.json", R"({"model": {"type": "BPE", "vocab": {}}})", "model.vocab is empty");
}

TEST(ByteBpeTokenizer, rejects_merges_with_unknown_tokens) {
  auto j = fixture_json();
  j["model"]["merges"].push_back("Ġzz qq");
  expect_json_error("badmerge.json", j.dump(), "merge 160 'Ġzz qq': 'Ġzz' is not in the vocabulary");
  j = fixture_json();
  j["model"]["merges"].push_back("nomerge");
  expect_json_error("badmerge2.json", j.dump(), "model.merges[160]: 'nomerge' is not 'left right'");
  j = fixture_json();
  j["model"]["merges"].push_back(42);
  expect_json_error("badmerge3.json", j.dump(), "model.merges[160]: expected");
}

TEST(ByteBpeTokenizer, rejects_bad_ids_and_missing_pieces) {
  auto j = fixture_json();
  j["model"]["vocab"]["Ġrobot"] = -4;
  expect_json_error("negid.json", j.dump(), "model.vocab['Ġrobot']: id -4");
  j = fixture_json();
  j["model"]["vocab"]["dup"] = 7;
  expect_json_error("dupid.json", j.dump(), "id 7 is used by both");
  j = fixture_json();
  j["model"]["vocab"].erase("Ā");  // byte 0x00's spelling: no byte coverage and no unk
  expect_json_error("nobyte.json", j.dump(), "byte 0x00");
  j = fixture_json();
  j["added_tokens"].push_back({{"content", 5}});
  expect_json_error("badadded.json", j.dump(), "added_tokens[6]");
  j = fixture_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  expect_json_error("badregex.json", j.dump(), "pre-tokenizer regex '(unclosed' does not compile");
}

TEST(ByteBpeTokenizer, rejects_bad_gguf_tokenizer_metadata) {
  auto tok = load_tokenizer(kLlama3);
  GgufMetadata md("m.gguf");
  tokenizer_to_gguf(*tok, md);
  GgufMetadata bad = md;
  bad.set("tokenizer.ggml.model", GgufValue::of_string("rwkv"));
  EXPECT_THROW(tokenizer_from_gguf(bad), InputError);
  bad = md;
  bad.set("tokenizer.ggml.scores", GgufValue::of_f32s(std::vector<float>(3, 0.0f)));
  EXPECT_THROW(tokenizer_from_gguf(bad), InputError);
  bad = md;
  bad.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(100000));
  try {
    tokenizer_from_gguf(bad);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.gguf: tokenizer.ggml.bos_token_id = 100000"), std::string::npos) << e.what();
  }
  bad = md;
  bad.erase("tokenizer.ggml.tokens");
  EXPECT_THROW(tokenizer_from_gguf(bad), InputError);
}
