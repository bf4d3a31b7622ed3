// Tools on the engine: synth-model checkpoints load and run in both formats, perplexity
// follows llama.cpp's windows (and is exactly 1-agreement/0-KL against itself), a chat session
// that reuses the cached prefix gives the same reply as a fresh context; bench model's roofline
// reads the bandwidth around the tg runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "runtime/bench_model.h"
#include "runtime/chat.h"
#include "runtime/perplexity.h"
#include "runtime/synth_model.h"
#include "runtime/tokenizer.h"

using namespace mecllm;
using namespace mecllm::runtime;

namespace {
const std::string kShared = MECLLM_SHARED_DIR;
const std::string kModel = kShared + "/models/stories260K/stories260K.bin";
const std::string kGoldenText = kShared + "/golden/stories260K-greedy.txt";

// One directory per test: ctest runs these tests as parallel processes, and each removes its
// directory at the end (a shared one was removed under a running neighbour).
std::filesystem::path temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto d = std::filesystem::temp_directory_path() / "mecllm_test_tools" /
                 (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::create_directories(d);
  return d;
}
}  // namespace

TEST(SynthModel, writes_loadable_llama2c_and_gguf_checkpoints) {
  const auto dir = temp_dir();
  SynthOptions opt;
  opt.shape = "260K";
  const ModelConfig c = write_synth_model((dir / "s.bin").string(), opt);
  EXPECT_EQ(c.dim, 64);
  opt.type = QuantType::Q8_0;
  EXPECT_THROW(write_synth_model((dir / "s8.bin").string(), opt), InputError);  // llama2.c is f32 only
  write_synth_model((dir / "s8.gguf").string(), opt);
  Transformer a = Transformer::load((dir / "s.bin").string());
  Transformer b = Transformer::load((dir / "s8.gguf").string());
  EXPECT_EQ(a.config().n_layers, 5);
  EXPECT_EQ(b.weight_type(), QuantType::F32);  // most bytes: ffn_down rows of 172 do not fit q8_0, kept f32
  const auto la = a.forward(1, 0);
  EXPECT_EQ(la.size(), 512u);
  EXPECT_TRUE(std::isfinite(la[0]));
  EXPECT_THROW(synth_shape("7B"), InputError);
  std::filesystem::remove_all(dir);
}

TEST(Perplexity, scores_second_halves_and_is_self_consistent) {
  if (!std::filesystem::exists(kModel) || !std::filesystem::exists(kGoldenText)) {
    GTEST_SKIP() << "../shared/models/stories260K or golden text absent";
  }
  std::ifstream in(kGoldenText);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str() + " " + ss.str() + " " + ss.str();
  LoadOptions lo;
  lo.context = 32;
  Transformer model = Transformer::load(kModel, lo);
  Transformer same = Transformer::load(kModel, lo);
  const auto tok = tokenizer_for_model(model.file());
  PerplexityOptions opt;
  opt.ctx = 32;
  opt.progress = false;
  const PerplexityResult r = perplexity(model, *tok, text, opt, &same);
  EXPECT_EQ(r.n_scored, static_cast<int64_t>(r.n_chunks) * (32 - 1 - 16));
  EXPECT_GT(r.ppl, 1.0);
  EXPECT_LT(r.ppl, 20.0);  // the model's own greedy text is highly predictable to it
  EXPECT_NEAR(r.kl_mean, 0.0, 1e-9);
  EXPECT_EQ(r.top1_agreement, 1.0);
  EXPECT_NEAR(r.ref_ppl, r.ppl, 1e-9);
  opt.ctx = 64;  // longer than the loaded context
  EXPECT_THROW(perplexity(model, *tok, text, opt), InputError);
  opt.ctx = 32;
  EXPECT_THROW(perplexity(model, *tok, "short", opt), InputError);
}

