// Sampling chain, stop strings, and generation on stories260K (golden greedy text, seeds,
// thread counts, context limits).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "common/errors.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {

const std::string kShared = MECLLM_SHARED_DIR;
const std::string kModel = kShared + "/models/stories260K/stories260K.bin";
const std::string kGoldenText = kShared + "/golden/stories260K-greedy.txt";

SamplerConfig plain(float temperature, uint64_t seed = 1) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  c.seed = seed;
  return c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Sampler, temperature_zero_is_argmax) {
  Sampler s(plain(0.0f));
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.sample(logits, {}), 1);
}

TEST(Sampler, same_seed_same_draws_and_other_seed_differs) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
  auto draws = [&](uint64_t seed) {
    Sampler s(plain(1.0f, seed));
    std::vector<int32_t> out;
    for (int i = 0; i < 40; ++i) out.push_back(s.sample(logits, {}));
    return out;
  };
  EXPECT_EQ(draws(7), draws(7));
  EXPECT_NE(draws(7), draws(8));
}

TEST(Sampler, frequencies_follow_the_softmax_at_temperature_one) {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f};
  Sampler s(plain(1.0f, 3));
  std::vector<int> count(3, 0);
  const int n = 30000;
  for (int i = 0; i < n; ++i) ++count[static_cast<size_t>(s.sample(logits, {}))];
  const double z = 1 + std::exp(1.0) + std::exp(2.0);
  for (int k = 0; k < 3; ++k) {
    const double p = std::exp(static_cast<double>(k)) / z;
    EXPECT_NEAR(count[static_cast<size_t>(k)] / static_cast<double>(n), p, 0.015) << k;
  }
}

TEST(Sampler, top_k_one_top_p_and_min_p_cut_the_tail) {
  const std::vector<float> logits = {3.0f, 2.9f, 0.0f, -1.0f};
  SamplerConfig k1 = plain(2.0f);
  k1.top_k = 1;
  SamplerConfig p_small = plain(2.0f);
  p_small.top_p = 0.1f;  // the first candidate alone already has more mass
  SamplerConfig minp = plain(5.0f);
  minp.min_p = 0.5f;  // keeps ids 0 and 1 (p1/p0 = e^-0.1), drops 2 and 3
  Sampler a(k1), b(p_small), c(minp);
  std::map<int32_t, int> seen_c;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(a.sample(logits, {}), 0);
    EXPECT_EQ(b.sample(logits, {}), 0);
    ++seen_c[c.sample(logits, {})];
  }
  EXPECT_GT(seen_c[0], 0);
  EXPECT_GT(seen_c[1], 0);
  EXPECT_EQ(seen_c.count(2) + seen_c.count(3), 0u);
}

TEST(Sampler, repetition_penalty_moves_greedy_off_a_recent_token) {
  SamplerConfig c = plain(0.0f);
  c.repeat_penalty = 2.0f;
  Sampler s(c);
  const std::vector<float> logits = {2.0f, 1.5f, -3.0f};
  const std::vector<int32_t> history = {0};
  EXPECT_EQ(s.sample(logits, history), 1);  // 2.0 / 2 = 1.0 < 1.5
  EXPECT_EQ(s.sample(logits, {}), 0);
}

TEST(Sampler, rejects_out_of_range_settings) {
  SamplerConfig c;
  c.top_p = 0.0f;
  EXPECT_THROW(Sampler{c}, InputError);
  c = SamplerConfig{};
  c.temperature = -1.0f;
  EXPECT_THROW(Sampler{c}, InputError);
  c = SamplerConfig{};
  c.min_p = 1.0f;
  EXPECT_THROW(Sampler{c}, InputError);
  c = SamplerConfig{};
  c.top_k = -2;
  EXPECT_THROW(Sampler{c}, InputError);
}

TEST(StopStrings, holds_back_partial_matches_and_cuts_at_the_stop) {
  StopStrings s({"END", "\n\n"});
  std::string out, emit;
  EXPECT_FALSE(s.push("hello E", emit));
  out += emit;
  EXPECT_EQ(out, "hello ");  // "E" might start "END"
  EXPECT_FALSE(s.push("x", emit));
  out += emit;
  EXPECT_EQ(out, "hello Ex");
  EXPECT_FALSE(s.push(" E", emit));
  out += emit;
  EXPECT_TRUE(s.push("ND tail", emit));
  out += emit;
  EXPECT_EQ(out, "hello Ex ");
  StopStrings t({"\n\n"});
  EXPECT_FALSE(t.push("a\n", emit));
  EXPECT_EQ(emit, "a");
  EXPECT_EQ(t.flush(), "\n");
}

TEST(Generate, greedy_text_matches_golden) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kGoldenText)) {
    GTEST_SKIP() << "../shared/models/stories260K or golden text absent";
  }
  Transformer model = Transformer::load(kModel);
  const auto tok = tokenizer_for_model(model.file());
  GenerateOptions opt;
  opt.sampler.temperature = 0.0f;
  opt.max_tokens = 48 - 4;  // 48 golden positions: BOS + 4 prompt tokens, the argmax of the last one too
  opt.stop_at_eos = false;
  std::string streamed;
  const GenerateResult r = generate(model, *tok, "Once upon a time", opt, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  std::string golden = read_text(kGoldenText);
  while (!golden.empty() && (golden.back() == '\n' || golden.back() == ' ')) golden.pop_back();
  const std::string full = "Once upon a time" + r.text;
  EXPECT_EQ(full.substr(0, golden.size()), golden);
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.n_prompt, 5);
}

TEST(Generate, same_seed_same_text_and_threads_do_not_change_greedy) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "../shared/models/stories260K absent";
  auto run = [&](int threads, float temp, uint64_t seed) {
    LoadOptions lo;
    lo.n_threads = threads;
    Transformer model = Transformer::load(kModel, lo);
    const auto tok = tokenizer_for_model(model.file());
    GenerateOptions opt;
    opt.sampler.temperature = temp;
    opt.sampler.seed = seed;
    opt.max_tokens = 60;
    return generate(model, *tok, "The dog", opt).text;
  };
  EXPECT_EQ(run(1, 0.9f, 42), run(1, 0.9f, 42));
  EXPECT_NE(run(1, 0.9f, 42), run(1, 0.9f, 43));
  EXPECT_EQ(run(1, 0.0f, 0), run(2, 0.0f, 0));
}

TEST(Generate, prompt_longer_than_context_is_an_input_error) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "../shared/models/stories260K absent";
  LoadOptions lo;
  lo.context = 16;
  Transformer model = Transformer::load(kModel, lo);
  const auto tok = tokenizer_for_model(model.file());
  std::string long_prompt;
  for (int i = 0; i < 40; ++i) long_prompt += "dog ";
  try {
    generate(model, *tok, long_prompt, GenerateOptions{});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  // generation that reaches the end of the context stops with reason "context"
  GenerateOptions opt;
  opt.max_tokens = 100;
  opt.stop_at_eos = false;
  const GenerateResult r = generate(model, *tok, "Once", opt);
  EXPECT_EQ(r.stop_reason, "context");
  EXPECT_LE(r.n_prompt + static_cast<int>(r.tokens.size()), 17);
}
