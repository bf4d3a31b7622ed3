// mecllm distill --teacher T --student S --data DATA --out DIR [--temperature 2] [--alpha-ce 0.1]
//                [--hidden-loss] [--teacher-samples N] [--steps N] [--device cpu|cuda] [--resume]
//                [--config F] [--set k=v]
//   Knowledge distillation (docs/compress.md): DIR gets model.gguf (the distilled student),
//   checkpoint.pt, metrics.jsonl, loss.png and summary.json, which is printed.
#include <iostream>

#include "cli/command.h"
#include "compress/compress_config.h"
#ifdef MECLLM_WITH_TORCH
#include "compress/distill.h"
#endif

namespace {

struct Args {
  std::string teacher, student, data, out, config = "defaults", device;
  std::vector<std::string> sets;
  std::optional<double> temperature, alpha_ce;
  std::optional<int> teacher_samples, steps;
  bool hidden_loss = false, resume = false;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--teacher", a->teacher, "teacher checkpoint (the unpruned model)")->required();
  app.add_option("--student", a->student, "student checkpoint (the pruned model)")->required();
  app.add_option("--data", a->data, "training text: .txt, .jsonl QA, or a factworld dir")->required();
  app.add_option("--out", a->out, "run directory")->required();
  app.add_option("--temperature", a->temperature, "softmax temperature tau (default 2)");
  app.add_option("--alpha-ce", a->alpha_ce, "weight of the data cross-entropy (default 0.1)");
  app.add_flag("--hidden-loss", a->hidden_loss, "add MSE on the final hidden states");
  app.add_option("--teacher-samples", a->teacher_samples, "documents sampled from the teacher added to the data");
  app.add_option("--steps", a->steps, "optimiser steps");
  app.add_option("--device", a->device, "cpu | cuda | cuda:N");
  app.add_flag("--resume", a->resume, "continue from DIR/checkpoint.pt");
  app.add_option("--config", a->config, "layers in configs/compress/ (e.g. defaults,tiny)");
  app.add_option("--set", a->sets, "override one setting, e.g. distill.lr=0.0005");
  app.callback([a] {
    auto cfg = mecllm::compress::load_compress_config(mecllm::config::split_list(a->config), a->sets).distill;
    if (a->temperature) cfg.temperature = *a->temperature;
    if (a->alpha_ce) cfg.alpha_ce = *a->alpha_ce;
    if (a->hidden_loss) cfg.hidden_loss = true;
    if (a->teacher_samples) cfg.teacher_samples = *a->teacher_samples;
    if (a->steps) cfg.steps = *a->steps;
    if (!a->device.empty()) cfg.device = a->device;
    cfg.validate(mecllm::config::ConfigErrors{"command line", "distill"});
#ifdef MECLLM_WITH_TORCH
    std::cout << mecllm::compress::run_distill(a->teacher, a->student, a->data, cfg, a->out, a->resume).dump(2) << "\n";
#else
    throw mecllm::InputError("distill: this build has no LibTorch (MECLLM_WITH_TORCH=OFF)");
#endif
  });
}

const mecllm::cli::Registrar reg{"distill", "knowledge distillation of a pruned student from its teacher (LibTorch)",
                                 &setup};

}  // namespace
