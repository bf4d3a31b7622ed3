// The LibTorch code paths on CUDA: the stories260K forward against the golden llama2.c logits and
// the CPU module, and short train-lm runs (loss falls; first step equals the CPU run's; a resumed
// run follows the uninterrupted one). Every test skips where LibTorch sees no CUDA device, so the
// suite passes on CPU-only machines; scripts/device_cuda_check.sh runs it on a GPU.
// Lines starting with "CUDA-CHECK" carry the figures that docs/llm.md quotes.
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/rundir.h"
#include "llm/factworld.h"
#include "llm/torch_lm.h"
#include "llm/train_lm.h"
#include "tiny_world.h"
#include "runtime/tokenizer.h"
#include "common/rundir.h"
#include "shared_dir.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::llm;

namespace {

// The device under test: "cuda", or $MECLLM_CUDA_CHECK_DEVICE (e.g. "cpu" to dry-run the test
// logic on a machine without a GPU).
std::string check_device() {
  const char* env = std::getenv("MECLLM_CUDA_CHECK_DEVICE");
  return env != nullptr && *env != '\0' ? env : "cuda";
}

#define SKIP_WITHOUT_CUDA()                                                                       \
  const std::string dev = check_device();                                                         \
  if (dev.rfind("cuda", 0) == 0 && !torch::cuda::is_available())                                  \
  GTEST_SKIP() << "no CUDA device visible to LibTorch (CPU-only build or machine): CUDA check skipped"

using mecllm::testing::golden_rel_err;  // |got - want| / max(1, |want|), as the CPU golden test

// Full FP32 cuBLAS matmuls (no TF32): LibTorch's default, set explicitly so that the 1e-4
// comparisons below hold whatever a future default is. TF32 keeps a 10-bit mantissa (relative
// rounding ~5e-4 per product), which would not meet 1e-4 on logits of magnitude ~10.
void no_tf32() { at::globalContext().setAllowTF32CuBLAS(false); }

fs::path temp_dir(const std::string& name) { return mecllm::llm::testing::fresh_temp_dir("mecllm_test_cuda_", name); }

const fs::path& world_dir() { return mecllm::llm::testing::tiny_world_dir(); }

TrainLmConfig tiny(int steps, const std::string& device) {
  const std::string dir = std::string(MECLLM_SOURCE_DIR) + "/configs/lm/";
  return load_train_lm_config({dir + "defaults.yaml", dir + "tiny.yaml"},
                              {"steps=" + std::to_string(steps), "log_every=1", "threads=2", "eval_max_questions=3",
                               "device=" + device, "data.factworld_dir=" + world_dir().string()});
}

std::vector<double> losses(const fs::path& dir) {
  std::vector<double> out;
  std::ifstream in(dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line)["losses/train"].get<double>());
  return out;
}

}  // namespace

TEST(CudaTorch, stories260k_logits_on_cuda_match_golden_and_cpu) {
  SKIP_WITHOUT_CUDA();
  const fs::path shared = mecllm::testing::shared_dir();
  const fs::path model = shared / "models/stories260K/stories260K.bin";
  const fs::path golden_path = shared / "golden/stories260K-greedy-logits.jsonl";
  const fs::path tok_path = shared / "models/stories260K/tok512.bin";
  const fs::path golden_text = shared / "golden/stories260K-greedy.txt";
  ASSERT_TRUE(fs::exists(model) && fs::exists(golden_path) && fs::exists(tok_path))
      << "CUDA is available but " << shared << " lacks stories260K or its golden files (set MECLLM_SHARED_DIR)";
  no_tf32();

  const auto golden = mecllm::testing::read_json_lines(golden_path);
  ASSERT_EQ(golden.size(), 48u);
  std::vector<int32_t> ids;
  for (const auto& g : golden) ids.push_back(g["token"].get<int32_t>());

  auto cpu = TorchLm::open(model.string(), "cpu");
  auto gpu = TorchLm::open(model.string(), dev);
  const auto want_cpu = cpu.logits(ids);
  (void)gpu.logits(ids);  // warm-up (kernel loading, cuBLAS handles)
  const auto t0 = std::chrono::steady_clock::now();
  const auto got = gpu.logits(ids);
  const double forward_s = seconds_since(t0);
  ASSERT_EQ(got.size(), want_cpu.size());

  const size_t V = 512;
  double max_vs_golden = 0, max_vs_cpu = 0;
  for (size_t pos = 0; pos < golden.size(); ++pos) {
    const float* row = got.data() + pos * V;
    EXPECT_EQ(std::max_element(row, row + V) - row, golden[pos]["argmax"].get<int64_t>()) << "pos " << pos;
    max_vs_golden = std::max(max_vs_golden, mecllm::testing::golden_row_error(row, V, golden[pos]));
    for (size_t v = 0; v < V; ++v) max_vs_cpu = std::max(max_vs_cpu, golden_rel_err(row[v], want_cpu[pos * V + v]));
  }
  std::printf("CUDA-CHECK [%s] forward stories260K 48 positions: max rel err vs golden %.3g, vs CPU (all %zu logits) %.3g, "
              "forward %.3f ms, TF32 cuBLAS %s\n",
              dev.c_str(), max_vs_golden, got.size(), max_vs_cpu, forward_s * 1e3,
              at::globalContext().allowTF32CuBLAS() ? "on" : "off");
  std::fflush(stdout);  // the figures survive a later crash of the process
  RecordProperty("max_rel_err_vs_golden", std::to_string(max_vs_golden));
  RecordProperty("max_rel_err_vs_cpu", std::to_string(max_vs_cpu));
  EXPECT_LE(max_vs_golden, 1e-4);
  EXPECT_LE(max_vs_cpu, 1e-4);

  // Greedy decoding on the GPU reproduces the golden continuation.
  auto tok = runtime::load_llama2c_tokenizer(tok_path.string(), 512);
  auto prompt = tok->encode("Once upon a time", /*add_bos=*/true);
  auto gen = gpu.generate_greedy(prompt, 49 - static_cast<int>(prompt.size()));
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), gen.begin(), gen.end());
  std::string want = read_text_file(golden_text);
  while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
  EXPECT_EQ(tok->decode(all), want);

  // nll on the device agrees with the CPU module.
  const auto [nll_gpu, n_gpu] = gpu.nll(ids);
  const auto [nll_cpu, n_cpu] = cpu.nll(ids);
  EXPECT_EQ(n_gpu, n_cpu);
  EXPECT_LE(golden_rel_err(nll_gpu, nll_cpu), 1e-4) << nll_gpu << " vs " << nll_cpu;
}

