// What `mecllm tokenize` prints: ids (and optionally pieces) of a text under any tokenizer file,
// optionally wrapped in a chat template first.
#pragma once

#include <string>
#include <string_view>

namespace mecllm::runtime {

struct TokenizeOptions {
  bool add_bos = true;        // prepend BOS (when the vocabulary has one)
  bool add_eos = false;
  bool parse_special = false; // map special-token text (<|im_start|>, [INST]) to its id
  bool show_pieces = false;   // one line per token: id, type and the piece's bytes (escaped)
  std::string chat;           // "" (plain text), "auto" or a family name: format as one user turn
  std::string system;         // system message for --chat
};

// Loads the tokenizer (load_tokenizer) and returns the report text; InputError on bad input.
std::string tokenize_report(const std::string& tokenizer_path, std::string_view text, const TokenizeOptions& options);

// C-style escaping of a piece for display: \n, \t, \\, \" and \xHH for other non-printable or
// invalid-UTF-8 bytes; valid UTF-8 characters are kept.
std::string escape_piece(std::string_view bytes);

}  // namespace mecllm::runtime
