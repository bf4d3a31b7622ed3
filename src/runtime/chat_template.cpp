// Chat formatters. Sources for the formats (the models' published chat_template strings) are
// cited in docs/tokenizers.md; each function below transcribes one template's output for the
// roles it supports.
#include "runtime/chat_template.h"

#include <algorithm>
#include <cctype>

#include "common/errors.h"

namespace mecllm::runtime {

namespace {

constexpr std::string_view kQwenDefaultSystem = "You are a helpful assistant.";

// Jinja's `| trim`: Python str.strip() of ASCII whitespace, as Llama-3's template applies it.
std::string_view trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void check_role(const ChatMessage& m, size_t i, ChatFamily family) {
  if (m.role != "system" && m.role != "user" && m.role != "assistant")
    throw InputError(fmt::format("chat message {}: role '{}' is not supported by the {} template (expected system, "
                                 "user or assistant)",
                                 i, m.role, chat_family_name(family)));
}

std::string format_llama3(std::span<const ChatMessage> messages, bool gen) {
  std::string out = "<|begin_of_text|>";
  for (size_t i = 0; i < messages.size(); ++i) {
    check_role(messages[i], i, ChatFamily::Llama3);
    out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n";
    out += trim(messages[i].content);
    out += "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string format_chatml(std::span<const ChatMessage> messages, bool gen, ChatFamily family) {
  std::string out;
  if (family == ChatFamily::Qwen && (messages.empty() || messages[0].role != "system"))
    out += "<|im_start|>system\n" + std::string(kQwenDefaultSystem) + "<|im_end|>\n";
  for (size_t i = 0; i < messages.size(); ++i) {
    check_role(messages[i], i, family);
    out += "<|im_start|>" + messages[i].role + "\n" + messages[i].content + "<|im_end|>\n";
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

// Mistral-7B-Instruct-v0.1's template. It has no system role; a system message is prepended to
// the first user message with a blank line (a common convention; Mistral's own library does the
// same for the last user message).
std::string format_mistral(std::span<const ChatMessage> messages, bool gen) {
  std::string system;
  size_t first = 0;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].content;
    first = 1;
  }
  std::string out = "<s>";
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    check_role(m, i, ChatFamily::Mistral);
    const bool expect_user = (i - first) % 2 == 0;
    if (m.role != (expect_user ? "user" : "assistant"))
      throw InputError(fmt::format("chat message {}: role '{}' but the mistral template needs user/assistant turns "
                                   "alternating from a user turn (a system message may only come first)",
                                   i, m.role));
    if (expect_user) {
      std::string content = m.content;
      if (i == first && !system.empty()) content = system + "\n\n" + content;
      out += "[INST] " + content + " [/INST]";
    } else {
      out += m.content + "</s> ";  // the trailing space is in the template (model card: "</s> [INST]")
    }
  }
  (void)gen;  // after "[/INST]" the model already answers: no extra prompt exists
  return out;
}

}  // namespace

std::string format_chat(ChatFamily family, std::span<const ChatMessage> messages, bool add_generation_prompt) {
  switch (family) {
    case ChatFamily::Llama3: return format_llama3(messages, add_generation_prompt);
    case ChatFamily::Qwen:
    case ChatFamily::ChatML: return format_chatml(messages, add_generation_prompt, family);
    case ChatFamily::Mistral: return format_mistral(messages, add_generation_prompt);
  }
  MECLLM_CHECK(false, "unknown chat family {}", static_cast<int>(family));
  return {};
}

std::string_view chat_family_name(ChatFamily family) {
  switch (family) {
    case ChatFamily::Llama3: return "llama3";
    case ChatFamily::Qwen: return "qwen";
    case ChatFamily::ChatML: return "chatml";
    case ChatFamily::Mistral: return "mistral";
  }
  return "?";
}

ChatFamily parse_chat_family(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "llama3" || n == "llama-3" || n == "llama3.1") return ChatFamily::Llama3;
  if (n == "qwen" || n == "qwen2" || n == "qwen2.5") return ChatFamily::Qwen;
  if (n == "chatml") return ChatFamily::ChatML;
  if (n == "mistral" || n == "inst") return ChatFamily::Mistral;
  throw InputError(fmt::format("chat template '{}' is not known (expected llama3, qwen, chatml or mistral)", name));
}

std::optional<ChatFamily> chat_family_from_template(std::string_view jinja) {
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatFamily::Llama3;
  if (jinja.find("<|im_start|>") != std::string_view::npos)
    return jinja.find(kQwenDefaultSystem) != std::string_view::npos ? ChatFamily::Qwen : ChatFamily::ChatML;
  if (jinja.find("[INST]") != std::string_view::npos) return ChatFamily::Mistral;
  return std::nullopt;
}

std::optional<ChatFamily> detect_chat_family(const Tokenizer& tok) {
  if (tok.find_token("<|start_header_id|>")) return ChatFamily::Llama3;
  if (tok.find_token("<|im_start|>")) return ChatFamily::Qwen;
  if (tok.find_token("[INST]")) return ChatFamily::Mistral;
  if (tok.kind() != "byte-bpe" && tok.find_token("<s>")) return ChatFamily::Mistral;
  return std::nullopt;
}

std::vector<int32_t> chat_stop_ids(ChatFamily family, const Tokenizer& tok) {
  std::vector<int32_t> ids;
  auto add = [&](std::optional<int32_t> id) {
    if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  };
  switch (family) {
    case ChatFamily::Llama3: add(tok.find_token("<|eot_id|>")); break;
    case ChatFamily::Qwen:
    case ChatFamily::ChatML: add(tok.find_token("<|im_end|>")); break;
    case ChatFamily::Mistral: add(tok.find_token("</s>")); break;
  }
  if (tok.eos_id() >= 0) add(tok.eos_id());
  return ids;
}

}  // namespace mecllm::runtime
