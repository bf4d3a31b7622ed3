// mecllm eval --model M [--tasks factworld,perplexity,...] [--devices all] [--data DIR] --out DIR
//   Scores one model variant and writes its model card (JSON + Markdown): accessibility per
//   device class, energy per query, hallucination rate, generalization accuracy, size, bits per
//   weight, tokens/s; every figure labelled measured or estimated. See docs/eval.md.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "common/config.h"
#include "common/rundir.h"
#include "eval/eval_run.h"

namespace {

struct Args {
  mecllm::eval::EvalInputs in;
  std::string out;
  std::string tasks, devices;
  int threads = -1;
  int max_items = -1;
  std::vector<std::string> configs, sets;
};

void run(const Args& a) {
  using namespace mecllm;
  eval::EvalConfig cfg;
  std::vector<std::string> sets = a.sets;
  if (!a.tasks.empty()) sets.push_back("tasks=" + a.tasks);
  if (!a.devices.empty()) sets.push_back("devices=" + a.devices);
  if (a.threads >= 0) sets.push_back("threads=" + std::to_string(a.threads));
  if (a.max_items >= 0) sets.push_back("max_items=" + std::to_string(a.max_items));
  config::load_layers(cfg, a.configs, sets, "eval");
  std::string out = a.out.empty() ? default_run_dir("eval").string() : a.out;
  eval::ModelCard card = eval::run_eval(cfg, a.in, out, config::to_yaml(cfg));
  std::cout << card.to_markdown() << "\nwrote " << out << "/model_card.json and model_card.md\n";
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->in.model_path, "model: llama2.c .bin, .gguf, .safetensors or HF directory")->required();
  app.add_option("--tokenizer", a->in.tokenizer_path, "tokenizer file (default: found with the model)");
  app.add_option("--tasks", a->tasks, "comma list: factworld, halueval, mc, truthfulqa, perplexity (default factworld)");
  app.add_option("--devices", a->devices, "'all' or comma list of configs/devices names (default all)");
  app.add_option("--data", a->in.data_dir, "factworld directory (qa_heldout.jsonl, qa_unanswerable.jsonl, text_heldout.txt)");
  app.add_option("--factworld", a->in.factworld_files, "comma list of factworld QA JSONL files (instead of --data)");
  app.add_option("--halueval", a->in.halueval_file, "HaluEval QA JSON/JSONL file");
  app.add_option("--mc", a->in.mc_file, "multiple-choice JSONL file");
  app.add_option("--truthfulqa", a->in.truthfulqa_file, "TruthfulQA mc_task.json-style file");
  app.add_option("--text", a->in.text_file, "text for perplexity (instead of --data)");
  app.add_option("--threads", a->threads, "engine threads (0: all)")->check(mecllm::cli::at_least(0));
  app.add_option("--max-items", a->max_items, "items per task at most (0: all)")->check(mecllm::cli::at_least(0));
  app.add_option("--out", a->out, "run directory (default runs/eval__<time>)");
  app.add_option("--config", a->configs, "config layers (YAML files or names), applied in order");
  app.add_option("--set", a->sets, "override one setting, e.g. --set qa.max_tokens=16");
  app.callback([a] { run(*a); });
}

const mecllm::cli::Registrar reg{"eval", "score a model variant and write its model card (the four metrics)", &setup};

}  // namespace
