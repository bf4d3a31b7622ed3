#include "compress/ecld.h"

#include <chrono>
#include <filesystem>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "compress/calib.h"
#include "compress/dense_model.h"
#include "compress/distill.h"
#include "eval/device.h"
#include "llm/train_lm.h"
#include "runtime/transformer.h"

namespace mecllm::compress {

namespace fs = std::filesystem;

namespace {

// Decode tokens/s of the runtime engine on this machine (greedy-free: feeds fixed ids).
double host_decode_tok_s(const std::string& path, int n_tokens = 64) {
  runtime::LoadOptions lo;
  lo.n_threads = 1;
  auto tr = runtime::Transformer::load(path, lo);
  n_tokens = std::min(n_tokens, tr.context_length() - 1);
  int32_t tok = tr.config().bos_id;
  tr.forward(tok, 0);
  auto t0 = SteadyClock::now();
  for (int p = 1; p <= n_tokens; ++p) {
    auto logits = tr.forward(tok, p);
    tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  double s = mecllm::seconds_since(t0);
  return n_tokens / std::max(s, 1e-9);
}

double hallucination_rate(const nlohmann::json& qa) {
  double h = 0, n = 0;
  for (const char* split : {"heldout", "unanswerable"}) {
    h += qa[split]["hallucinated"].get<double>();
    n += qa[split]["n"].get<double>();
  }
  return n > 0 ? h / n : 0.0;
}

std::string md_row(const nlohmann::json& v) {
  return fmt::format("| {} | {:.1f} | {} | {:.2f} | {:.3f} | {:.3f} | {:.3f} | {:.1f} |\n", v["name"].get<std::string>(),
                     v["file_bytes"].get<double>() / 1024.0, v["params"].get<int64_t>(), v["bits_per_weight"].get<double>(),
                     v["perplexity"].get<double>(), v["heldout_accuracy"].get<double>(), v["hallucination_rate"].get<double>(),
                     v["decode_tok_s"].get<double>());
}

}  // namespace

nlohmann::json evaluate_variant(const std::string& name, const std::string& model_path, const std::string& data_dir,
                                int qa_max_questions) {
  auto file = runtime::ModelFile::open(model_path);
  llm::FactworldEvalOptions eo;
  eo.max_questions = qa_max_questions;
  eo.max_perplexity_lines = 200;
  auto ev = llm::evaluate_factworld(model_path, "", data_dir, eo);
  for (const char* split : {"train", "heldout", "unanswerable"}) ev["qa"][split].erase("samples");
  nlohmann::json v = {{"name", name},
                      {"path", model_path},
                      {"config", file.config().summary()},
                      {"params", file.config().parameter_count()},
                      {"file_bytes", fs::file_size(model_path)},
                      {"tensor_bytes", file.tensor_bytes()},
                      {"bits_per_weight", file.bits_per_weight()},
                      {"perplexity", ev["perplexity"]["heldout_templates"]},
                      {"heldout_accuracy", ev["qa"]["heldout"]["accuracy"]},
                      {"train_accuracy", ev["qa"]["train"]["accuracy"]},
                      {"unanswerable_abstention", ev["qa"]["unanswerable"]["accuracy"]},
                      {"hallucination_rate", hallucination_rate(ev["qa"])},
                      {"decode_tok_s", host_decode_tok_s(model_path)},
                      {"qa", ev["qa"]}};
  log_info("ecld: {}: {:.0f} KiB, ppl {:.3f}, held-out acc {:.3f}, hallucination {:.3f}, {:.0f} tok/s", name,
           v["file_bytes"].get<double>() / 1024, v["perplexity"].get<double>(), v["heldout_accuracy"].get<double>(),
           v["hallucination_rate"].get<double>(), v["decode_tok_s"].get<double>());
  return v;
}

nlohmann::json run_ecld(const std::string& base_path, const std::string& data_dir, const EcldTarget& target,
                        const EcldConfig& cfg_in, const fs::path& out_dir) {
  EcldConfig cfg = cfg_in;
  cfg.validate(config::ConfigErrors{"ecld options", ""});
  if (target.device.empty() && target.budget_bytes <= 0)
    throw InputError("ecld: give a target: --target CLASS or --budget-bytes B");
  if (!fs::exists(fs::path(data_dir) / "manifest.json"))
    throw_input_error(data_dir, "not a factworld directory (no manifest.json)");
  cfg.prune.device = target.device;
  cfg.prune.budget_bytes = target.budget_bytes;
  cfg.prune.budget_type = cfg.quantize.type;
  DenseModel base = load_dense_model(base_path);
  auto tok = model_tokenizer(base);
  auto calib = calibration_windows(data_dir, *tok, cfg.prune.calib_sequences, std::min(cfg.prune.calib_seq_len, base.config.seq_len));
  // Budgets are checked before anything is written: an impossible target fails here.
  auto pruned = prune_model(base, calib, cfg.prune, quantize_type_rule(cfg.quantize, base.config));

  RunDir run(out_dir);
  run.write_config(config::to_yaml(cfg));
  const fs::path stages = out_dir / "stages", bl = out_dir / "baselines";
  fs::create_directories(stages);
  // ---- stage I
  const std::string pruned_path = (stages / "pruned.gguf").string();
  save_dense_model(pruned.model, pruned_path);
  write_file_atomic(stages / "pruned.prune.json", pruned.report.dump(2) + "\n");
  // ---- stage II
  auto dsum = run_distill(base_path, pruned_path, data_dir, cfg.distill, stages / "distill", false);
  const std::string distilled = (stages / "distill" / "model.gguf").string();
  // ---- stage III
  const std::string ecld_path = (stages / "ecld.gguf").string();
  auto qrep = run_quantize(distilled, data_dir, "", cfg.quantize, ecld_path);

  // ---- stage IV: evaluate every variant
  nlohmann::json variants = nlohmann::json::array();
  const int qa_n = cfg.qa_max_questions;
  variants.push_back(evaluate_variant("base", base_path, data_dir, qa_n));
  variants.push_back(evaluate_variant("pruned", pruned_path, data_dir, qa_n));
  variants.push_back(evaluate_variant("pruned+distilled", distilled, data_dir, qa_n));
  variants.push_back(evaluate_variant("ecld", ecld_path, data_dir, qa_n));
  if (cfg.baselines) {
    fs::create_directories(bl);
    const std::string q_only = (bl / "quant_only.gguf").string(), p_only = (bl / "prune_only_f16.gguf").string(),
                      pq = (bl / "prune_quant.gguf").string();
    run_quantize(base_path, data_dir, "", cfg.quantize, q_only);
    save_dense_model(pruned.model, p_only, runtime::QuantType::F16);
    run_quantize(pruned_path, data_dir, "", cfg.quantize, pq);
    variants.push_back(evaluate_variant("quant-only", q_only, data_dir, qa_n));
    variants.push_back(evaluate_variant("prune-only (f16)", p_only, data_dir, qa_n));
    variants.push_back(evaluate_variant("prune+quant (no KD)", pq, data_dir, qa_n));
  }

  // ---- headline figures against the base model's fp16-equivalent size
  const double fp16_bytes = static_cast<double>(model_bytes(base.config, runtime::QuantType::F16));
  const auto& b = variants[0];
  const auto& e = variants[3];
  nlohmann::json head = {
      {"base_fp16_equivalent_bytes", fp16_bytes},
      {"ecld_tensor_bytes", e["tensor_bytes"]},
      {"size_reduction_vs_fp16", 1.0 - e["tensor_bytes"].get<double>() / fp16_bytes},
      {"accuracy_kept", b["heldout_accuracy"].get<double>() > 0
                            ? e["heldout_accuracy"].get<double>() / b["heldout_accuracy"].get<double>()
                            : 0.0},
      {"hallucination_base", b["hallucination_rate"]},
      {"hallucination_ecld", e["hallucination_rate"]},
      {"distill_heldout_kl_before", dsum["heldout_kl_before"]},
      {"distill_heldout_kl_after", dsum.value("heldout_kl_after", 0.0)},
      {"quantize_vs_distilled", qrep.value("eval", nlohmann::json::object())},
  };
  nlohmann::json report = {{"base", base_path}, {"data", data_dir}, {"target", {{"device", target.device}, {"budget_bytes", target.budget_bytes}}},
                           {"prune_ratios", pruned.report["ratios"]}, {"variants", variants}, {"headline", head}};
  run.write_json("report.json", report);
  std::string md = "| variant | size (KiB) | params | bpw | ppl | held-out acc | hallucination | decode tok/s |\n"
                   "|---|---|---|---|---|---|---|---|\n";
  for (const auto& v : variants) md += md_row(v);
  write_file_atomic(out_dir / "report.md", md);

  // ---- model card of the ECLD variant: measured on this host, estimated per device class
  nlohmann::json devices = nlohmann::json::array();
  const double bytes_per_token = e["tensor_bytes"].get<double>();
  for (const auto& name : eval::list_device_classes()) {
    auto d = eval::load_device_class(name);
    if (d.measure_on_host) continue;
    const double tok_s = d.memory_bandwidth_gbs * 1e9 * cfg.prune.device_bw_efficiency / bytes_per_token;
    const bool fits = bytes_per_token * 2 <= d.usable_memory_gb * 1e9;
    devices.push_back({{"device", name}, {"decode_tok_s", tok_s}, {"decode_tok_s_kind", "estimated (roofline)"},
                       {"fits", fits}, {"deployable", fits && tok_s >= cfg.prune.device_min_tok_s}});
  }
  nlohmann::json card = {{"model", ecld_path}, {"arch", e["config"]}, {"params", e["params"]},
                         {"bits_per_weight", e["bits_per_weight"]}, {"file_bytes", e["file_bytes"]},
                         {"perplexity", {{"value", e["perplexity"]}, {"kind", "measured"}}},
                         {"heldout_accuracy", {{"value", e["heldout_accuracy"]}, {"kind", "measured"}}},
                         {"hallucination_rate", {{"value", e["hallucination_rate"]}, {"kind", "measured"}}},
                         {"host_decode_tok_s", {{"value", e["decode_tok_s"]}, {"kind", "measured"}}},
                         {"devices", devices}};
  run.write_json("model_card.json", card);
  std::string cmd = fmt::format("# Model card: {}\n\n{}\n\n| figure | value | kind |\n|---|---|---|\n", ecld_path,
                                e["config"].get<std::string>());
  cmd += fmt::format("| parameters | {} | measured |\n| bits per weight | {:.2f} | measured |\n| file size | {} B | measured |\n",
                     e["params"].get<int64_t>(), e["bits_per_weight"].get<double>(), e["file_bytes"].get<uint64_t>());
  cmd += fmt::format("| perplexity (held-out templates) | {:.3f} | measured |\n| held-out accuracy | {:.3f} | measured |\n"
                     "| hallucination rate | {:.3f} | measured |\n| decode on this host | {:.1f} tok/s | measured |\n",
                     e["perplexity"].get<double>(), e["heldout_accuracy"].get<double>(), e["hallucination_rate"].get<double>(),
                     e["decode_tok_s"].get<double>());
  cmd += "\n| device class | decode tok/s | fits | deployable |\n|---|---|---|---|\n";
  for (const auto& d : devices)
    cmd += fmt::format("| {} | {:.0f} (estimated) | {} | {} |\n", d["device"].get<std::string>(), d["decode_tok_s"].get<double>(),
                       d["fits"].get<bool>(), d["deployable"].get<bool>());
  write_file_atomic(out_dir / "model_card.md", cmd);
  nlohmann::json summary = {{"headline", head}, {"report", (out_dir / "report.md").string()}, {"table", md}};
  run.write_json("summary.json", summary);
  return summary;
}

}  // namespace mecllm::compress
