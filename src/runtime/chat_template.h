// Chat templates for the three model families, as hand-written formatters (no Jinja engine).
// Each reproduces the family's published chat_template for system/user/assistant messages
// (docs/tokenizers.md shows the exact strings):
//   llama3:  <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>...
//   qwen:    ChatML with Qwen2's default system message when none is given
//   chatml:  <|im_start|>{role}\n{content}<|im_end|>\n...
//   mistral: <s>[INST] {user} [/INST]{assistant}</s> [INST] ...
// The result contains special-token text (BOS included where the family's template has it),
// so encode it with add_bos = false and parse_special = true.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tokenizer.h"

namespace mecllm::runtime {

enum class ChatFamily { Llama3, Qwen, ChatML, Mistral };

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// Throws InputError on a role the family does not support, or (mistral) on user/assistant turns
// that do not alternate starting with the user; the message names the message index and role.
std::string format_chat(ChatFamily family, std::span<const ChatMessage> messages, bool add_generation_prompt);

std::string_view chat_family_name(ChatFamily family);  // "llama3", "qwen", "chatml", "mistral"
// Parses a name (also "qwen2", "llama-3", "inst"); InputError listing the valid names otherwise.
ChatFamily parse_chat_family(std::string_view name);

// From a Jinja chat template (GGUF tokenizer.chat_template, tokenizer_config.json chat_template):
// the family whose markers it contains, or nullopt.
std::optional<ChatFamily> chat_family_from_template(std::string_view jinja);
// From the special tokens a vocabulary has: <|start_header_id|> -> llama3, <|im_start|> -> qwen,
// [INST] or an SPM vocabulary with <s> -> mistral; nullopt otherwise.
std::optional<ChatFamily> detect_chat_family(const Tokenizer& tokenizer);

// Token ids that end an assistant turn for the family (<|eot_id|>, <|im_end|>, </s>, plus the
// vocabulary's EOS), those present in the vocabulary.
std::vector<int32_t> chat_stop_ids(ChatFamily family, const Tokenizer& tokenizer);

}  // namespace mecllm::runtime
