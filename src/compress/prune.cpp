#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "common/errors.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "compress/calib.h"
#include "compress/forward_ref.h"
#include "eval/device.h"

namespace mecllm::compress {

using runtime::ModelConfig;

void PruneConfig::validate(const config::ConfigErrors& err) const {
  auto ratio_ok = [](double r) { return r >= 0.0 && r < 1.0; };
  err.require(ratio_ok(heads), "heads", "a ratio in [0, 1)");
  err.require(ratio_ok(ffn), "ffn", "a ratio in [0, 1)");
  err.require(ratio_ok(hidden), "hidden", "a ratio in [0, 1)");
  err.require(head_unit == "head" || head_unit == "kv_group", "head_unit", "head or kv_group");
  err.require(head_score == "norm" || head_score == "taylor", "head_score", "norm or taylor");
  err.require(layers >= 0, "layers", ">= 0");
  err.require(budget_bytes >= 0, "budget_bytes", ">= 0");
  err.require(runtime::quant_type_from_name(budget_type).has_value(), "budget_type", "f32, f16, q8_0, q4_0 or q4_k");
  for (const auto& a : budget_axes) err.require(a == "ffn" || a == "heads" || a == "hidden", "budget_axes", "ffn, heads or hidden");
  err.require(device_min_tok_s > 0, "device_min_tok_s", "> 0");
  err.require(device_bw_efficiency > 0 && device_bw_efficiency <= 1, "device_bw_efficiency", "in (0, 1]");
  err.require(round_to >= 1, "round_to", ">= 1");
  err.require(calib_sequences >= 1, "calib_sequences", ">= 1");
  err.require(calib_seq_len >= 2, "calib_seq_len", ">= 2");
}

nlohmann::json Importance::to_json() const {
  return {{"n_tokens", n_tokens}, {"heads", heads}, {"ffn", ffn}, {"hidden", hidden}, {"layers_block_influence", layers}};
}

// ---------------------------------------------------------------- importance
Importance compute_importance(const DenseModel& m, const std::vector<std::vector<int32_t>>& calib,
                              const std::string& head_score) {
  const auto& c = m.config;
  const int L = c.n_layers, H = c.n_heads, hs = c.head_size(), dim = c.dim, hid = c.hidden_dim, qd = c.q_dim();
  Importance imp;
  imp.heads.assign(L, std::vector<double>(H, 0.0));
  imp.ffn.assign(L, std::vector<double>(hid, 0.0));
  imp.hidden.assign(dim, 0.0);
  imp.layers.assign(L, 0.0);
  Progress bar("importance", static_cast<int64_t>(calib.size()), "seqs");
  std::vector<float> contrib(dim);
  for (size_t si = 0; si < calib.size(); ++si) {
    Trace tr = forward_trace(m, calib[si]);
    const int T = tr.n_tokens;
    for (int l = 0; l < L; ++l) {
      const auto& lt = tr.layers[l];
      const auto& wo = m.at("blk." + std::to_string(l) + ".attn_output.weight");  // (dim, q_dim)
      for (int t = 0; t < T; ++t)
        for (int h = 0; h < H; ++h) {
          // The head's contribution to the residual: W_o[:, h block] . o_h.
          const float* o = lt.attn_out.data() + static_cast<int64_t>(t) * qd + h * hs;
          double ss = 0;
          for (int r = 0; r < dim; ++r) {
            const float* w = wo.data() + static_cast<int64_t>(r) * qd + h * hs;
            float d = 0;
            for (int i = 0; i < hs; ++i) d += w[i] * o[i];
            ss += static_cast<double>(d) * d;
          }
          imp.heads[l][h] += std::sqrt(ss);
        }
      for (int64_t i = 0; i < static_cast<int64_t>(T) * hid; ++i) imp.ffn[l][i % hid] += std::fabs(lt.ffn_act[i]);
      for (int64_t i = 0; i < static_cast<int64_t>(T) * dim; ++i)
        imp.hidden[i % dim] += std::fabs(lt.attn_in[i]) + std::fabs(lt.ffn_in[i]);
      for (int t = 0; t < T; ++t) {
        const float* a = lt.x_in.data() + static_cast<int64_t>(t) * dim;
        const float* b = lt.x_out.data() + static_cast<int64_t>(t) * dim;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < dim; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
        imp.layers[l] += 1.0 - ab / std::max(1e-30, std::sqrt(aa * bb));
      }
    }
    for (int64_t i = 0; i < static_cast<int64_t>(T) * dim; ++i) imp.hidden[i % dim] += std::fabs(tr.final_in[i]);
    imp.n_tokens += T;
    bar.update(static_cast<int64_t>(si + 1));
  }
  bar.finish();
  const double n = static_cast<double>(std::max<int64_t>(1, imp.n_tokens));
  for (int l = 0; l < L; ++l) {
    for (auto& s : imp.heads[l]) s /= n;
    const auto& down = m.at("blk." + std::to_string(l) + ".ffn_down.weight");  // (dim, hidden)
    for (int j = 0; j < hid; ++j) {
      double col = 0;
      for (int r = 0; r < dim; ++r) col += static_cast<double>(down[static_cast<int64_t>(r) * hid + j]) * down[static_cast<int64_t>(r) * hid + j];
      imp.ffn[l][j] = imp.ffn[l][j] / n * std::sqrt(col);
    }
    imp.layers[l] /= n;
  }
  for (auto& s : imp.hidden) s /= n;
  if (head_score == "taylor") {
#ifdef MECLLM_WITH_TORCH
    imp.heads = taylor_head_importance(m, calib);
#else
    throw InputError("prune: head_score taylor needs gradients, i.e. a LibTorch build (MECLLM_WITH_TORCH=ON)");
#endif
  }
  return imp;
}

// ---------------------------------------------------------------- planning
namespace {

// Indices of the `keep` largest scores, returned sorted by index (ties: lower index first).
std::vector<int> top_k(const std::vector<double>& score, const std::vector<int>& candidates, int keep) {
  std::vector<int> idx = candidates;
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return score[a] > score[b]; });
  idx.resize(keep);
  std::sort(idx.begin(), idx.end());
  return idx;
}

