// `mecllm tokenize` report (see tokenizer_report.h).
#include "runtime/tokenizer_report.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "runtime/chat_template.h"
#include "runtime/tokenizer.h"
#include "runtime/unicode.h"

namespace mecllm::runtime {

std::string escape_piece(std::string_view s) {
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    const size_t n = utf8_char_len(s, pos);
    if (n > 1) {
      out.append(s.substr(pos, n));
      pos += n;
      continue;
    }
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c < 0x20 || c >= 0x7F) out += fmt::format("\\x{:02X}", c);
    else out += static_cast<char>(c);
    ++pos;
  }
  return out;
}

namespace {
std::string_view type_name(TokenType t) {
  switch (t) {
    case TokenType::Normal: return "normal";
    case TokenType::Unknown: return "unknown";
    case TokenType::Control: return "control";
    case TokenType::UserDefined: return "user";
    case TokenType::Unused: return "unused";
    case TokenType::Byte: return "byte";
    default: return "undefined";
  }
}
}  // namespace

std::string tokenize_report(const std::string& path, std::string_view text, const TokenizeOptions& opt) {
  auto tok = load_tokenizer(path);
  std::string input(text);
  bool add_bos = opt.add_bos, parse_special = opt.parse_special;
  std::string header;
  if (!opt.chat.empty()) {
    ChatFamily family;
    if (opt.chat == "auto") {
      auto detected = detect_chat_family(*tok);
      if (!detected)
        throw_input_error(path, "--chat auto: no chat family recognised from the vocabulary (pass --chat llama3, "
                                "qwen, chatml or mistral)");
      family = *detected;
    } else {
      family = parse_chat_family(opt.chat);
    }
    std::vector<ChatMessage> messages;
    if (!opt.system.empty()) messages.push_back({"system", opt.system});
    messages.push_back({"user", input});
    input = format_chat(family, messages, true);
    // The template carries its own BOS text and special tokens.
    add_bos = false;
    parse_special = true;
    header = fmt::format("chat template {}: \"{}\"\n", chat_family_name(family), escape_piece(input));
  }
  const std::vector<int32_t> ids = tok->encode(input, add_bos, opt.add_eos, parse_special);
  std::string out = header;
  out += fmt::format("{} tokens ({} {}, vocab {})\n", ids.size(), tok->kind(), path, tok->vocab_size());
  out += fmt::format("{}\n", fmt::join(ids, " "));
  if (opt.show_pieces) {
    int32_t prev = -1;
    for (int32_t id : ids) {
      out += fmt::format("{:>8}  {:<8} \"{}\"  -> \"{}\"\n", id, type_name(tok->token_type(id)),
                         escape_piece(tok->token_text(id)), escape_piece(tok->decode_piece(prev, id)));
      prev = id;
    }
  }
  return out;
}

}  // namespace mecllm::runtime
