// mecllm factworld generate --seed S --out DIR [--config F] [--set k=v]
//   The deterministic synthetic world (people, attributes, statements, QA splits, tokenizer).
// mecllm factworld eval --model M --world DIR [--tokenizer T] [--max N] [--device cpu|cuda]
//   QA accuracy / abstention / hallucination per split and perplexity of a model on it.
#include <fmt/format.h>

#include <iostream>

#include "cli/command.h"
#include "common/config.h"
#include "llm/factworld.h"
#ifdef MECLLM_WITH_TORCH
#include "llm/train_lm.h"
#endif

namespace {

struct GenerateArgs {
  uint64_t seed = 1;
  std::string out;
  std::vector<std::string> configs, sets;
};
struct EvalArgs {
  std::string model, world, tokenizer, device = "cpu", answers;
  int max_questions = 0;
};

void setup(CLI::App& app) {
  app.require_subcommand(1);
  auto g = std::make_shared<GenerateArgs>();
  CLI::App* gen = app.add_subcommand("generate", "write a factworld directory");
  gen->add_option("--seed", g->seed, "world seed (same seed, byte-identical files)");
  gen->add_option("--out", g->out, "output directory")->required();
  gen->add_option("--config", g->configs, "YAML layers of factworld settings (see FactworldConfig)");
  gen->add_option("--set", g->sets, "override one setting, key=value");
  gen->callback([g] {
    mecllm::llm::FactworldConfig cfg;
    mecllm::config::load_layers(cfg, g->configs, g->sets);
    if (cfg.seed == mecllm::llm::FactworldConfig{}.seed) cfg.seed = g->seed;
    auto manifest = mecllm::llm::generate_factworld(cfg, g->out);
    std::cout << manifest["counts"].dump(2) << "\n";
  });

  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand("eval", "score a model on a factworld directory");
  ev->add_option("--model", e->model, "model file (GGUF, llama2.c, safetensors)")->required();
  ev->add_option("--world", e->world, "factworld directory")->required();
  ev->add_option("--tokenizer", e->tokenizer, "tokenizer file; default: the one in the model file");
  ev->add_option("--max", e->max_questions, "questions per split (0 = all)")->check(mecllm::cli::at_least(0));
  ev->add_option("--device", e->device, "cpu | cuda | cuda:N");
  ev->add_option("--answers", e->answers, "write every question, its reference and the model's answer here (JSON Lines)");
  ev->callback([e] {
#ifdef MECLLM_WITH_TORCH
    mecllm::llm::FactworldEvalOptions opt{e->max_questions, e->max_questions, e->device, 0, e->answers};
    auto r = mecllm::llm::evaluate_factworld(e->model, e->tokenizer, e->world, opt);
    for (const char* split : {"train", "heldout", "unanswerable"}) r["qa"][split].erase("samples");
    std::cout << r.dump(2) << "\n";
#else
    throw mecllm::InputError("factworld eval: this build has no LibTorch (MECLLM_WITH_TORCH=OFF)");
#endif
  });
}

const mecllm::cli::Registrar reg{"factworld", "generate the synthetic factworld benchmark, or score a model on it",
                                 &setup};

}  // namespace
