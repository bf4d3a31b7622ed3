#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "compress/calib.h"
#include "compress/forward_ref.h"
#include "compress/quantize.h"
#include "runtime/transformer.h"
#include "test_helpers.h"

namespace mecllm::compress {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path dir;
  std::string model, calib;
  explicit Fixture(const std::string& name) {
    auto c = testing::tiny_config();
    c.dim = 256;  // Q4_K rows
    c.n_heads = 8;
    c.n_kv_heads = 4;
    c.hidden_dim = 256;
    c.n_layers = 2;
    auto files = testing::model_and_text(name, c, 7, 40,
                                         [](int i) { return fmt::format("The quick brown fox {} jumps over the lazy dog.", i); });
    dir = files.dir;
    model = files.model;
    calib = files.text;
  }
  QuantizeConfig cfg(const std::string& method, const std::string& type) const {
    QuantizeConfig q;
    q.method = method;
    q.type = type;
    q.calib_sequences = 4;
    q.calib_seq_len = 32;
    q.eval_sequences = 3;
    q.awq_max_tokens = 64;
    q.awq_grid = 4;
    q.awq_clip_grid = 3;  // the clipping search still runs; 10 ratios made it most of a minute under ASan
    return q;
  }
};

// One test per method, so the three (slow under the sanitizers) run in parallel under ctest.
class QuantizeMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizeMethod, exported_gguf_loads_in_the_runtime_and_gives_the_reported_perplexity) {
  const std::string method = GetParam();
  Fixture fx("q_ppl_" + method);
  std::string out = (fx.dir / (method + ".gguf")).string();
  auto rep = run_quantize(fx.model, fx.calib, fx.calib, fx.cfg(method, "q4_k"), out);
  auto engine = runtime::Transformer::load(out);
  EXPECT_EQ(engine.weight_type(), runtime::QuantType::Q4_K) << method;
  // Recompute the perplexity independently on the same windows.
  auto tok = model_tokenizer(load_dense_model(out));
  auto windows = calibration_windows(fx.calib, *tok, 3, 32);
  double nll = 0;
  int64_t n = 0;
  std::vector<double> lp;
  for (const auto& w : windows) {
    auto logits = engine.forward(w, 0, true);
    for (size_t t = 0; t + 1 < w.size(); ++t, ++n) {
      log_softmax_row(logits.data() + t * tok->vocab_size(), tok->vocab_size(), lp);
      nll -= lp[w[t + 1]];
    }
  }
  EXPECT_NEAR(rep["eval"]["ppl"].get<double>(), std::exp(nll / n), 1e-6 * std::exp(nll / n)) << method;
  EXPECT_GT(rep["eval"]["top1_agreement"].get<double>(), 0.3) << method;
  EXPECT_GE(rep["eval"]["kl"].get<double>(), 0.0) << method;
  // The perplexity ratio is the ratio of the two perplexities, inside its own 95% interval.
  const double ratio = rep["eval"]["ppl_ratio"].get<double>();
  EXPECT_NEAR(ratio, rep["eval"]["ppl"].get<double>() / rep["eval"]["ppl_ref"].get<double>(), 1e-9 * ratio) << method;
  const auto ci = rep["eval"]["ppl_ratio_ci95"];
  EXPECT_LT(ci[0].get<double>(), ratio) << method;
  EXPECT_GT(ci[1].get<double>(), ratio) << method;
  EXPECT_NEAR(rep["bits_per_weight"].get<double>(), 4.5, 0.6) << method;
}

INSTANTIATE_TEST_SUITE_P(Quantize, QuantizeMethod, ::testing::Values("rtn", "gptq", "awq"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(Quantize, mixed_rule_keeps_sensitive_tensors_at_higher_precision) {
  Fixture fx("q_mixed");
  auto cfg = fx.cfg("rtn", "q4_0");
  cfg.mixed = "sensitive";
  cfg.eval_sequences = 0;
  std::string out = (fx.dir / "mixed.gguf").string();
  run_quantize(fx.model, "", "", cfg, out);
  auto f = runtime::ModelFile::open(out);
  EXPECT_EQ(f.get("token_embd.weight").type, runtime::QuantType::Q8_0);
  EXPECT_EQ(f.get("blk.0.ffn_down.weight").type, runtime::QuantType::Q8_0);
  EXPECT_EQ(f.get("blk.1.ffn_down.weight").type, runtime::QuantType::Q8_0);
  EXPECT_EQ(f.get("blk.0.ffn_up.weight").type, runtime::QuantType::Q4_0);
}

TEST(Quantize, awq_export_is_a_plain_llama_model_close_to_the_original) {
  Fixture fx("q_awq");
  std::string out = (fx.dir / "awq.gguf").string();
  auto cfg = fx.cfg("awq", "q8_0");
  auto rep = run_quantize(fx.model, fx.calib, fx.calib, cfg, out);
  auto f = runtime::ModelFile::open(out);
  EXPECT_EQ(f.config(), runtime::ModelFile::open(fx.model).config());
  // Scales folded into the norms keep the function: at 8 bits top-1 agreement is near total.
  EXPECT_GT(rep["eval"]["top1_agreement"].get<double>(), 0.9);
}

TEST(Quantize, rejects_bad_options_writing_nothing) {
  Fixture fx("q_bad");
  std::string out = (fx.dir / "bad.gguf").string();
  EXPECT_THROW(run_quantize(fx.model, "", "", fx.cfg("gptq", "q4_0"), out), InputError);
  EXPECT_THROW(run_quantize(fx.model, fx.calib, "", fx.cfg("magic", "q4_0"), out), InputError);
  EXPECT_THROW(run_quantize(fx.model, fx.calib, "", fx.cfg("rtn", "q3_k"), out), InputError);
  EXPECT_THROW(run_quantize(fx.model, fx.calib, "", fx.cfg("rtn", "q4_0"), (fx.dir / "x.bin").string()), InputError);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace mecllm::compress