std::vector<int> iota(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Width kept after removing `ratio`, rounded down to a multiple of round_to (at least round_to,
// or the whole width when it is smaller).
int kept_width(int n, double ratio, int round_to) {
  int keep = static_cast<int>(std::lround(n * (1.0 - ratio)));
  if (ratio == 0.0 || n <= round_to) return ratio == 0.0 ? n : std::max(1, keep);
  keep = keep / round_to * round_to;
  return std::max(round_to, keep);
}

}  // namespace

PrunePlan plan_pruning(const ModelConfig& c, const Importance& imp, const PruneConfig& cfg) {
  cfg.validate(config::ConfigErrors{"prune options", ""});
  const int L = c.n_layers, group = c.n_heads / c.n_kv_heads;
  PrunePlan plan;
  if (cfg.layers >= L)
    throw InputError(fmt::format("prune: --layers = {} removes every layer, the model has {}", cfg.layers, L));
  plan.keep_layers = top_k(imp.layers, iota(L), L - cfg.layers);
  int keep_per_group = group, keep_groups = c.n_kv_heads;
  if (cfg.head_unit == "head") {
    keep_per_group = static_cast<int>(std::lround(group * (1.0 - cfg.heads)));
    if (keep_per_group < 1)
      throw InputError(fmt::format("prune: --heads = {} leaves {} of {} query heads per KV group; at least one "
                                   "head per KV group must stay (use head_unit: kv_group to remove whole groups)",
                                   cfg.heads, keep_per_group, group));
  } else {
    keep_groups = static_cast<int>(std::lround(c.n_kv_heads * (1.0 - cfg.heads)));
    if (keep_groups < 1)
      throw InputError(fmt::format("prune: --heads = {} with head_unit kv_group leaves {} of {} KV groups; at least one must stay",
                                   cfg.heads, keep_groups, c.n_kv_heads));
  }
  const int keep_ffn = kept_width(c.hidden_dim, cfg.ffn, cfg.round_to);
  for (int l = 0; l < L; ++l) {
    const auto& hs = imp.heads[l];
    std::vector<double> group_score(c.n_kv_heads, 0.0);
    for (int h = 0; h < c.n_heads; ++h) group_score[h / group] += hs[h];
    auto kv = top_k(group_score, iota(c.n_kv_heads), keep_groups);
    std::vector<int> heads;
    for (int g : kv) {
      std::vector<int> members(group);
      std::iota(members.begin(), members.end(), g * group);
      auto kept = top_k(hs, members, keep_per_group);
      heads.insert(heads.end(), kept.begin(), kept.end());
    }
    plan.keep_kv.push_back(kv);
    plan.keep_heads.push_back(heads);
    plan.keep_ffn.push_back(top_k(imp.ffn[l], iota(c.hidden_dim), keep_ffn));
  }
  plan.keep_hidden = top_k(imp.hidden, iota(c.dim), kept_width(c.dim, cfg.hidden, cfg.round_to));
  return plan;
}

ModelConfig pruned_config(const ModelConfig& c, const PrunePlan& plan) {
  ModelConfig p = c;
  p.n_layers = static_cast<int>(plan.keep_layers.size());
  p.n_heads = static_cast<int>(plan.keep_heads[0].size());
  p.n_kv_heads = static_cast<int>(plan.keep_kv[0].size());
  p.hidden_dim = static_cast<int>(plan.keep_ffn[0].size());
  p.dim = static_cast<int>(plan.keep_hidden.size());
  // Heads keep their width; say so explicitly when dim / n_heads no longer gives it.
  if (p.dim % p.n_heads != 0 || p.dim / p.n_heads != c.head_size()) p.head_dim = c.head_size();
  return p;
}

DenseModel apply_plan(const DenseModel& m, const PrunePlan& plan) {
  const auto& c = m.config;
  DenseModel out;
  out.config = pruned_config(c, plan);
  out.extra = m.extra;
  out.source = m.source;
  const auto& keep_h = plan.keep_hidden;
  const int hs = c.head_size();
  // Gathers rows and columns of a row-major (rows, cols) matrix.
  auto gather = [](const std::vector<float>& w, int64_t cols, const std::vector<int>& rows_keep,
                   const std::vector<int>& cols_keep) {
    std::vector<float> r;
    r.reserve(rows_keep.size() * cols_keep.size());
    for (int i : rows_keep)
      for (int j : cols_keep) r.push_back(w[static_cast<int64_t>(i) * cols + j]);
    return r;
  };
  auto expand_heads = [&](const std::vector<int>& heads) {
    std::vector<int> rows;
    for (int h : heads)
      for (int i = 0; i < hs; ++i) rows.push_back(h * hs + i);
    return rows;
  };
  auto all = [](int n) { return iota(n); };
  auto pick = [](const std::vector<float>& v, const std::vector<int>& idx) {
    std::vector<float> r;
    for (int i : idx) r.push_back(v[i]);
    return r;
  };
  out.tensors["token_embd.weight"] = gather(m.at("token_embd.weight"), c.dim, all(c.vocab_size), keep_h);
  out.tensors["output_norm.weight"] = pick(m.at("output_norm.weight"), keep_h);
  if (!c.tied_embeddings) out.tensors["output.weight"] = gather(m.at("output.weight"), c.dim, all(c.vocab_size), keep_h);
  for (size_t nl = 0; nl < plan.keep_layers.size(); ++nl) {
    const int l = plan.keep_layers[nl];
    auto src = [&](const char* s) -> const std::vector<float>& { return m.at("blk." + std::to_string(l) + "." + s); };
    auto dst = [&](const char* s) -> std::vector<float>& { return out.tensors["blk." + std::to_string(nl) + "." + s]; };
    const auto q_rows = expand_heads(plan.keep_heads[l]);
    const auto kv_rows = expand_heads(plan.keep_kv[l]);
    const auto& f = plan.keep_ffn[l];
    dst("attn_norm.weight") = pick(src("attn_norm.weight"), keep_h);
    dst("ffn_norm.weight") = pick(src("ffn_norm.weight"), keep_h);
    dst("attn_q.weight") = gather(src("attn_q.weight"), c.dim, q_rows, keep_h);
    dst("attn_k.weight") = gather(src("attn_k.weight"), c.dim, kv_rows, keep_h);
    dst("attn_v.weight") = gather(src("attn_v.weight"), c.dim, kv_rows, keep_h);
    dst("attn_output.weight") = gather(src("attn_output.weight"), c.q_dim(), keep_h, q_rows);
    if (c.attn_bias) {
      dst("attn_q.bias") = pick(src("attn_q.bias"), q_rows);
      dst("attn_k.bias") = pick(src("attn_k.bias"), kv_rows);
      dst("attn_v.bias") = pick(src("attn_v.bias"), kv_rows);
    }
    if (c.qk_norm) {
      dst("attn_q_norm.weight") = src("attn_q_norm.weight");
      dst("attn_k_norm.weight") = src("attn_k_norm.weight");
    }
    dst("ffn_gate.weight") = gather(src("ffn_gate.weight"), c.dim, f, keep_h);
    dst("ffn_up.weight") = gather(src("ffn_up.weight"), c.dim, f, keep_h);
    dst("ffn_down.weight") = gather(src("ffn_down.weight"), c.hidden_dim, keep_h, f);
  }
  out.check_consistent();
  return out;
}

// ---------------------------------------------------------------- targets
PruneConfig resolve_targets(const ModelConfig& c, const Importance& imp, const PruneConfig& cfg, const TypeRule& rule_in) {
  if (cfg.budget_bytes <= 0 && cfg.device.empty()) return cfg;
  const auto type = *runtime::quant_type_from_name(cfg.budget_type);
  const TypeRule rule = rule_in ? rule_in : TypeRule([type](const runtime::TensorSpec&) { return type; });
  double budget = cfg.budget_bytes > 0 ? static_cast<double>(cfg.budget_bytes) : 1e300;
  std::string why = cfg.budget_bytes > 0 ? fmt::format("budget {} bytes", cfg.budget_bytes) : "";
  if (!cfg.device.empty()) {
    auto dev = eval::load_device_class(cfg.device);
    // Weights must fit half the usable memory (the rest: KV cache, runtime, OS) and be read
    // once per token at >= device_min_tok_s with the achieved share of peak bandwidth.
    double mem = dev.usable_memory_gb * 1e9 * 0.5;
    double speed = dev.memory_bandwidth_gbs * 1e9 * cfg.device_bw_efficiency / cfg.device_min_tok_s;
    if (dev.measure_on_host) throw InputError("prune: --device host needs measurements; pick a device class or --budget-bytes");
    budget = std::min(budget, std::min(mem, speed));
    why += fmt::format("{}device {} (memory {:.3g} B, speed {:.3g} B/token)", why.empty() ? "" : ", ", cfg.device, mem, speed);
  }
  PruneConfig r = cfg;
  r.budget_bytes = 0;
  r.device.clear();
  auto size_of = [&](const PruneConfig& p) { return static_cast<double>(model_bytes(pruned_config(c, plan_pruning(c, imp, p)), rule)); };
  // One ratio on every budget axis, in steps of 1%, then whole layers on top if needed.
  for (int layers = cfg.layers; layers < c.n_layers; ++layers) {
    r.layers = layers;
    for (int pct = 0; pct <= 95; ++pct) {
      double ratio = pct / 100.0;
      for (const auto& a : cfg.budget_axes) (a == "ffn" ? r.ffn : a == "heads" ? r.heads : r.hidden) = ratio;
      // Stop raising the head ratio once one head per group is left.
      bool heads_ok = true;
      try {
        plan_pruning(c, imp, r);
      } catch (const InputError&) {
        heads_ok = false;
      }
      if (!heads_ok) break;
      if (size_of(r) <= budget) {
        log_info("prune: {} met with ratio {:.2f} on {} and {} layer(s) removed ({:.0f} bytes as {})", why, ratio,
                 fmt::join(cfg.budget_axes, ","), layers, size_of(r), cfg.budget_type);
        return r;
      }
    }
  }
  throw InputError(fmt::format("prune: no pruning of axes {} and layers meets the {} ({} at most)",
                               fmt::join(cfg.budget_axes, ","), why, budget));
}

PruneResult prune_model(const DenseModel& m, const std::vector<std::vector<int32_t>>& calib, const PruneConfig& cfg,
                        const TypeRule& rule) {
  cfg.validate(config::ConfigErrors{"prune options", ""});
  Importance imp = compute_importance(m, calib, cfg.head_score);
  PruneConfig resolved = resolve_targets(m.config, imp, cfg, rule);
  PrunePlan plan = plan_pruning(m.config, imp, resolved);
  PruneResult res{apply_plan(m, plan), {}};
  const auto q4 = runtime::QuantType::Q4_K;
  res.report = {
      {"source", m.source},
      {"ratios", {{"heads", resolved.heads}, {"head_unit", resolved.head_unit}, {"head_score", resolved.head_score}, {"ffn", resolved.ffn},
                  {"hidden", resolved.hidden}, {"layers_removed", resolved.layers}}},
      {"importance", imp.to_json()},
      {"plan", {{"keep_layers", plan.keep_layers}, {"keep_heads", plan.keep_heads}, {"keep_kv", plan.keep_kv},
                {"keep_ffn", plan.keep_ffn}, {"keep_hidden", plan.keep_hidden}}},
      {"before", {{"config", m.config.summary()}, {"params", m.config.parameter_count()},
                  {"bytes_f32", model_bytes(m.config, runtime::QuantType::F32)}, {"bytes_q4_k", model_bytes(m.config, q4)}}},
      {"after", {{"config", res.model.config.summary()}, {"params", res.model.config.parameter_count()},
                 {"bytes_f32", model_bytes(res.model.config, runtime::QuantType::F32)},
                 {"bytes_q4_k", model_bytes(res.model.config, q4)}}},
  };
  return res;
}

nlohmann::json run_prune(const std::string& model_path, const std::string& calib_path, const PruneConfig& cfg,
                         const std::string& out_path, const std::string& tokenizer_path) {
  cfg.validate(config::ConfigErrors{"prune options", ""});
  DenseModel m = load_dense_model(model_path);
  auto tok = model_tokenizer(m, tokenizer_path);
  auto calib = calibration_windows(calib_path, *tok, cfg.calib_sequences, std::min(cfg.calib_seq_len, m.config.seq_len));
  auto res = prune_model(m, calib, cfg);
  save_dense_model(res.model, out_path);
  res.report["output"] = out_path;
  std::filesystem::path rp(out_path);
  write_file_atomic(rp.parent_path() / (rp.stem().string() + ".prune.json"), res.report.dump(2) + "\n");
  return res.report;
}

}  // namespace mecllm::compress