TEST(CudaTorch, tiny_train_lm_on_cuda_lowers_loss_like_the_cpu_run) {
  SKIP_WITHOUT_CUDA();
  set_log_sink(nullptr);
  no_tf32();
  const fs::path out_gpu = temp_dir("train_gpu"), out_cpu = temp_dir("train_cpu");
  auto t0 = std::chrono::steady_clock::now();
  auto summary = train_lm(tiny(40, dev), out_gpu, /*resume=*/false);
  const double gpu_s = seconds_since(t0);
  const auto g = losses(out_gpu);
  ASSERT_EQ(g.size(), 40u);
  std::printf("CUDA-CHECK [%s] train-lm tiny 40 steps: loss %.4f -> %.4f (%.2f s incl. export and eval)\n", dev.c_str(),
              g.front(), g.back(), gpu_s);
  std::fflush(stdout);
  // The same run on the CPU, for reference.
  t0 = std::chrono::steady_clock::now();
  train_lm(tiny(40, "cpu"), out_cpu, false);
  const double cpu_s = seconds_since(t0);
  const auto c = losses(out_cpu);
  ASSERT_EQ(c.size(), 40u);
  std::printf("CUDA-CHECK [cpu] train-lm tiny 40 steps: loss %.4f -> %.4f (%.2f s incl. export and eval)\n", c.front(),
              c.back(), cpu_s);
  std::fflush(stdout);
  EXPECT_GT(g.front(), 5.0);  // about ln(320) at random init
  EXPECT_LT(g.back(), g.front() - 1.5);
  // Same seeded initialisation (built on the CPU, then moved) and the same first batch.
  EXPECT_LE(golden_rel_err(g.front(), c.front()), 1e-4) << g.front() << " vs " << c.front();
  // Float rounding differs by device, so later steps agree only roughly.
  EXPECT_LE(std::abs(g.back() - c.back()), 0.1 * c.back());
  EXPECT_EQ(summary["eval"]["qa"]["heldout"]["n"].get<int>(), 3);
  auto lm = TorchLm::open((out_gpu / "model-f32.gguf").string(), dev);
  EXPECT_EQ(lm.config().n_layers, 2);
  mecllm::remove_tree(out_gpu);
  mecllm::remove_tree(out_cpu);
}

TEST(CudaTorch, train_lm_resumed_on_cuda_follows_the_uninterrupted_run) {
  SKIP_WITHOUT_CUDA();
  set_log_sink(nullptr);
  no_tf32();
  const fs::path straight = temp_dir("straight"), resumed = temp_dir("resumed");
  auto cfg = tiny(12, dev);
  cfg.checkpoint_every = 6;
  train_lm(cfg, straight, false);
  auto stop = cfg;
  stop.stop_at_step = 6;
  train_lm(stop, resumed, false);
  train_lm(cfg, resumed, /*resume=*/true);  // optimiser moments and model come back onto the GPU
  const auto a = losses(straight), b = losses(resumed);
  ASSERT_EQ(a.size(), 12u);
  ASSERT_EQ(b.size(), 12u);
  double max_diff = 0;
  // CUDA's atomic-add reductions (embedding backward) make runs bit-inexact: compare to 1e-3.
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, golden_rel_err(b[i], a[i]));
    EXPECT_LE(golden_rel_err(b[i], a[i]), 1e-3) << "step " << i + 1 << ": " << b[i] << " vs " << a[i];
  }
  std::printf("CUDA-CHECK [%s] train-lm resume at step 6 of 12: max rel loss diff vs uninterrupted %.3g\n", dev.c_str(),
              max_diff);
  std::fflush(stdout);
  mecllm::remove_tree(straight);
  mecllm::remove_tree(resumed);
}
