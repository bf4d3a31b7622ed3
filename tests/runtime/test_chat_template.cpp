// Chat formatters: exact strings per family, role checks, family detection, and that the
// formatted text encodes to the family's special ids on the fixture tokenizers.
#include <gtest/gtest.h>

#include "common/errors.h"
#include "runtime/chat_template.h"
#include "runtime/tokenizer.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {
const std::string kFixtures = std::string(MECLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/";
const std::vector<ChatMessage> kChat{{"system", "Be brief."}, {"user", "Hi!"}, {"assistant", "Hello."}, {"user", "Why?"}};
}  // namespace

TEST(ChatTemplate, llama3_format) {
  EXPECT_EQ(format_chat(ChatFamily::Llama3, kChat, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // Llama-3's template trims content.
  std::vector<ChatMessage> m{{"user", "  padded \n"}};
  EXPECT_EQ(format_chat(ChatFamily::Llama3, m, false),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\npadded<|eot_id|>");
}

TEST(ChatTemplate, qwen_and_chatml_formats) {
  EXPECT_EQ(format_chat(ChatFamily::ChatML, kChat, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n<|im_start|>assistant\n");
  std::vector<ChatMessage> m{{"user", "Hi"}};
  EXPECT_EQ(format_chat(ChatFamily::Qwen, m, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(format_chat(ChatFamily::ChatML, m, false), "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, mistral_format_and_alternation) {
  EXPECT_EQ(format_chat(ChatFamily::Mistral, kChat, true),
            "<s>[INST] Be brief.\n\nHi! [/INST]Hello.</s> [INST] Why? [/INST]");
  std::vector<ChatMessage> bad{{"user", "a"}, {"user", "b"}};
  EXPECT_THROW(format_chat(ChatFamily::Mistral, bad, true), InputError);
  std::vector<ChatMessage> late_system{{"user", "a"}, {"system", "b"}};
  EXPECT_THROW(format_chat(ChatFamily::Mistral, late_system, true), InputError);
}

TEST(ChatTemplate, rejects_unknown_roles_and_families) {
  std::vector<ChatMessage> m{{"user", "a"}, {"tool", "b"}};
  try {
    format_chat(ChatFamily::Llama3, m, true);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("chat message 1: role 'tool'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_chat_family("jinja"), InputError);
  EXPECT_EQ(parse_chat_family("Qwen2"), ChatFamily::Qwen);
  EXPECT_EQ(parse_chat_family("llama3"), ChatFamily::Llama3);
}

TEST(ChatTemplate, detects_family_from_template_and_vocabulary) {
  EXPECT_EQ(chat_family_from_template("{{ '<|start_header_id|>' + message['role'] }}"), ChatFamily::Llama3);
  EXPECT_EQ(chat_family_from_template("{{ '<|im_start|>system\\nYou are a helpful assistant.' }}"), ChatFamily::Qwen);
  EXPECT_EQ(chat_family_from_template("{{ '<|im_start|>' + role }}"), ChatFamily::ChatML);
  EXPECT_EQ(chat_family_from_template("{{ '[INST] ' + content }}"), ChatFamily::Mistral);
  EXPECT_EQ(chat_family_from_template("{{ content }}"), std::nullopt);
  auto llama = load_tokenizer(kFixtures + "llama3-tiny.tokenizer.json");
  auto qwen = load_tokenizer(kFixtures + "qwen2-tiny.tokenizer.json");
  EXPECT_EQ(detect_chat_family(*llama), ChatFamily::Llama3);
  EXPECT_EQ(detect_chat_family(*qwen), ChatFamily::Qwen);
  EXPECT_EQ(chat_stop_ids(ChatFamily::Llama3, *llama), (std::vector<int32_t>{420, 417}));
  EXPECT_EQ(chat_stop_ids(ChatFamily::Qwen, *qwen), (std::vector<int32_t>{418, 416}));
}

TEST(ChatTemplate, formatted_chat_encodes_to_special_ids) {
  auto llama = load_tokenizer(kFixtures + "llama3-tiny.tokenizer.json");
  std::vector<ChatMessage> m{{"user", "Hi"}};
  const auto ids = llama->encode(format_chat(ChatFamily::Llama3, m, true), false, false, true);
  ASSERT_GE(ids.size(), 8u);
  EXPECT_EQ(ids[0], 416);  // <|begin_of_text|>
  EXPECT_EQ(ids[1], 418);  // <|start_header_id|>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 420), 1);  // one <|eot_id|>
  EXPECT_EQ(llama->decode(ids), "user\n\nHiassistant\n\n");
  auto qwen = load_tokenizer(kFixtures + "qwen2-tiny.tokenizer.json");
  const auto qids = qwen->encode(format_chat(ChatFamily::Qwen, m, true), false, false, true);
  EXPECT_EQ(std::count(qids.begin(), qids.end(), 417), 3);  // three <|im_start|>
  EXPECT_EQ(std::count(qids.begin(), qids.end(), 418), 2);  // two <|im_end|>
}
