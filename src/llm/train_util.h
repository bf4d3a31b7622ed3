// Pieces shared by every LibTorch training loop of the project (`train-lm` in train_lm.cpp,
// `distill` in compress/distill.cpp): the learning-rate schedule, checkpoint archives with the
// batch RNG and loop counters, and dropping metrics lines a killed run logged past its checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/rng.h"

namespace mecllm::llm {

// Linear warm-up to `lr` over `warmup` steps, then cosine decay to lr * min_lr_ratio at `total`.
double warmup_cosine_lr(double lr, double min_lr_ratio, int warmup, int total, int step);

// A checkpoint: named module parameters under prefixes, the optimiser, the RNG state and the
// loop's own integers and doubles (step, counters, running sums), written atomically (temporary
// name + rename) so a run killed while saving keeps its previous checkpoint.
struct CheckpointState {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
};
void save_training_checkpoint(const std::filesystem::path& path,
                              const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                              torch::optim::Optimizer& opt, const Rng& rng, const CheckpointState& state);
// Restores what save_training_checkpoint wrote; the state must have exactly n_ints / n_doubles
// entries and every parameter its configured shape, else InputError naming the file. `what` names
// the kind of checkpoint in errors ("train-lm", "distill").
CheckpointState load_training_checkpoint(const std::filesystem::path& path,
                                         const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                                         torch::optim::Optimizer& opt, Rng& rng, size_t n_ints, size_t n_doubles,
                                         const torch::Device& device, const std::string& what);

// Keeps only the metrics.jsonl lines with step <= `step` (a killed run may have logged past its
// checkpoint) and calls on_kept for each kept line, so the caller can rebuild its history.
void truncate_metrics(const std::filesystem::path& path, int64_t step,
                      const std::function<void(const nlohmann::json&)>& on_kept = {});

}  // namespace mecllm::llm
