// The runtime engine behind LanguageModel, on ../shared/models/stories260K (skipped when absent).
#include <gtest/gtest.h>

#ifdef MECLLM_EVAL_HAS_RUNTIME

#include <cmath>
#include <filesystem>

#include "eval/runtime_model.h"
#include "eval/scorers_ll.h"
#include "eval/scorers_qa.h"

using namespace mecllm::eval;

namespace {
std::string stories_path() { return std::string(MECLLM_SHARED_DIR) + "/models/stories260K/stories260K.bin"; }
std::string tok_path() { return std::string(MECLLM_SHARED_DIR) + "/models/stories260K/tok512.bin"; }
}  // namespace

class Stories : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(stories_path())) GTEST_SKIP() << "../shared/models/stories260K absent";
    model = std::make_unique<RuntimeModel>(RuntimeModelOptions{stories_path(), tok_path(), 1, ""});
  }
  std::unique_ptr<RuntimeModel> model;
};

TEST_F(Stories, greedy_token_has_the_highest_logprob) {
  const std::string prompt = "Once upon a time";
  std::vector<int32_t> ids = model->tokenize(prompt, true);
  std::string next = model->generate_greedy(prompt, 1, {});
  ASSERT_FALSE(next.empty());
  std::vector<int32_t> with = model->tokenize(prompt + next, true);
  ASSERT_GT(with.size(), ids.size());
  int32_t greedy = with[ids.size()];
  std::vector<int32_t> seq = ids;
  seq.push_back(greedy);
  double best = model->token_logprobs(seq, ids.size())[0];
  EXPECT_LT(best, 0.0);
  for (int32_t alt : {3, 50, 100, 200, 400}) {
    if (alt == greedy) continue;
    seq.back() = alt;
    EXPECT_LE(model->token_logprobs(seq, ids.size())[0], best) << "token " << alt;
  }
}

TEST_F(Stories, footprint_matches_the_file) {
  ModelFootprint f = model->footprint();
  EXPECT_EQ(f.name, "stories260K");
  EXPECT_GT(f.n_params, 200'000);
  EXPECT_LT(f.n_params, 300'000);
  EXPECT_NEAR(f.bits_per_weight(), 32.0, 0.5);  // an F32 checkpoint
  EXPECT_EQ(f.seq_len, 512);
  EXPECT_NO_THROW(f.check());
}

TEST_F(Stories, perplexity_of_its_own_greedy_text_is_low) {
  std::string text = model->generate_greedy("Once upon a time", 120, {});
  PerplexityConfig cfg;
  cfg.ctx = 32;
  PerplexityResult r = score_perplexity(*model, "Once upon a time" + text, cfg, "greedy");
  EXPECT_GE(r.n_chunks, 1);
  EXPECT_TRUE(std::isfinite(r.ppl));
  EXPECT_GT(r.ppl, 1.0);
  EXPECT_LT(r.ppl, 5.0);  // its own greedy text is very likely under it (uniform would be 512)
}

TEST_F(Stories, speed_measurement_is_positive) {
  HostSpeed s = model->measure_speed(16, 8, 1, 0);
  EXPECT_EQ(s.prompt_tokens, 16);
  EXPECT_EQ(s.output_tokens, 8);
  EXPECT_GT(s.decode_tok_s(), 0.0);
  EXPECT_GT(s.prefill_tok_s(), 0.0);
}

#endif
