// `mecllm eval`: everything the evaluator does for one model, as one library call. Loads the
// model with the runtime engine, measures its speed (and energy, where RAPL is readable) on
// this machine, calibrates the roofline on the measured host, judges accessibility on every
// device class, runs the selected tasks, and writes the model card into a run directory:
//   config.yaml (resolved settings, first), predictions_<task>.jsonl, model_card.json,
//   model_card.md, summary.json (= model_card.json).
// Requires mecllm_runtime (run_eval is defined in runtime_eval.cpp).
#pragma once

#include <filesystem>
#include <string>

#include "common/config.h"
#include "eval/accessibility.h"
#include "eval/model_card.h"
#include "eval/scorers_ll.h"
#include "eval/scorers_qa.h"

namespace mecllm::eval {

struct EvalConfig {
  std::string tasks = "factworld";  // comma list of factworld, halueval, mc, truthfulqa, perplexity
  std::string devices = "all";      // "all" or a comma list of configs/devices names
  int threads = 0;                  // 0: every hardware thread
  std::string weight_type;          // "": as stored; else re-quantise at load
  int max_items = 0;                // per task (factworld: per file), 0: all
  int speed_reps = 3;               // host speed: best of this many reference queries
  double idle_seconds = 1.0;        // RAPL idle baseline length (only when RAPL is readable)
  uint64_t seed = 0;                // seeds the random prompt of the speed measurement
  QaConfig qa;
  McConfig mc;
  TruthfulQaConfig truthfulqa;
  PerplexityConfig perplexity;
  AccessibilityConfig accessibility;

  template <class V>
  void visit(V& v) {
    v("tasks", tasks, "comma list: factworld, halueval, mc, truthfulqa, perplexity");
    v("devices", devices, "'all' or comma list of configs/devices names");
    v("threads", threads, "engine threads (0: all hardware threads)");
    v("weight_type", weight_type, "re-quantise weights at load ('' keeps the file's)");
    v("max_items", max_items, "items per task at most (0: all)");
    v("speed_reps", speed_reps, "host speed: best of this many reference queries");
    v("idle_seconds", idle_seconds, "RAPL idle baseline length (s)");
    v("seed", seed, "seed of the speed measurement's random prompt");
    v("qa", qa);
    v("mc", mc);
    v("truthfulqa", truthfulqa);
    v("perplexity", perplexity);
    v("accessibility", accessibility);
  }
  void validate(const config::ConfigErrors& err) const;
};

// Where each task's data is. Empty paths are derived from data_dir (a factworld directory:
// qa_heldout.jsonl + qa_unanswerable.jsonl, text_heldout.txt).
struct EvalInputs {
  std::string model_path;
  std::string tokenizer_path;
  std::string data_dir;
  std::string factworld_files;  // comma list of QA JSONL files
  std::string halueval_file;
  std::string mc_file;
  std::string truthfulqa_file;
  std::string text_file;
};

// Runs the evaluation and writes the run directory; returns the card.
ModelCard run_eval(const EvalConfig& cfg, const EvalInputs& inputs, const std::filesystem::path& out_dir,
                   const std::string& config_echo);

}  // namespace mecllm::eval
