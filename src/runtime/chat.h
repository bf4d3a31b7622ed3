// A multi-turn chat over the engine: the conversation is re-formatted with the family's chat
// template every turn (chat_template.h), and only the tokens after the prefix already in the
// KV cache are run, so each turn costs its own new tokens.
#pragma once

#include <string>
#include <vector>

#include "runtime/chat_template.h"
#include "runtime/generate.h"

namespace mecllm::runtime {

class ChatSession {
 public:
  // `options.stop_ids` gets the family's end-of-turn tokens added.
  ChatSession(Transformer& model, const Tokenizer& tokenizer, ChatFamily family, GenerateOptions options,
              std::string system_prompt = "");

  // Adds the user message, generates (streamed) and records the assistant reply.
  GenerateResult reply(const std::string& user_text, const StreamFn& stream = {});
  void reset();  // forget the conversation (keeps the system prompt)

  const std::vector<ChatMessage>& messages() const { return messages_; }
  ChatFamily family() const { return family_; }
  int position() const { return gen_.position(); }

 private:
  const Tokenizer& tok_;
  ChatFamily family_;
  std::string system_;
  std::vector<ChatMessage> messages_;
  Generator gen_;
};

}  // namespace mecllm::runtime
