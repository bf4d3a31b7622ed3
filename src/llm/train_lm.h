// `mecllm train-lm`: trains the LibTorch decoder (transformer_torch.h) on factworld text and QA.
//
// Loop: AdamW (decay on matrices only), linear warm-up then cosine decay to lr * min_lr_ratio,
// global-norm gradient clipping, random windows of seq_len + 1 tokens drawn by mecllm::Rng from
// the packed training stream. Every checkpoint_every steps <out>/checkpoint.pt holds the model,
// the optimiser moments, the batch RNG, the step and the running loss window, written atomically;
// --resume continues from it and reproduces an uninterrupted run exactly (same thread count).
// At the end: GGUF exports (with the tokenizer in tokenizer.ggml.*), tokenizer.bin, loss plot,
// factworld QA evaluation and perplexity in summary.json.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "llm/train_config.h"

namespace mecllm::llm {

// Runs (or resumes) training into out_dir and returns the summary it wrote.
nlohmann::json train_lm(const TrainLmConfig& cfg, const std::filesystem::path& out_dir, bool resume);

struct FactworldEvalOptions {
  int max_questions = 0;       // per split; 0 = all
  int max_perplexity_lines = 0;  // 0 = all
  std::string device = "cpu";
  int max_train_questions = 0;  // the train split alone (the largest); 0 = max_questions
  std::filesystem::path answers_path;  // when set: one JSON line per asked question (QaVerdict)
};

// QA accuracy / abstention / hallucination on the train, held-out and unanswerable splits and
// perplexity on the held-out-template text, for a model file (GGUF, llama2.c, safetensors).
// tokenizer_path empty: the tokenizer is read from the model file (GGUF tokenizer.ggml.*).
nlohmann::json evaluate_factworld(const std::string& model_path, const std::string& tokenizer_path,
                                  const std::filesystem::path& factworld_dir, const FactworldEvalOptions& opt);

}  // namespace mecllm::llm
