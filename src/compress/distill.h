// Stage II of ECLD: knowledge distillation of a pruned student from its unpruned teacher
// (Hinton et al. 2015, arXiv:1503.02531), in LibTorch behind this header (no LibTorch here).
//
// loss = tau^2 KL(p_T^tau || p_S^tau) + alpha_ce CE(student, data) [+ w MSE(P h_S, h_T)]
// on random windows of the data stream (plus optional text sampled from the teacher); AdamW
// (decay on matrices), linear warm-up then cosine decay, global-norm clipping. The run
// directory gets config.yaml, metrics.jsonl, checkpoint.pt (model + optimiser + RNG + step;
// --resume continues exactly), loss.png, model.gguf (the distilled student, F32, with the
// tokenizer) and summary.json (held-out KL to the teacher before and after).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/compress_config.h"

namespace mecllm::compress {

nlohmann::json run_distill(const std::string& teacher_path, const std::string& student_path, const std::string& data_path,
                           const DistillConfig& cfg, const std::filesystem::path& out_dir, bool resume);

}  // namespace mecllm::compress
