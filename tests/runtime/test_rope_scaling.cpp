// RoPE scaling (model_config.h RopeScaling): Llama 3.1's divisors against a hand-computed
// example, linear scaling, and the config through HF config.json and GGUF round trips, with the
// errors for what the formats cannot express.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/gguf.h"
#include "runtime/hf_config.h"
#include "runtime/model_file.h"
#include "test_formats_util.h"

using namespace mecllm;
using namespace mecllm::runtime;
using namespace mecllm::runtime::testing;

namespace {

// Llama 3.1's published parameters (factor 8, low 1, high 4, original context 8192).
nlohmann::json llama31_scaling() {
  return {{"rope_type", "llama3"},
          {"factor", 8.0},
          {"low_freq_factor", 1.0},
          {"high_freq_factor", 4.0},
          {"original_max_position_embeddings", 8192}};
}

nlohmann::json hf_llama(const nlohmann::json& rope_scaling) {
  return {{"model_type", "llama"}, {"hidden_size", 64},         {"intermediate_size", 128},
          {"num_hidden_layers", 1}, {"num_attention_heads", 8}, {"num_key_value_heads", 4},
          {"vocab_size", 32},       {"max_position_embeddings", 256}, {"rope_theta", 500000.0},
          {"rope_scaling", rope_scaling}};
}

}  // namespace

TEST(RopeScaling, llama3_divisors_match_a_hand_computed_example) {
  // theta 500000, head_size 8: frequencies 500000^(-i/4) = 1, 0.0376, 0.001414, 5.32e-5 have
  // wavelengths 2 pi / f = 6.28, 167.1, 4442.9, 118143. Against high = 8192 / 4 = 2048 and
  // low = 8192 / 1 = 8192: pairs 0 and 1 keep their frequency, pair 3 is divided by 8, and pair
  // 2 blends: s = (8192 / 4442.88 - 1) / (4 - 1) = 0.281283, divisor 1 / ((1 - s) / 8 + s) = 2.69453.
  const auto f = llama3_rope_freq_factors(500000.0f, 8, 8.0f, 1.0f, 4.0f, 8192);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[1], 1.0f);
  EXPECT_NEAR(f[2], 2.69453f, 1e-4f);
  EXPECT_FLOAT_EQ(f[3], 8.0f);
}

TEST(RopeScaling, hf_llama3_config_gives_the_divisors_and_round_trips) {
  const ModelConfig c = config_from_hf_json(hf_llama(llama31_scaling()), "config.json");
  ASSERT_EQ(c.rope_scaling, RopeScaling::llama3);
  EXPECT_EQ(c.rope_freq_factors, llama3_rope_freq_factors(500000.0f, 8, 8.0f, 1.0f, 4.0f, 8192));
  const auto divisors = rope_freq_divisors(c);
  ASSERT_EQ(divisors.size(), 4u);
  EXPECT_DOUBLE_EQ(divisors[3], 8.0);
  EXPECT_EQ(config_from_hf_json(config_to_hf_json(c), "config.json"), c);
}

TEST(RopeScaling, linear_divides_every_frequency_and_round_trips_through_hf_and_gguf) {
  const ModelConfig c = config_from_hf_json(hf_llama({{"type", "linear"}, {"factor", 4.0}}), "config.json");
  ASSERT_EQ(c.rope_scaling, RopeScaling::linear);
  EXPECT_EQ(rope_freq_divisors(c), std::vector<double>(4, 4.0));
  EXPECT_EQ(config_from_hf_json(config_to_hf_json(c), "config.json"), c);
  GgufMetadata md;
  config_to_gguf(c, md);
  EXPECT_EQ(md.find_string("llama.rope.scaling.type"), "linear");
  EXPECT_EQ(md.find_float("llama.rope.scaling.factor"), 4.0);
  const ModelConfig back = config_from_gguf(md);
  EXPECT_EQ(back.rope_scaling, RopeScaling::linear);
  EXPECT_EQ(back.rope_factor, 4.0f);
}

TEST(RopeScaling, llama3_goes_through_gguf_as_the_rope_freqs_tensor) {
  TempDir dir;
  ModelConfig c = small_config("llama");
  c.rope_theta = 500000.0f;
  c.rope_scaling = RopeScaling::llama3;
  c.rope_factor = 8.0f;
  c.rope_low_freq_factor = 1.0f;
  c.rope_high_freq_factor = 4.0f;
  c.rope_original_context = 64;
  c.rope_freq_factors = llama3_rope_freq_factors(c.rope_theta, c.head_size(), 8.0f, 1.0f, 4.0f, 64);
  const auto tensors = random_model(c, 3);
  const std::string path = dir.file("llama3.gguf");
  write_gguf(path, c, views_of(tensors));
  const ModelFile f = ModelFile::open(path);
  EXPECT_EQ(f.config().rope_scaling, RopeScaling::llama3);
  EXPECT_EQ(f.config().rope_freq_factors, c.rope_freq_factors);
  EXPECT_EQ(f.config().rope_factor, 8.0f);
  EXPECT_EQ(f.tensors().size(), tensors.size()) << "rope_freqs.weight is configuration, not a weight";
  // GGUF keeps only the divisors: writing it again works, config.json needs the parameters
  const std::string again = dir.file("again.gguf");
  write_gguf(again, f.config(), f.tensors());
  EXPECT_EQ(ModelFile::open(again).config().rope_freq_factors, c.rope_freq_factors);
  expect_input_error([&] { (void)config_to_hf_json(f.config()); }, {"rope_freqs.weight", "original_max_position_embeddings"});
}

TEST(RopeScaling, unsupported_types_and_bad_parameters_are_clear_errors) {
  expect_input_error([] { (void)config_from_hf_json(hf_llama({{"rope_type", "yarn"}, {"factor", 4.0}}), "config.json"); },
                     {"config.json", "yarn", "linear and llama3"});
  expect_input_error([] { (void)config_from_hf_json(hf_llama({{"rope_type", "linear"}}), "config.json"); },
                     {"'factor' is missing"});
  expect_input_error([] { (void)config_from_hf_json(hf_llama(nlohmann::json::array()), "config.json"); },
                     {"rope_scaling", "expected an object"});
  nlohmann::json inverted = llama31_scaling();
  inverted["high_freq_factor"] = 0.5;
  expect_input_error([&] { (void)config_from_hf_json(hf_llama(inverted), "config.json"); }, {"high_freq_factor"});
  expect_input_error([] { (void)config_from_hf_json(hf_llama({{"rope_type", "linear"}, {"factor", 0.5}}), "config.json"); },
                     {"rope_factor"});
  GgufMetadata md;
  config_to_gguf(small_config("llama"), md);
  md.set("llama.rope.scaling.type", GgufValue::of_string("yarn"));
  expect_input_error([&] { (void)config_from_gguf(md); }, {"llama.rope.scaling.type", "yarn"});
  md.set("llama.rope.scaling.type", GgufValue::of_string("linear"));
  expect_input_error([&] { (void)config_from_gguf(md); }, {"llama.rope.scaling.factor"});
  // (HF's "default" rope_type is no scaling)
  EXPECT_EQ(config_from_hf_json(hf_llama({{"rope_type", "default"}}), "config.json").rope_scaling, RopeScaling::none);
}