TEST(Chat, cached_prefix_gives_the_same_reply_as_a_fresh_context) {
  if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "../shared/models/stories260K absent";
  Transformer model = Transformer::load(kModel);
  const auto tok = tokenizer_for_model(model.file());
  GenerateOptions opt;
  opt.sampler.temperature = 0.0f;
  opt.max_tokens = 12;
  ChatSession chat(model, *tok, ChatFamily::Mistral, opt);
  chat.reply("Tell me a story.");
  const int after_first = chat.position();
  const GenerateResult second = chat.reply("What happened next?");
  EXPECT_GT(chat.position(), after_first);
  // a fresh session given the same history must produce the same second reply
  Transformer model2 = Transformer::load(kModel);
  Generator fresh(model2, *tok, [&] {
    GenerateOptions o = opt;
    o.add_bos = false;
    for (int32_t id : chat_stop_ids(ChatFamily::Mistral, *tok)) o.stop_ids.push_back(id);
    return o;
  }());
  std::vector<ChatMessage> msgs(chat.messages().begin(), chat.messages().end() - 1);
  const auto ids = tok->encode(format_chat(ChatFamily::Mistral, msgs, true), false, false, true);
  const GenerateResult again = fresh.generate_ids(ids);
  EXPECT_EQ(again.text, second.text);
}

TEST(Generate, samples_only_tokens_the_tokenizer_can_decode) {
  const std::string tok_path = kShared + "/models/stories260K/tok512.bin";
  if (!std::filesystem::exists(tok_path)) GTEST_SKIP() << "../shared/models/stories260K absent";
  const auto dir = temp_dir();
  SynthOptions so;
  so.shape = "260K";  // vocabulary 512, near-uniform logits
  write_synth_model((dir / "pad.bin").string(), so);
  Transformer model = Transformer::load((dir / "pad.bin").string());
  const auto tok = load_llama2c_tokenizer(tok_path, 300);  // the model's rows 300..511 are padding
  GenerateOptions opt;
  opt.sampler.temperature = 1.0f;
  opt.sampler.top_k = 0;
  opt.sampler.top_p = 1.0f;
  opt.sampler.min_p = 0.0f;
  opt.sampler.seed = 3;
  opt.max_tokens = 64;
  opt.stop_at_eos = false;
  const GenerateResult r = generate(model, *tok, "Once", opt);
  ASSERT_EQ(r.tokens.size(), 64u);
  for (int32_t id : r.tokens) EXPECT_LT(id, 300);
  std::filesystem::remove_all(dir);
}

// A checkpoint whose weights hold NaN (bytes 0xFF) must be reported, not sampled as id 0 forever.
TEST(Generate, nan_weights_are_an_input_error_not_sampled_text) {
  const std::string tok_path = kShared + "/models/stories260K/tok512.bin";
  if (!std::filesystem::exists(tok_path)) GTEST_SKIP() << "../shared/models/stories260K absent";
  const auto dir = temp_dir();
  const std::string path = (dir / "nan.bin").string();
  SynthOptions so;
  so.shape = "260K";
  const ModelConfig c = write_synth_model(path, so);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(7 * 4);  // llama2.c header: seven int32, then the token embedding
    const std::string nan_bytes(static_cast<size_t>(c.vocab_size) * c.dim * 4, '\xFF');
    f.write(nan_bytes.data(), static_cast<std::streamsize>(nan_bytes.size()));
  }
  Transformer model = Transformer::load(path);
  const auto tok = load_llama2c_tokenizer(tok_path, c.vocab_size);
  GenerateOptions opt;
  opt.sampler.temperature = 0.0f;
  opt.max_tokens = 4;
  try {
    generate(model, *tok, "Once", opt);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite logits"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(BenchModel, roofline_share_is_against_the_mean_of_the_readings_around_tg) {
  BenchModelOptions opt;
  opt.model = kModel;
  opt.threads = {2};
  opt.reps = 1;
  opt.n_prompt = 4;
  opt.n_gen = 4;
  opt.roofline = true;
  opt.bandwidth_bytes = size_t{16} << 20;  // small: this checks the bookkeeping, not the machine
  const BenchModelResult r = bench_model(opt);
  ASSERT_EQ(r.roofline.size(), 1u);
  const auto& f = r.roofline[0];
  EXPECT_GT(f.bandwidth_before_gbs, 0.0);
  EXPECT_GT(f.bandwidth_after_gbs, 0.0);
  EXPECT_DOUBLE_EQ(f.bandwidth_gbs, (f.bandwidth_before_gbs + f.bandwidth_after_gbs) / 2);
  EXPECT_DOUBLE_EQ(f.share, f.achieved_gbs / f.bandwidth_gbs);
  const nlohmann::json j = r.to_json();
  for (const char* key : {"bandwidth_gbs", "bandwidth_before_gbs", "bandwidth_after_gbs", "achieved_gbs", "share"}) {
    EXPECT_TRUE(j["roofline"][0].contains(key)) << key;
  }
}
