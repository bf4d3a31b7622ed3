// mecllm tokenize --tokenizer FILE "text" [--no-bos] [--eos] [--special] [--show-pieces]
//                 [--chat auto|llama3|qwen|chatml|mistral [--system TEXT]]
//   Prints the token ids of a text (and, with --show-pieces, each token's type, stored text and
//   decoded bytes). FILE: llama2.c tok*.bin, tokenizer.json, tokenizer.model, a .gguf model or
//   an HF directory. --chat formats the text as one user turn with the family's chat template.
// mecllm bench tokenize --tokenizer FILE [--seconds 1] [--bytes 16384] [--out DIR]
//   Encode/decode MB/s against a naive reference encoder measured in the same run.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/bench_registry.h"
#include "cli/command.h"
#include "common/rundir.h"
#include "runtime/tokenizer_bench.h"
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

void setup_bench(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto o = std::make_shared<mecllm::runtime::TokenizerBenchOptions>();
  sub.add_option("--tokenizer,-t", *path, "tokenizer file")->required();
  sub.add_option("--seconds", o->seconds, "measuring time per case (s)")->capture_default_str();
  sub.add_option("--bytes", o->total_bytes, "text size, sampled from the vocabulary")->capture_default_str();
  sub.add_option("--seed", o->seed, "text sampling seed")->capture_default_str();
  sub.add_option("--out", *out, "directory for bench_tokenize.json");
  sub.callback([path, out, o] {
    const auto r = mecllm::runtime::bench_tokenizer(*path, *o);
    fmt::print("bench tokenize: {} ({}), {} bytes -> {} tokens in {}-byte chunks, one thread\n", r.path, r.kind,
               r.text_bytes, r.tokens, o->chunk_bytes);
    fmt::print("encode {:.2f} MB/s = {:.1f} x reference ({}: {:.2f} MB/s, same ids: {}); decode {:.2f} MB/s\n",
               r.encode_mb_s, r.encode_mb_s / r.reference_mb_s, r.reference, r.reference_mb_s,
               r.same_ids ? "yes" : "NO", r.decode_mb_s);
    if (!out->empty()) {
      mecllm::RunDir dir(*out);
      dir.write_json("bench_tokenize.json", r.to_json());
      fmt::print("wrote {}\n", dir.file("bench_tokenize.json").string());
    }
  });
}

const mecllm::cli::BenchRegistrar bench_reg{"tokenize", "tokenizer encode/decode MB/s vs a naive reference",
                                            &setup_bench};

}  // namespace
