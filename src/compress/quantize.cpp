#include "compress/quantize.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/errors.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "common/stats.h"
#include "compress/calib.h"
#include "compress/forward_ref.h"
#include "compress/quant_methods.h"
#include "runtime/transformer.h"

namespace mecllm::compress {

namespace fs = std::filesystem;
using runtime::QuantType;

void QuantizeConfig::validate(const config::ConfigErrors& err) const {
  auto t = runtime::quant_type_from_name(type);
  err.require(t && (*t == QuantType::Q8_0 || *t == QuantType::Q4_0 || *t == QuantType::Q4_K), "type",
              "q8_0, q4_0 or q4_k");
  err.require(method == "rtn" || method == "gptq" || method == "awq", "method", "rtn, gptq or awq");
  err.require(mixed == "none" || mixed == "sensitive", "mixed", "none or sensitive");
  err.require(runtime::quant_type_from_name(mixed_type).has_value(), "mixed_type", "f32, f16, q8_0, q4_0 or q4_k");
  err.require(gptq_damp > 0 && gptq_damp < 1, "gptq_damp", "in (0, 1)");
  err.require(gptq_block >= 1, "gptq_block", ">= 1");
  err.require(awq_grid >= 1, "awq_grid", ">= 1");
  err.require(awq_max_tokens >= 0, "awq_max_tokens", ">= 0 (0 = every calibration token)");
  err.require(awq_clip_grid >= 0, "awq_clip_grid", ">= 0 (0 = no clipping search)");
  err.require(awq_clip_min_ratio > 0 && awq_clip_min_ratio <= 1, "awq_clip_min_ratio", "in (0, 1]");
  err.require(calib_sequences >= 1, "calib_sequences", ">= 1");
  err.require(calib_seq_len >= 2, "calib_seq_len", ">= 2");
  err.require(eval_sequences >= 0, "eval_sequences", ">= 0");
  err.require(threads >= 1, "threads", ">= 1");
}

QuantType QuantizeConfig::quant_type() const { return *runtime::quant_type_from_name(type); }

namespace {

std::string blk(int l, const char* s) { return "blk." + std::to_string(l) + "." + s; }

}  // namespace

TypeRule quantize_type_rule(const QuantizeConfig& cfg, const runtime::ModelConfig& c) {
  std::set<std::string> mixed;
  if (cfg.mixed == "sensitive")
    for (auto name : cfg.mixed_tensors) {
      if (name.starts_with("blk.last.")) name = "blk." + std::to_string(c.n_layers - 1) + name.substr(8);
      mixed.insert(name);
    }
  const QuantType main = cfg.quant_type(), hi = *runtime::quant_type_from_name(cfg.mixed_type);
  return [mixed, main, hi](const runtime::TensorSpec& s) { return mixed.count(s.name) ? hi : main; };
}

namespace {

// The type a tensor is finally stored in (rule, then the llama.cpp fallback for rows a block does
// not divide).
QuantType stored_type(const TypeRule& rule, const runtime::ModelConfig& c, const std::string& name) {
  for (const auto& s : runtime::expected_tensors(c))
    if (s.name == name) return fit_type(rule(s), s.shape.back());
  MECLLM_CHECK(false, "no tensor {}", name);
  return QuantType::F32;
}

}  // namespace

// AWQ: per input group (q/k/v; gate/up; down) the scale search on the float activations, 1/s
// folded upstream (attn_norm, ffn_norm, rows of ffn_up), then the clipping search on every
// scaled matrix and on attn_output. Returns the per-group report.
nlohmann::json apply_awq(DenseModel& m, const std::vector<std::vector<int32_t>>& calib, const QuantizeConfig& cfg,
                         const TypeRule& rule) {
  const auto& c = m.config;
  // Every calibration token (or the first awq_max_tokens) through the float model, kept only as
  // each layer input's |x| sums and Hessian.
  struct LayerInputs {
    InputStats attn_in, ffn_in, ffn_act, attn_out;
  };
  std::vector<LayerInputs> in;
  for (int l = 0; l < c.n_layers; ++l)
    in.push_back({InputStats(c.dim), InputStats(c.dim), InputStats(c.hidden_dim), InputStats(c.q_dim())});
  for (const auto& w : calib) {
    const int64_t have = in[0].attn_in.n;
    if (cfg.awq_max_tokens > 0 && have >= cfg.awq_max_tokens) break;
    Trace tr = forward_trace(m, w);
    const int64_t take = cfg.awq_max_tokens > 0 ? std::min<int64_t>(tr.n_tokens, cfg.awq_max_tokens - have) : tr.n_tokens;
    for (int l = 0; l < c.n_layers; ++l) {
      in[l].attn_in.add(tr.layers[l].attn_in.data(), take);
      in[l].ffn_in.add(tr.layers[l].ffn_in.data(), take);
      in[l].ffn_act.add(tr.layers[l].ffn_act.data(), take);
      in[l].attn_out.add(tr.layers[l].attn_out.data(), take);
    }
  }
  Progress bar("awq", c.n_layers, "layers");
  nlohmann::json groups = nlohmann::json::array();
  auto clip = [&](const std::string& name, const std::vector<double>& H, int64_t cols) {
    auto& w = m.at(name);
    return awq_clip(w.data(), static_cast<int64_t>(w.size()) / cols, cols, H, stored_type(rule, c, name),
                    cfg.awq_clip_grid, cfg.awq_clip_min_ratio);
  };
  for (int l = 0; l < c.n_layers; ++l) {
    auto search = [&](std::vector<std::string> names, const InputStats& x, int64_t cols) {
      std::vector<const float*> ws;
      std::vector<int64_t> rows;
      for (const auto& n : names) {
        ws.push_back(m.at(n).data());
        rows.push_back(static_cast<int64_t>(m.at(n).size()) / cols);
      }
      const QuantType t = stored_type(rule, c, names.front());
      auto r = awq_search(ws, rows, cols, x, t, cfg.awq_grid);
      for (const auto& n : names) {
        auto& w = m.at(n);
        for (size_t i = 0; i < w.size(); ++i) w[i] *= r.scales[i % cols];
      }
      nlohmann::json g = {{"tensors", names}, {"alpha", r.alpha}, {"loss", r.loss}, {"loss_rtn", r.loss_rtn}};
      if (cfg.awq_clip_grid > 0) {
        const auto H = x.scaled_hessian(r.scales);
        nlohmann::json clips = nlohmann::json::array();
        for (const auto& n : names) {
          auto cr = clip(n, H, cols);
          clips.push_back({{"tensor", n}, {"err_unclipped", cr.err_rtn}, {"err_clipped", cr.err}, {"mean_ratio", cr.mean_ratio}});
        }
        g["clip"] = clips;
      }
      groups.push_back(g);
      return r.scales;
    };
    auto s1 = search({blk(l, "attn_q.weight"), blk(l, "attn_k.weight"), blk(l, "attn_v.weight")}, in[l].attn_in, c.dim);
    for (int i = 0; i < c.dim; ++i) m.at(blk(l, "attn_norm.weight"))[i] /= s1[i];
    auto s2 = search({blk(l, "ffn_gate.weight"), blk(l, "ffn_up.weight")}, in[l].ffn_in, c.dim);
    for (int i = 0; i < c.dim; ++i) m.at(blk(l, "ffn_norm.weight"))[i] /= s2[i];
    auto s3 = search({blk(l, "ffn_down.weight")}, in[l].ffn_act, c.hidden_dim);
    auto& up = m.at(blk(l, "ffn_up.weight"));  // (hidden, dim): row j produces channel j
    for (int j = 0; j < c.hidden_dim; ++j)
      for (int i = 0; i < c.dim; ++i) up[static_cast<int64_t>(j) * c.dim + i] /= s3[j];
    // attn_output has no foldable scale (its input comes from the softmax-weighted V rows that GQA
    // shares), so it gets the clipping search alone.
    if (cfg.awq_clip_grid > 0) {
      auto cr = clip(blk(l, "attn_output.weight"), in[l].attn_out.H, c.q_dim());
      groups.push_back({{"tensors", {blk(l, "attn_output.weight")}},
                        {"clip", {{{"tensor", blk(l, "attn_output.weight")}, {"err_unclipped", cr.err_rtn},
                                   {"err_clipped", cr.err}, {"mean_ratio", cr.mean_ratio}}}}});
    }
    bar.update(l + 1);
  }
  bar.finish();
  return groups;
}

QuantizeResult quantize_model(DenseModel m, const std::vector<std::vector<int32_t>>& calib, const QuantizeConfig& cfg) {
  cfg.validate(config::ConfigErrors{"quantize options", ""});
  const auto& c = m.config;
  if (cfg.method != "rtn" && calib.empty())
    throw InputError(fmt::format("quantize: method {} needs calibration data (--calib)", cfg.method));
  const TypeRule rule = quantize_type_rule(cfg, c);
  QuantizeResult res;
  res.report = {{"type", cfg.type}, {"method", cfg.method}, {"mixed", cfg.mixed}};

  if (cfg.method == "awq") res.report["awq_groups"] = apply_awq(m, calib, cfg, rule);

  // ---- GPTQ: one Hessian per distinct linear input
  std::map<std::string, std::vector<double>> hess;  // input name -> (cols, cols)
  auto input_of = [&](const std::string& name) -> std::pair<std::string, int64_t> {
    if (name == "output.weight") return {"final", c.dim};
    if (!name.starts_with("blk.")) return {"", 0};
    auto dot = name.find('.', 4);
    std::string l = name.substr(4, dot - 4), t = name.substr(dot + 1);
    if (t == "attn_q.weight" || t == "attn_k.weight" || t == "attn_v.weight") return {l + ".attn_in", c.dim};
    if (t == "attn_output.weight") return {l + ".attn_out", c.q_dim()};
    if (t == "ffn_gate.weight" || t == "ffn_up.weight") return {l + ".ffn_in", c.dim};
    if (t == "ffn_down.weight") return {l + ".ffn_act", c.hidden_dim};
    return {"", 0};
  };
  if (cfg.method == "gptq") {
    for (int l = 0; l < c.n_layers; ++l) {
      hess[std::to_string(l) + ".attn_in"].assign(static_cast<size_t>(c.dim) * c.dim, 0.0);
      hess[std::to_string(l) + ".attn_out"].assign(static_cast<size_t>(c.q_dim()) * c.q_dim(), 0.0);
      hess[std::to_string(l) + ".ffn_in"].assign(static_cast<size_t>(c.dim) * c.dim, 0.0);
      hess[std::to_string(l) + ".ffn_act"].assign(static_cast<size_t>(c.hidden_dim) * c.hidden_dim, 0.0);
    }
    if (!c.tied_embeddings) hess["final"].assign(static_cast<size_t>(c.dim) * c.dim, 0.0);
    Progress bar("gptq hessians", static_cast<int64_t>(calib.size()), "seqs");
    for (size_t si = 0; si < calib.size(); ++si) {
      Trace tr = forward_trace(m, calib[si]);
      for (int l = 0; l < c.n_layers; ++l) {
        const auto& lt = tr.layers[l];
        const std::string p = std::to_string(l);
        accumulate_hessian(hess[p + ".attn_in"], lt.attn_in.data(), tr.n_tokens, c.dim);
        accumulate_hessian(hess[p + ".attn_out"], lt.attn_out.data(), tr.n_tokens, c.q_dim());
        accumulate_hessian(hess[p + ".ffn_in"], lt.ffn_in.data(), tr.n_tokens, c.dim);
        accumulate_hessian(hess[p + ".ffn_act"], lt.ffn_act.data(), tr.n_tokens, c.hidden_dim);
      }
      if (!c.tied_embeddings) accumulate_hessian(hess["final"], tr.final_in.data(), tr.n_tokens, c.dim);
      bar.update(static_cast<int64_t>(si + 1));
    }
    bar.finish();
  }

  // ---- encode every tensor
  nlohmann::json per_tensor = nlohmann::json::array();
  double err_rtn = 0, err_gptq = 0;
  const auto specs = runtime::expected_tensors(c);
  Progress bar("quantize", static_cast<int64_t>(specs.size()), "tensors");
  for (size_t k = 0; k < specs.size(); ++k) {
    const auto& s = specs[k];
    QuantType want = rule(s);
    QuantType t = s.is_norm_or_bias ? QuantType::F32 : fit_type(want, s.shape.back());
    const auto& w = m.at(s.name);
    auto [input, cols] = input_of(s.name);
    std::string how = runtime::traits(t).is_quantized ? "rtn" : "convert";
    if (cfg.method == "gptq" && runtime::traits(t).is_quantized && hess.count(input)) {
      const int64_t rows = s.shape[0];
      runtime::OwnedTensor ot{s.name, t, s.shape, quantize_gptq(w.data(), rows, cols, hess[input], t, cfg.gptq_damp, cfg.gptq_block)};
      auto rtn = dequantize(quantize_rtn(w.data(), rows, cols, t), rows, cols, t);
      double e_r = hessian_error(w.data(), rtn.data(), rows, cols, hess[input]);
      double e_g = hessian_error(w.data(), dequantize(ot.bytes, rows, cols, t).data(), rows, cols, hess[input]);
      err_rtn += e_r;
      err_gptq += e_g;
      per_tensor.push_back({{"name", s.name}, {"type", runtime::quant_type_name(t)}, {"method", "gptq"},
                            {"err_rtn", e_r}, {"err_gptq", e_g}});
      res.tensors.push_back(std::move(ot));
    } else {
      res.tensors.push_back(runtime::make_tensor(s.name, s.shape, w, t));
      if (!s.is_norm_or_bias) per_tensor.push_back({{"name", s.name}, {"type", runtime::quant_type_name(t)}, {"method", how}});
    }
    bar.update(static_cast<int64_t>(k + 1));
  }
  bar.finish();
  res.report["tensors"] = per_tensor;
  if (cfg.method == "gptq") res.report["gptq_hessian_error"] = {{"rtn", err_rtn}, {"gptq", err_gptq}};
  res.report["config"] = c.summary();
  // AWQ changed norms and weights: the caller writes this config with these tensors.
  return res;
}

nlohmann::json compare_models(const std::string& ref_path, const std::string& test_path,
                              const std::vector<std::vector<int32_t>>& windows, int threads) {
  runtime::LoadOptions lo;
  lo.n_threads = threads;
  auto ref = runtime::Transformer::load(ref_path, lo);
  auto test = runtime::Transformer::load(test_path, lo);
  if (ref.config().vocab_size != test.config().vocab_size)
    throw InputError(fmt::format("{}: vocab_size {} differs from {}'s {}", test_path, test.config().vocab_size,
                                 ref_path, ref.config().vocab_size));
  const int64_t V = ref.config().vocab_size;
  double nll_ref = 0, nll_test = 0, kl = 0;
  // Per-token NLL differences (test - ref) on the same tokens: their spread says whether a
  // perplexity change is resolvable at this evaluation size (KL usually is, perplexity often not).
  std::vector<double> delta;
  int64_t n = 0, agree = 0;
  std::vector<double> lp_ref, lp_test;
  for (const auto& w : windows) {
    const int T = static_cast<int>(std::min<size_t>(w.size(), std::min(ref.context_length(), test.context_length())));
    auto ra = ref.forward(std::span(w.data(), T), 0, true);
    std::vector<float> a(ra.begin(), ra.end());
    auto b = test.forward(std::span(w.data(), T), 0, true);
    for (int t = 0; t + 1 < T; ++t) {
      const float* la = a.data() + t * V;
      const float* lb = b.data() + t * V;
      log_softmax_row(la, V, lp_ref);
      log_softmax_row(lb, V, lp_test);
      nll_ref -= lp_ref[w[t + 1]];
      nll_test -= lp_test[w[t + 1]];
      delta.push_back(lp_ref[w[t + 1]] - lp_test[w[t + 1]]);
      double k = 0;
      for (int64_t i = 0; i < V; ++i) k += std::exp(lp_ref[i]) * (lp_ref[i] - lp_test[i]);
      kl += k;
      agree += std::max_element(la, la + V) - la == std::max_element(lb, lb + V) - lb;
      ++n;
    }
  }
  if (n == 0) throw InputError("quantize: evaluation windows hold no predicted tokens");
  const double d_mean = stats::mean(delta), d_half = stats::ci95_halfwidth(delta);
  return {{"tokens", n},
          {"ppl_ref", std::exp(nll_ref / n)},
          {"ppl", std::exp(nll_test / n)},
          {"ppl_ratio", std::exp(d_mean)},
          {"ppl_ratio_ci95", {std::exp(d_mean - d_half), std::exp(d_mean + d_half)}},
          {"kl", kl / n},
          {"top1_agreement", static_cast<double>(agree) / n}};
}

nlohmann::json run_quantize(const std::string& model_path, const std::string& calib_path, const std::string& eval_path,
                            const QuantizeConfig& cfg, const std::string& out_path) {
  cfg.validate(config::ConfigErrors{"quantize options", ""});
  if (!out_path.ends_with(".gguf")) throw_input_error(out_path, "quantized output must be a .gguf file");
  if (cfg.method != "rtn" && calib_path.empty())
    throw InputError(fmt::format("quantize: --method {} needs --calib DATA", cfg.method));
  DenseModel m = load_dense_model(model_path);
  std::unique_ptr<runtime::Tokenizer> tok;
  auto windows_of = [&](const std::string& path, int n) {
    if (!tok) tok = model_tokenizer(m);
    return calibration_windows(path, *tok, n, std::min(cfg.calib_seq_len, m.config.seq_len));
  };
  std::vector<std::vector<int32_t>> calib;
  if (!calib_path.empty()) calib = windows_of(calib_path, cfg.calib_sequences);
  std::string eval_text = eval_path;
  if (eval_text.empty() && !calib_path.empty() && fs::is_directory(calib_path) &&
      fs::exists(fs::path(calib_path) / "text_heldout.txt"))
    eval_text = (fs::path(calib_path) / "text_heldout.txt").string();
  std::vector<std::vector<int32_t>> eval_windows;
  if (!eval_text.empty() && cfg.eval_sequences > 0) eval_windows = windows_of(eval_text, cfg.eval_sequences);

  auto cfg_model = m.config;
  auto extra = m.extra;
  auto res = quantize_model(std::move(m), calib, cfg);
  write_model(out_path, cfg_model, res.tensors, extra);
  auto file = runtime::ModelFile::open(out_path);
  res.report["output"] = out_path;
  res.report["bits_per_weight"] = file.bits_per_weight();
  res.report["tensor_bytes"] = file.tensor_bytes();
  res.report["file_bytes"] = fs::file_size(out_path);
  res.report["params"] = cfg_model.parameter_count();
  if (!eval_windows.empty()) {
    res.report["eval"] = compare_models(model_path, out_path, eval_windows, cfg.threads);
    res.report["eval"]["text"] = eval_text;
  }
  fs::path op(out_path);
  write_file_atomic(op.parent_path() / (op.stem().string() + ".quant.json"), res.report.dump(2) + "\n");
  return res.report;
}

}  // namespace mecllm::compress
