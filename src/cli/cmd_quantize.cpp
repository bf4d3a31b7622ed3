// mecllm quantize --model IN --type q8_0|q4_0|q4_k --method rtn|gptq|awq [--calib DATA]
//                 [--eval TEXT] [--mixed none|sensitive] --out OUT.gguf [--config F] [--set k=v]
//   Weight-only quantization into ggml blocks (docs/compress.md). Writes OUT.gguf and
//   OUT's stem + ".quant.json"; prints bits per weight, size, perplexity, KL and top-1 agreement
//   against the unquantized model, measured with the runtime engine.
#include <iostream>

#include "cli/command.h"
#include "compress/compress_config.h"

namespace {

struct Args {
  std::string model, calib, eval, out, config = "defaults", type, method, mixed;
  std::vector<std::string> sets;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "unquantized checkpoint (any format ModelFile reads)")->required();
  app.add_option("--out", a->out, "output .gguf")->required();
  app.add_option("--type", a->type, "q8_0 | q4_0 | q4_k (default quantize.type)");
  app.add_option("--method", a->method, "rtn | gptq | awq (default quantize.method)");
  app.add_option("--calib", a->calib, "calibration data (needed by gptq and awq)");
  app.add_option("--eval", a->eval, "text for perplexity/KL/top-1 (default: <calib>/text_heldout.txt)");
  app.add_option("--mixed", a->mixed, "none | sensitive (quantize.mixed_tensors at quantize.mixed_type)");
  app.add_option("--config", a->config, "layers in configs/compress/ (e.g. defaults,tiny)");
  app.add_option("--set", a->sets, "override one setting, e.g. quantize.gptq_damp=0.02");
  app.callback([a] {
    auto cfg = mecllm::compress::load_compress_config(mecllm::config::split_list(a->config), a->sets).quantize;
    if (!a->type.empty()) cfg.type = a->type;
    if (!a->method.empty()) cfg.method = a->method;
    if (!a->mixed.empty()) cfg.mixed = a->mixed;
    if (a->calib.empty() && a->method.empty()) cfg.method = "rtn";  // no data: the default method cannot run
    auto report = mecllm::compress::run_quantize(a->model, a->calib, a->eval, cfg, a->out);
    report.erase("tensors");
    report.erase("awq_groups");
    std::cout << report.dump(2) << "\n";
  });
}

const mecllm::cli::Registrar reg{"quantize", "weight-only quantization (RTN, GPTQ, AWQ) with perplexity/KL/top-1 report",
                                 &setup};

}  // namespace
