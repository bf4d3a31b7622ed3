// Conversion between formats and types: quantised round trips stay within each block format's
// error bound, rows that do not fit a block fall back, tokenizers are carried, inspect reports.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/model_convert.h"
#include "runtime/model_file.h"
#include "runtime/model_inspect.h"
#include "runtime/model_writer.h"
#include "runtime/tokenizer.h"
#include "test_formats_util.h"

using namespace mecllm;
using namespace mecllm::runtime;
using namespace mecllm::runtime::testing;

namespace {

const std::string kStories = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/stories260K.bin";
const std::string kTok512 = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/tok512.bin";

// Whole-tensor RMS error relative to the RMS of the weights (the quant tests' measure; their
// measured values on normal data: q8_0 5.3e-3, q4_0 0.087, q4_k 0.073).
double rms_bound(QuantType t) {
  switch (t) {
    case QuantType::Q8_0: return 0.01;
    case QuantType::Q4_0: return 0.13;
    case QuantType::Q4_K: return 0.10;
    default: return 0.0;
  }
}

// Per-block worst case from the block definitions: Q8_0 rounds x/d with d = amax/127 (error
// d/2, plus the fp16 rounding of d times |q| <= 127: 127 * 2^-11 d); Q4_0 uses d = max/-8 and
// clamps the +8 end to 7, so the error reaches d = amax/8. Q4_K's 6-bit sub-block scales and
// mins add more; we bound it by a fifth of the super-block's range.
double block_bound(QuantType t, double amax, double range) {
  switch (t) {
    case QuantType::Q8_0: return amax / 127.0 * (0.5 + 127.0 / 2048.0) + 1e-7;
    case QuantType::Q4_0: return amax / 8.0 * (1.0 + 8.0 / 2048.0) + 1e-7;
    case QuantType::Q4_K: return range / 5.0;
    default: return 0.0;
  }
}

ConvertOptions quiet(std::string in, std::string out, std::string type = "", std::string tokenizer = "") {
  ConvertOptions o;
  o.input = std::move(in);
  o.output = std::move(out);
  o.type = std::move(type);
  o.tokenizer = std::move(tokenizer);
  o.show_progress = false;
  return o;
}

}  // namespace

TEST(FormatsConvert, quantised_round_trip_error_is_within_each_block_format_bound) {
  TempDir dir;
  ModelConfig c = small_config();
  write_gguf(dir.file("f32.gguf"), c, views_of(random_model(c, 41)));
  ModelFile ref = ModelFile::open(dir.file("f32.gguf"));
  for (QuantType t : {QuantType::Q8_0, QuantType::Q4_0, QuantType::Q4_K}) {
    const std::string name = quant_type_name(t);
    const std::string q = dir.file(name + ".gguf"), back = dir.file(name + "-f32.gguf");
    ConvertReport r = convert_model(quiet(dir.file("f32.gguf"), q, name));
    EXPECT_EQ(r.n_fallback, 0) << name;
    convert_model(quiet(q, back, "f32"));
    ModelFile mq = ModelFile::open(q);
    ModelFile mb = ModelFile::open(back);
    EXPECT_EQ(mq.gguf_metadata()->get_int("general.file_type"), gguf_file_type(t));
    const int64_t block = traits(t).block_size;
    for (const auto& tv : ref.tensors()) {
      EXPECT_EQ(mq.get(tv.name).type, tv.shape.size() >= 2 ? t : QuantType::F32) << tv.name;
      const auto x = ref.get_f32(tv.name), y = mb.get_f32(tv.name);
      ASSERT_EQ(x.size(), y.size());
      if (tv.shape.size() < 2) {  // norms stay F32: bit-exact
        EXPECT_EQ(x, y) << tv.name;
        continue;
      }
      double err = 0, norm = 0;
      for (size_t i = 0; i < x.size(); ++i) err += (x[i] - y[i]) * (x[i] - y[i]), norm += x[i] * x[i];
      EXPECT_LE(std::sqrt(err / norm), rms_bound(t)) << name << " " << tv.name;
      for (size_t b0 = 0; b0 < x.size(); b0 += static_cast<size_t>(block)) {
        double amax = 0, lo = x[b0], hi = x[b0], worst = 0;
        for (size_t i = b0; i < b0 + static_cast<size_t>(block); ++i) {
          amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
          lo = std::min<double>(lo, x[i]), hi = std::max<double>(hi, x[i]);
          worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - y[i]));
        }
        ASSERT_LE(worst, block_bound(t, amax, hi - lo)) << name << " " << tv.name << " block at " << b0;
      }
    }
    // Matrices dominate: bits per weight close to the block format's (8.5 / 4.5 / 4.5).
    const double bpw = t == QuantType::Q8_0 ? 8.5 : 4.5;
    EXPECT_NEAR(mq.bits_per_weight(), bpw, 0.2) << name;
  }
}

