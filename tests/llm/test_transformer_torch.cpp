// The LibTorch transformer against golden outputs of an independent llama2.c implementation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/rundir.h"
#include "llm/torch_lm.h"
#include "runtime/tokenizer.h"
#include "shared_dir.h"

namespace fs = std::filesystem;
using namespace mecllm;

namespace {
const fs::path kShared = MECLLM_SHARED_DIR;
const fs::path kModel = kShared / "models/stories260K/stories260K.bin";
const fs::path kTok = kShared / "models/stories260K/tok512.bin";
const fs::path kGolden = kShared / "golden/stories260K-greedy-logits.jsonl";
const fs::path kGoldenText = kShared / "golden/stories260K-greedy.txt";
}  // namespace

TEST(TransformerTorch, stories260k_logits_match_golden_at_every_position) {
  if (!fs::exists(kModel) || !fs::exists(kGolden)) GTEST_SKIP() << "../shared/models/stories260K absent";
  auto lm = llm::TorchLm::open(kModel.string());
  ASSERT_EQ(lm.config().vocab_size, 512);
  const auto golden = mecllm::testing::read_json_lines(kGolden);
  ASSERT_EQ(golden.size(), 48u);
  std::vector<int32_t> ids;
  for (const auto& g : golden) ids.push_back(g["token"].get<int32_t>());
  const auto logits = lm.logits(ids);  // one causal pass over the 48 golden input tokens
  const size_t V = 512;
  for (size_t pos = 0; pos < golden.size(); ++pos) {
    const float* row = logits.data() + pos * V;
    const auto argmax = std::max_element(row, row + V) - row;
    EXPECT_EQ(argmax, golden[pos]["argmax"].get<int64_t>()) << "pos " << pos;
    EXPECT_LE(mecllm::testing::golden_row_error(row, V, golden[pos]), 1e-4) << "pos " << pos;
    // After the prompt, each input token is the previous position's argmax (greedy feedback).
    if (pos + 1 < golden.size() && pos >= 4) {
      EXPECT_EQ(golden[pos + 1]["token"].get<int64_t>(), argmax);
    }
  }
}

TEST(TransformerTorch, stories260k_greedy_continuation_decodes_to_golden_text) {
  if (!fs::exists(kModel) || !fs::exists(kTok)) GTEST_SKIP() << "../shared/models/stories260K absent";
  auto lm = llm::TorchLm::open(kModel.string());
  auto tok = runtime::load_llama2c_tokenizer(kTok.string(), 512);
  auto prompt = tok->encode("Once upon a time", /*add_bos=*/true);
  const std::vector<int32_t> golden_prompt = {1, 403, 407, 261, 378};
  EXPECT_EQ(prompt, golden_prompt);
  // 48 input positions: the 5 prompt tokens, then 43 fed-back argmaxes, plus the last argmax.
  auto gen = lm.generate_greedy(prompt, 49 - static_cast<int>(prompt.size()));
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), gen.begin(), gen.end());
  std::string text = tok->decode(all);
  std::string want = read_text_file(kGoldenText);
  while (!want.empty() && (want.back() == '\n' || want.back() == ' ')) want.pop_back();
  EXPECT_EQ(text, want);
}

TEST(TransformerTorch, rejects_bad_device_and_out_of_range_tokens) {
  if (!fs::exists(kModel)) GTEST_SKIP() << "../shared/models/stories260K absent";
  EXPECT_THROW(llm::TorchLm::open(kModel.string(), "tpu"), InputError);
  auto lm = llm::TorchLm::open(kModel.string());
  std::vector<int32_t> bad = {1, 512};
  EXPECT_THROW(lm.logits(bad), InputError);
  EXPECT_THROW(llm::TorchLm::open((kShared / "golden/README.md").string()), InputError);
}
