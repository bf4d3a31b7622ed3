#include "runtime/chat.h"

namespace mecllm::runtime {

namespace {
GenerateOptions with_stop_ids(GenerateOptions o, ChatFamily family, const Tokenizer& tok) {
  for (int32_t id : chat_stop_ids(family, tok)) o.stop_ids.push_back(id);
  o.add_bos = false;  // the template spells BOS where the family has it
  return o;
}
}  // namespace

ChatSession::ChatSession(Transformer& model, const Tokenizer& tokenizer, ChatFamily family, GenerateOptions options,
                         std::string system_prompt)
    : tok_(tokenizer),
      family_(family),
      system_(std::move(system_prompt)),
      gen_(model, tokenizer, with_stop_ids(std::move(options), family, tokenizer)) {
  reset();
}

void ChatSession::reset() {
  messages_.clear();
  if (!system_.empty()) messages_.push_back({"system", system_});
  gen_.reset();
}

GenerateResult ChatSession::reply(const std::string& user_text, const StreamFn& stream) {
  messages_.push_back({"user", user_text});
  try {
    const std::string prompt = format_chat(family_, messages_, true);
    const std::vector<int32_t> ids = tok_.encode(prompt, false, false, true);
    GenerateResult r = gen_.generate_after(ids, stream);
    messages_.push_back({"assistant", r.text});
    return r;
  } catch (...) {
    messages_.pop_back();  // a failed turn (e.g. context full) leaves the conversation as it was
    throw;
  }
}

}  // namespace mecllm::runtime
