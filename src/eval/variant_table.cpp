#include "eval/variant_table.h"

#include <fmt/format.h>

#include <cmath>

#include "common/errors.h"
#include "common/plot.h"
#include "common/rundir.h"
#include "eval/card_json.h"
#include "eval/deploy_scale.h"

namespace mecllm::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

VariantRow row_of_card(const std::string& variant, const json& card, const std::string& path, double base_params,
                       const VariantTableOptions& opt) {
  VariantRow r;
  r.variant = variant;
  r.card_path = path;
  r.n_params = card_number(card, path, "model.n_params");
  r.file_bytes = card_number(card, path, "model.file_bytes");
  r.weight_bytes = card_number(card, path, "model.weight_bytes");
  r.bits_per_weight = card_number(card, path, "model.bits_per_weight");
  r.kept_share = r.n_params / base_params;
  r.generalization_accuracy = card_number(card, path, "metrics.generalization_accuracy.value");
  r.hallucination_rate = card_number(card, path, "metrics.hallucination_rate.value");
  r.host_decode_tok_s = card_number(card, path, "host_speed.decode_tok_s.value");
  r.host_prefill_tok_s = card_number(card, path, "host_speed.prefill_tok_s.value");
  r.accessibility = card_number(card, path, "accessibility.score");
  const DeployedVariant d = deploy_card(card, path, opt.deploy_params * r.kept_share, opt.deploy_bandwidth_efficiency,
                                        opt.deploy_compute_efficiency);
  r.deployed_params = double(d.deployed.n_params);
  r.deployed_accessibility = d.report.score;
  bool found = false;
  for (const auto& v : d.report.devices) {
    if (v.device != opt.energy_device) continue;
    found = true;
    r.deployed_energy_j = v.energy.total_j();
    r.deployed_decode_tok_s = v.speed.decode_tok_s;
    r.deployed_fits = v.fits;
  }
  if (!found)
    throw_input_error(path, "model card has no device class '{}' (the table's energy device); evaluate with "
                            "--devices all or pick another --energy-device",
                      opt.energy_device);
  return r;
}

std::string fit_mark(const VariantRow& r) { return r.deployed_fits ? "" : " (does not fit)"; }

}  // namespace

std::vector<VariantRow> build_variant_rows(const std::vector<std::pair<std::string, std::string>>& cards,
                                           const VariantTableOptions& opt) {
  if (!(opt.deploy_params >= 1.0)) throw InputError(fmt::format("deploy_params = {}, expected >= 1", opt.deploy_params));
  std::vector<std::pair<json, std::string>> loaded;
  double base_params = 0;
  for (const auto& [name, dir] : cards) {
    fs::path p = fs::path(dir) / "model_card.json";
    if (!fs::exists(p)) throw InputError(p.string() + ": no model card (variant '" + name + "')");
    loaded.emplace_back(read_json_file(p), p.string());
    if (name == "base") base_params = card_number(loaded.back().first, p.string(), "model.n_params");
  }
  if (base_params <= 0)
    throw InputError("variant table: no variant named 'base' (kept shares of parameters are relative to it)");
  std::vector<VariantRow> rows;
  for (size_t i = 0; i < cards.size(); ++i)
    rows.push_back(row_of_card(cards[i].first, loaded[i].first, loaded[i].second, base_params, opt));
  return rows;
}

std::string variant_table_markdown(const std::vector<VariantRow>& rows, const VariantTableOptions& opt) {
  std::string md = fmt::format(
      "| variant | params | size (KB) | bits/weight | generalization accuracy | hallucination rate | accessibility "
      "(own size) | accessibility (at {:.3g}) | energy J/query, {} (at {:.3g}) | decode tok/s, {} (at {:.3g}) | host "
      "decode tok/s |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
      opt.deploy_params, opt.energy_device, opt.deploy_params, opt.energy_device, opt.deploy_params);
  for (const auto& r : rows)
    md += fmt::format("| {} | {:.0f} | {:.1f} | {:.2f} | {:.3f} | {:.3f} | {:.2f} | {:.2f} | {:.2f}{} | {:.1f}{} | {:.0f} |\n",
                      r.variant, r.n_params, r.file_bytes / 1e3, r.bits_per_weight, r.generalization_accuracy,
                      r.hallucination_rate, r.accessibility, r.deployed_accessibility, r.deployed_energy_j, fit_mark(r),
                      r.deployed_decode_tok_s, fit_mark(r), r.host_decode_tok_s);
  md += fmt::format(
      "\nMeasured on the variant itself: parameters, size, bits per weight, generalization accuracy (factworld held-out "
      "answerable, exact match), hallucination rate (factworld held-out + unanswerable), host decode speed. Estimated: "
      "accessibility (share of device classes where weights + KV + overhead fit and roofline decode >= the usable "
      "speed) at the variant's own size and at deployment scale ({:.3g} x the share of the base's parameters the "
      "variant keeps, at its measured bits per weight; docs/eval.md \"Deployment scale\"), and energy per reference "
      "query (active power x roofline time) on {}.\n",
      opt.deploy_params, opt.energy_device);
  return md;
}

