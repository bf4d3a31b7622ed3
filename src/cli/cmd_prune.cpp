// mecllm prune --model IN --calib DATA [--heads R] [--head-score norm|taylor] [--ffn R] [--hidden R]
//              [--layers K | --budget-bytes B | --device CLASS] --out OUT [--config F] [--set k=v]
//   Structured pruning from calibration importance (docs/compress.md). Writes OUT (format by
//   extension; .gguf F32 by default) and OUT's stem + ".prune.json" (importance, plan, sizes);
//   prints the before/after summary.
#include <iostream>

#include "cli/command.h"
#include "compress/compress_config.h"

namespace {

struct Args {
  std::string model, calib, out, config = "defaults", tokenizer;
  std::vector<std::string> sets;
  std::optional<double> heads, ffn, hidden;
  std::optional<int> layers;
  std::optional<int64_t> budget;
  std::string device, head_score;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "input checkpoint (GGUF, llama2.c, safetensors, HF dir)")->required();
  app.add_option("--calib", a->calib, "calibration text: .txt (one doc per line), .jsonl QA, or a factworld dir")->required();
  app.add_option("--out", a->out, "output model (.gguf, .bin, .safetensors or a directory)")->required();
  app.add_option("--heads", a->heads, "share of query heads removed per KV group, [0, 1)");
  app.add_option("--ffn", a->ffn, "share of MLP channels removed, [0, 1)");
  app.add_option("--head-score", a->head_score, "head importance: norm (output norm) or taylor (|w * dL/dw|)");
  app.add_option("--hidden", a->hidden, "share of hidden channels removed, [0, 1)");
  app.add_option("--layers", a->layers, "whole layers removed (lowest block influence)");
  app.add_option("--budget-bytes", a->budget, "prune until the model in prune.budget_type fits B bytes");
  app.add_option("--device", a->device, "prune until the model fits a device class (configs/devices)");
  app.add_option("--tokenizer", a->tokenizer, "tokenizer file when the model carries none");
  app.add_option("--config", a->config, "layers in configs/compress/ (e.g. defaults,tiny)");
  app.add_option("--set", a->sets, "override one setting, e.g. prune.head_unit=kv_group");
  app.callback([a] {
    auto cfg = mecllm::compress::load_compress_config(mecllm::config::split_list(a->config), a->sets).prune;
    if (a->heads) cfg.heads = *a->heads;
    if (a->ffn) cfg.ffn = *a->ffn;
    if (a->hidden) cfg.hidden = *a->hidden;
    if (a->layers) cfg.layers = *a->layers;
    if (a->budget) cfg.budget_bytes = *a->budget;
    if (!a->device.empty()) cfg.device = a->device;
    if (!a->head_score.empty()) cfg.head_score = a->head_score;
    auto report = mecllm::compress::run_prune(a->model, a->calib, cfg, a->out, a->tokenizer);
    std::cout << nlohmann::json{{"ratios", report["ratios"]}, {"before", report["before"]}, {"after", report["after"]},
                                {"output", report["output"]}}.dump(2)
              << "\n";
  });
}

const mecllm::cli::Registrar reg{"prune", "structured pruning (heads, MLP, hidden, layers) from calibration importance",
                                 &setup};

}  // namespace
