// The `mecllm tokenize` report: ids line, pieces, chat wrapping and its errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/errors.h"
#include "runtime/tokenizer_report.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {
const std::string kLlama3 = std::string(MECLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/llama3-tiny.tokenizer.json";
const std::string kTok512 = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/tok512.bin";
}  // namespace

TEST(TokenizeReport, escape_piece_keeps_utf8_and_escapes_bytes) {
  EXPECT_EQ(escape_piece("a\n\t\"\\"), "a\\n\\t\\\"\\\\");
  EXPECT_EQ(escape_piece("caf\xC3\xA9 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(escape_piece("\xFF\xC3"), "\\xFF\\xC3");
  EXPECT_EQ(escape_piece(std::string("\0", 1)), "\\x00");
}

TEST(TokenizeReport, prints_ids_and_pieces) {
  if (!std::filesystem::exists(kTok512)) GTEST_SKIP() << kTok512 << " absent";
  TokenizeOptions o;
  o.show_pieces = true;
  const std::string r = tokenize_report(kTok512, "Once upon a time", o);
  EXPECT_NE(r.find("\n1 403 407 261 378\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\" Once\"  -> \"Once\""), std::string::npos) << r;
  o.add_bos = false;
  o.show_pieces = false;
  EXPECT_NE(tokenize_report(kTok512, "Once upon a time", o).find("\n403 407 261 378\n"), std::string::npos);
}

TEST(TokenizeReport, chat_wraps_the_text_in_the_template) {
  TokenizeOptions o;
  o.chat = "auto";
  const std::string r = tokenize_report(kLlama3, "Hi", o);
  EXPECT_NE(r.find("chat template llama3"), std::string::npos) << r;
  EXPECT_NE(r.find("\n416 418 "), std::string::npos) << r;  // <|begin_of_text|><|start_header_id|>
  o.chat = "klingon";
  EXPECT_THROW(tokenize_report(kLlama3, "Hi", o), InputError);
}

TEST(TokenizeReport, chat_auto_fails_clearly_without_chat_tokens) {
  if (!std::filesystem::exists(kTok512)) GTEST_SKIP() << kTok512 << " absent";
  TokenizeOptions o;
  o.chat = "auto";
  try {
    tokenize_report(kTok512, "Hi", o);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no chat family recognised"), std::string::npos) << e.what();
  }
}
