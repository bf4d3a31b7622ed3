// mecllm ecld --base IN --data FACTWORLD_DIR (--target CLASS | --budget-bytes B) --out DIR
//             [--baselines] [--head-score norm|taylor] [--config F] [--set k=v]
//   The whole ECLD pipeline (prune -> distill -> quantize -> deploy) with per-stage report,
//   model card and, with --baselines, quantization-only / pruning-only / prune+quant variants.
#include <iostream>

#include "cli/command.h"
#include "compress/compress_config.h"
#ifdef MECLLM_WITH_TORCH
#include "compress/ecld.h"
#endif

namespace {

struct Args {
  std::string base, data, out, target, config = "defaults", head_score;
  int64_t budget = 0;
  bool baselines = false;
  std::vector<std::string> sets;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--base", a->base, "base checkpoint")->required();
  app.add_option("--data", a->data, "factworld directory (calibration, distillation, evaluation)")->required();
  app.add_option("--out", a->out, "output directory")->required();
  app.add_option("--target", a->target, "device class to fit (configs/devices)");
  app.add_option("--budget-bytes", a->budget, "byte budget of the deployed model");
  app.add_option("--head-score", a->head_score, "pruning head importance: norm or taylor (prune.head_score)");
  app.add_flag("--baselines", a->baselines, "also build quantization-only, pruning-only, pruning+quantization");
  app.add_option("--config", a->config, "layers in configs/compress/ (e.g. defaults,tiny)");
  app.add_option("--set", a->sets, "override one setting, e.g. distill.steps=100");
  app.callback([a] {
    auto cfg = mecllm::compress::load_compress_config(mecllm::config::split_list(a->config), a->sets);
    if (a->baselines) cfg.baselines = true;
    if (!a->head_score.empty()) cfg.prune.head_score = a->head_score;
#ifdef MECLLM_WITH_TORCH
    auto s = mecllm::compress::run_ecld(a->base, a->data, {a->target, a->budget}, cfg, a->out);
    std::cout << s["table"].get<std::string>() << "\n" << s["headline"].dump(2) << "\n";
#else
    throw mecllm::InputError("ecld: this build has no LibTorch (MECLLM_WITH_TORCH=OFF)");
#endif
  });
}

const mecllm::cli::Registrar reg{"ecld", "prune -> distill -> quantize -> deploy, with baselines and a model card", &setup};

}  // namespace
