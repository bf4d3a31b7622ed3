// mecllm train-lm --config F[,G...] --out DIR [--set key=value]... [--resume]
//   Trains the LibTorch Llama-family decoder on factworld (configs/lm/*.yaml; `tiny` runs in
//   seconds, `base` recreates models/factworld). Prints the summary JSON on success.
#include <iostream>

#include "cli/command.h"
#include "common/config.h"
#include "common/errors.h"
#ifdef MECLLM_WITH_TORCH
#include "llm/train_lm.h"
#endif

namespace {

struct Args {
  std::string config = "defaults";
  std::string out;
  std::vector<std::string> sets;
  bool resume = false;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--config", a->config, "comma-separated layers: names in configs/lm/ or paths");
  app.add_option("--out", a->out, "run directory")->required();
  app.add_option("--set", a->sets, "override one setting, key=value (e.g. steps=200)");
  app.add_flag("--resume", a->resume, "continue from <out>/checkpoint.pt");
  app.callback([a] {
#ifdef MECLLM_WITH_TORCH
    auto cfg = mecllm::llm::load_train_lm_config(mecllm::config::split_list(a->config), a->sets);
    auto summary = mecllm::llm::train_lm(cfg, a->out, a->resume);
    if (summary.contains("eval"))
      for (const char* split : {"train", "heldout", "unanswerable"}) summary["eval"]["qa"][split].erase("samples");
    std::cout << summary.dump(2) << "\n";
#else
    throw mecllm::InputError("train-lm: this build has no LibTorch (MECLLM_WITH_TORCH=OFF)");
#endif
  });
}

const mecllm::cli::Registrar reg{"train-lm", "train the LibTorch transformer on factworld (AdamW, cosine, resume)",
                                 &setup};

}  // namespace
