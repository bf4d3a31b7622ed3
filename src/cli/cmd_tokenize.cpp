// mecllm tokenize --tokenizer FILE "text" [--no-bos] [--eos] [--special] [--show-pieces]
//                 [--chat auto|llama3|qwen|chatml|mistral [--system TEXT]]
//   Prints the token ids of a text (and, with --show-pieces, each token's type, stored text and
//   decoded bytes). FILE: llama2.c tok*.bin, tokenizer.json, tokenizer.model, a .gguf model or
//   an HF directory. --chat formats the text as one user turn with the family's chat template.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "runtime/tokenizer_report.h"

namespace {

struct Args {
  std::string tokenizer, text;
  bool no_bos = false;
  mecllm::runtime::TokenizeOptions options;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--tokenizer,-t", a->tokenizer, "tokenizer file: tok*.bin, tokenizer.json, tokenizer.model, .gguf")
      ->required();
  app.add_option("text", a->text, "text to tokenize")->required();
  app.add_flag("--no-bos", a->no_bos, "do not prepend BOS");
  app.add_flag("--eos", a->options.add_eos, "append EOS");
  app.add_flag("--special", a->options.parse_special, "map special-token text (<|im_start|>, [INST]) to its id");
  app.add_flag("--show-pieces", a->options.show_pieces, "one line per token: id, type, stored text, decoded bytes");
  app.add_option("--chat", a->options.chat, "wrap the text as a user turn: auto, llama3, qwen, chatml or mistral");
  app.add_option("--system", a->options.system, "system message for --chat");
  app.callback([a] {
    a->options.add_bos = !a->no_bos;
    std::cout << mecllm::runtime::tokenize_report(a->tokenizer, a->text, a->options);
  });
}

const mecllm::cli::Registrar reg{"tokenize", "print the token ids (and pieces) of a text under a tokenizer", &setup};

}  // namespace
