// Distillation on CUDA: a short seeded run with device=cuda lowers the held-out KL to the teacher
// as on the CPU, and starts from the same KL as the CPU run. Skips where LibTorch sees no CUDA
// device; scripts/device_cuda_check.sh runs it on a GPU ("CUDA-CHECK" lines carry the figures).
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <filesystem>

#include "common/clock.h"
#include "compress/distill.h"
#include "compress/prune.h"
#include "common/rundir.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

namespace fs = std::filesystem;

TEST(DistillCuda, lowers_heldout_kl_on_cuda_like_the_cpu_run) {
  // $MECLLM_CUDA_CHECK_DEVICE=cpu dry-runs the test logic on a machine without a GPU.
  const char* env = std::getenv("MECLLM_CUDA_CHECK_DEVICE");
  const std::string dev = env != nullptr && *env != '\0' ? env : "cuda";
  if (dev.rfind("cuda", 0) == 0 && !torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device visible to LibTorch (CPU-only build or machine): CUDA check skipped";
  at::globalContext().setAllowTF32CuBLAS(false);  // FP32 matmuls, so CPU and GPU KLs compare closely

  // The teacher: a random 3-layer model; the student: it with half the FFN and heads pruned away.
  auto c = testing::tiny_config();
  c.seq_len = 32;
  auto files = testing::model_and_text("kd_cuda", c, 5, 60, [](int i) {
    return fmt::format("alpha beta {} gamma delta epsilon {}", (i * 7) % 13, i % 5);
  });
  PruneConfig pc;
  pc.ffn = 0.5;
  pc.heads = 0.5;
  auto pruned = prune_model(testing::random_model(c, 5), testing::random_windows(2, 16, c.vocab_size), pc);
  const std::string student = (files.dir / "student.gguf").string();
  save_dense_model(pruned.model, student);

  const DistillConfig d = testing::short_distill_config(2);

  auto gpu_cfg = d;
  gpu_cfg.device = dev;
  auto t0 = std::chrono::steady_clock::now();
  auto gpu = run_distill(files.model, student, files.text, gpu_cfg, files.dir / "gpu", false);
  const double gpu_s = mecllm::seconds_since(t0);
  const double gb = gpu["heldout_kl_before"].get<double>(), ga = gpu["heldout_kl_after"].get<double>();
  std::printf("CUDA-CHECK [%s] distill 30 steps: held-out KL %.4f -> %.4f (%.2f s)\n", dev.c_str(), gb, ga, gpu_s);
  std::fflush(stdout);  // the figures survive a later crash of the process
  // The same run on the CPU, for reference.
  t0 = std::chrono::steady_clock::now();
  auto cpu = run_distill(files.model, student, files.text, d, files.dir / "cpu", false);
  const double cpu_s = mecllm::seconds_since(t0);
  const double cb = cpu["heldout_kl_before"].get<double>(), ca = cpu["heldout_kl_after"].get<double>();
  std::printf("CUDA-CHECK [cpu] distill 30 steps: held-out KL %.4f -> %.4f (%.2f s)\n", cb, ca, cpu_s);
  std::fflush(stdout);
  EXPECT_LT(ga, 0.8 * gb) << gpu.dump();
  EXPECT_LE(std::abs(gb - cb), 1e-4 * std::max(1.0, cb)) << "same models and held-out windows";
  EXPECT_LE(std::abs(ga - ca), 0.1 * ca + 1e-3) << "float rounding differs by device; the runs agree roughly";
  EXPECT_TRUE(fs::exists(files.dir / "gpu" / "model.gguf"));
  EXPECT_EQ(runtime::ModelFile::open((files.dir / "gpu" / "model.gguf").string()).config(),
            runtime::ModelFile::open(student).config());
  mecllm::remove_tree(files.dir);
}

}  // namespace
}  // namespace mecllm::compress