TEST(FormatsConvert, rows_that_do_not_fit_the_block_fall_back_to_a_finer_type) {
  TempDir dir;
  ModelConfig c = small_config();
  c.dim = 64;
  c.hidden_dim = 172;  // stories260K's shape: 172 is not a multiple of 32
  write_llama2c(dir.file("m.bin"), c, views_of(random_model(c, 43)));
  ConvertReport r = convert_model(quiet(dir.file("m.bin"), dir.file("m.gguf"), "q4_k"));
  ModelFile m = ModelFile::open(dir.file("m.gguf"));
  EXPECT_EQ(m.get("blk.0.attn_q.weight").type, QuantType::Q4_0);     // rows of 64: q4_k -> q4_0
  EXPECT_EQ(m.get("blk.0.ffn_down.weight").type, QuantType::F16);    // rows of 172: -> f16
  EXPECT_EQ(m.get("blk.0.ffn_up.weight").type, QuantType::Q4_0);
  EXPECT_EQ(m.get("blk.0.attn_norm.weight").type, QuantType::F32);
  EXPECT_EQ(r.n_fallback, 1 + c.n_layers * 7);  // token_embd + 7 matrices per layer
}

TEST(FormatsConvert, rejects_types_the_output_cannot_hold_and_unknown_outputs) {
  TempDir dir;
  ModelConfig c = small_config();
  write_gguf(dir.file("m.gguf"), c, views_of(random_model(c, 47)));
  expect_input_error([&] { convert_model(quiet(dir.file("m.gguf"), dir.file("m.bin"), "q4_0")); }, {"m.bin", "q4_0"});
  expect_input_error([&] { convert_model(quiet(dir.file("m.gguf"), dir.file("m.safetensors"), "q8_0")); }, {"q8_0"});
  expect_input_error([&] { convert_model(quiet(dir.file("m.gguf"), dir.file("x.gguf"), "q5_1")); }, {"--type 'q5_1'"});
  expect_input_error([&] { convert_model(quiet(dir.file("m.gguf"), dir.file("m.onnx"))); }, {"m.onnx", "cannot tell the output format"});
  // A quantised source into llama2.c or safetensors without --type is dequantised to f32.
  convert_model(quiet(dir.file("m.gguf"), dir.file("q.gguf"), "q8_0"));
  convert_model(quiet(dir.file("q.gguf"), dir.file("q.bin")));
  EXPECT_EQ(ModelFile::open(dir.file("q.bin")).get("blk.0.attn_q.weight").type, QuantType::F32);
}

TEST(FormatsConvert, stories260k_converts_with_its_tokenizer_and_inspects) {
  if (!fs::exists(kStories) || !fs::exists(kTok512)) GTEST_SKIP() << kStories << " absent";
  TempDir dir;
  ConvertReport r = convert_model(quiet(kStories, dir.file("s.gguf"), "", kTok512));
  EXPECT_NE(r.tokenizer.find("512 tokens"), std::string::npos) << r.tokenizer;
  convert_model(quiet(dir.file("s.gguf"), dir.file("s-q8.gguf"), "q8_0"));
  ModelFile m = ModelFile::open(dir.file("s-q8.gguf"));
  const GgufMetadata* md = m.gguf_metadata();
  EXPECT_EQ(md->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(md->get_string_array("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(md->get_int("tokenizer.ggml.bos_token_id"), 1);
  auto tok = tokenizer_from_gguf(*md);
  EXPECT_EQ(tok->vocab_size(), 512);

  const std::string text = inspect_model(dir.file("s-q8.gguf"), {true, true});
  for (const char* want : {"gguf", "llama", "dim 64, hidden 172, layers 5, heads 8 (kv 4)", "q8_0:", "f16:",
                           "bits per weight", "llama (SentencePiece-style BPE), 512 tokens", "blk.4.ffn_down.weight",
                           "tokenizer.ggml.tokens"})
    EXPECT_NE(text.find(want), std::string::npos) << "missing '" << want << "' in\n" << text;
  // A tokenizer whose size differs from the model's vocabulary is refused.
  ModelConfig c = small_config();
  write_gguf(dir.file("m.gguf"), c, views_of(random_model(c, 53)));
  expect_input_error([&] { convert_model(quiet(dir.file("m.gguf"), dir.file("n.gguf"), "", kTok512)); },
                     {kTok512, "512 tokens", "vocab_size is 64"});
}
