// mecllm perplexity -m MODEL -f TEXT [--ctx 512] [--chunks N] [--ref REF_MODEL] [--threads T]
//                   [--type q8_0] [--tokenizer F] [--out DIR]
//   llama.cpp's perplexity (second half of each window scored); with --ref also the mean KL
//   divergence KL(ref || model) and top-1 agreement, for quantisation reports.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/runtime_flags.h"
#include "common/errors.h"
#include "common/rundir.h"
#include "runtime/generate.h"
#include "runtime/perplexity.h"

namespace {

using namespace mecllm::runtime;

void setup(CLI::App& app) {
  struct Args {
    std::string model, file, ref, tokenizer, type, out;
    int threads = 1;
    PerplexityOptions opt;
  };
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->model, "model to score")->required();
  app.add_option("-f,--file", a->file, "text file")->required();
  app.add_option("--ctx", a->opt.ctx, "window length (tokens)")->capture_default_str();
  app.add_option("--chunks", a->opt.max_chunks, "windows at most; 0 = all")->capture_default_str()->check(mecllm::cli::at_least(0));
  app.add_option("--ref", a->ref, "reference model (KL divergence and top-1 agreement against it)");
  app.add_option("-t,--threads", a->threads, "threads (>= 1)")->capture_default_str();
  app.add_option("--type", a->type, "re-quantise the model's weights at load: f16, q8_0, q4_0, q4_k");
  app.add_option("--tokenizer", a->tokenizer, "tokenizer file; default: found from the model");
  app.add_option("--out", a->out, "directory for perplexity.json");
  app.callback([a] {
    std::ifstream in(a->file, std::ios::binary);
    if (!in) throw mecllm::InputError(fmt::format("{}: cannot open the text file", a->file));
    std::stringstream ss;
    ss << in.rdbuf();
    LoadOptions lo;
    lo.n_threads = a->threads;
    lo.context = a->opt.ctx;
    lo.max_batch = std::min(a->opt.ctx, 512);
    mecllm::cli::apply_weight_type(a->type, lo);
    Transformer model = Transformer::load(a->model, lo);
    for (const auto& note : model.notes()) std::cerr << "note: " << note << "\n";
    lo.weight_type.reset();
    std::unique_ptr<Transformer> ref;
    if (!a->ref.empty()) ref = std::make_unique<Transformer>(Transformer::load(a->ref, lo));
    const auto tok = tokenizer_for_model(model.file(), a->tokenizer);
    const PerplexityResult r = perplexity(model, *tok, ss.str(), a->opt, ref.get());
    std::cout << fmt::format("perplexity {:.4f} (nll {:.4f} +- {:.4f}) over {} tokens in {} windows of {}\n", r.ppl,
                             r.nll, r.nll_sd, r.n_scored, r.n_chunks, r.ctx);
    if (r.has_ref) {
      std::cout << fmt::format("reference perplexity {:.4f}; KL(ref || model) {:.6f} nats; top-1 agreement {:.2f}%\n",
                               r.ref_ppl, r.kl_mean, 100 * r.top1_agreement);
    }
    if (!a->out.empty()) mecllm::RunDir(a->out).write_json("perplexity.json", r.to_json());
  });
}

}  // namespace

static const mecllm::cli::Registrar reg{"perplexity", "perplexity of a model on a text (llama.cpp definition)", &setup};