std::string variant_table_csv(const std::vector<VariantRow>& rows) {
  std::string csv =
      "variant,n_params,file_bytes,weight_bytes,bits_per_weight,kept_share,generalization_accuracy,hallucination_rate,"
      "accessibility,deployed_params,deployed_accessibility,deployed_energy_j,deployed_decode_tok_s,deployed_fits,"
      "host_decode_tok_s,host_prefill_tok_s\n";
  for (const auto& r : rows)
    csv += fmt::format("{},{:.0f},{:.0f},{:.0f},{:.4f},{:.6f},{:.6f},{:.6f},{:.4f},{:.6g},{:.4f},{:.6g},{:.6g},{},{:.6g},{:.6g}\n",
                       r.variant, r.n_params, r.file_bytes, r.weight_bytes, r.bits_per_weight, r.kept_share,
                       r.generalization_accuracy, r.hallucination_rate, r.accessibility, r.deployed_params,
                       r.deployed_accessibility, r.deployed_energy_j, r.deployed_decode_tok_s,
                       r.deployed_fits ? "true" : "false", r.host_decode_tok_s, r.host_prefill_tok_s);
  return csv;
}

json variant_table_json(const std::vector<VariantRow>& rows, const VariantTableOptions& opt) {
  json out = {{"deploy_params", opt.deploy_params},
              {"energy_device", opt.energy_device},
              {"provenance",
               {{"measured", {"n_params", "file_bytes", "weight_bytes", "bits_per_weight", "generalization_accuracy",
                              "hallucination_rate", "host_decode_tok_s", "host_prefill_tok_s"}},
                {"estimated", {"accessibility", "deployed_accessibility", "deployed_energy_j", "deployed_decode_tok_s"}}}},
              {"variants", json::array()}};
  for (const auto& r : rows)
    out["variants"].push_back({{"variant", r.variant},
                               {"card", r.card_path},
                               {"n_params", r.n_params},
                               {"file_bytes", r.file_bytes},
                               {"weight_bytes", r.weight_bytes},
                               {"bits_per_weight", r.bits_per_weight},
                               {"kept_share", r.kept_share},
                               {"generalization_accuracy", r.generalization_accuracy},
                               {"hallucination_rate", r.hallucination_rate},
                               {"accessibility", r.accessibility},
                               {"deployed_params", r.deployed_params},
                               {"deployed_accessibility", r.deployed_accessibility},
                               {"deployed_energy_j", r.deployed_energy_j},
                               {"deployed_decode_tok_s", r.deployed_decode_tok_s},
                               {"deployed_fits", r.deployed_fits},
                               {"host_decode_tok_s", r.host_decode_tok_s},
                               {"host_prefill_tok_s", r.host_prefill_tok_s}});
  return out;
}

void write_variant_table(const std::vector<VariantRow>& rows, const VariantTableOptions& opt, const fs::path& dir) {
  fs::create_directories(dir);
  write_file_atomic(dir / "table.md", variant_table_markdown(rows, opt));
  write_file_atomic(dir / "table.csv", variant_table_csv(rows));
  write_file_atomic(dir / "table.json", variant_table_json(rows, opt).dump(2) + "\n");
  // One single-point series per variant, so the legend names each point.
  PlotSpec size{"ECLD variants: size vs generalization accuracy", "weights (KB, as stored)",
                "generalization accuracy (factworld held-out)", false, false, true, {}};
  PlotSpec energy{fmt::format("ECLD variants: energy per query on {} (at {:.3g} parameters) vs hallucination",
                              opt.energy_device, opt.deploy_params),
                  "energy per query (J, estimated)", "hallucination rate (factworld)", false, false, true, {}};
  for (const auto& r : rows) {
    size.series.push_back({r.variant, {r.weight_bytes / 1e3}, {r.generalization_accuracy}, {}});
    energy.series.push_back({r.variant, {r.deployed_energy_j}, {r.hallucination_rate}, {}});
  }
  plot_lines(size, dir / "size_vs_accuracy");
  plot_lines(energy, dir / "energy_vs_hallucination");
}

}  // namespace mecllm::eval
