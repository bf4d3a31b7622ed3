#include "eval/model_card.h"

#include <fmt/format.h>

#include "common/rundir.h"
#include "eval/deploy_scale.h"

namespace mecllm::eval {

using nlohmann::json;

json qa_stats_to_json(const QaStats& s) {
  return {{"n", s.n},
          {"accuracy", s.accuracy()},
          {"hallucination_rate", s.hallucination_rate()},
          {"abstention_rate", s.abstention_rate()},
          {"n_answerable", s.n_answerable},
          {"answerable_accuracy", s.answerable_accuracy()}};
}

json qa_to_json(const QaResult& r) {
  json j = {{"all", qa_stats_to_json(r.all)},
            {"generalization", qa_stats_to_json(r.heldout_answerable)},
            {"by_difficulty", json::object()},
            {"by_split", json::object()}};
  for (const auto& [k, s] : r.by_difficulty) j["by_difficulty"][k] = qa_stats_to_json(s);
  for (const auto& [k, s] : r.by_split) j["by_split"][k] = qa_stats_to_json(s);
  return j;
}

namespace {
Figure measured(double v, const std::string& unit, const std::string& method) {
  return Figure{v, unit, Provenance::measured, method};
}
json speed_json(const SpeedEstimate& s) {
  return {{"decode_tok_s", s.decode_tok_s}, {"prefill_tok_s", s.prefill_tok_s}, {"ttft_s", s.prefill_s},
          {"decode_s", s.decode_s},         {"bytes_per_token", s.bytes_per_token}};
}
std::string fmt_fig(const std::optional<Figure>& f, const char* spec = "{:.3f}") {
  if (!f) return "n/a";
  return fmt::format(fmt::runtime(spec), f->value) + (f->unit.empty() ? "" : " " + f->unit) + " (" +
         std::string(provenance_name(f->provenance)) + ")";
}
}  // namespace

std::optional<Figure> ModelCard::hallucination_rate() const {
  if (factworld) return measured(factworld->all.hallucination_rate(), "", "factworld QA: wrong values + non-abstentions on unanswerable");
  if (halueval) return measured(halueval->all.hallucination_rate(), "", "HaluEval QA: wrong non-abstaining answers");
  if (truthfulqa) return measured(truthfulqa->hallucination_rate(), "", "TruthfulQA: 1 - MC1 (false option chosen)");
  return std::nullopt;
}

std::optional<Figure> ModelCard::generalization_accuracy() const {
  if (factworld && factworld->heldout_answerable.n > 0)
    return measured(factworld->heldout_answerable.accuracy(), "", "factworld: exact match on held-out answerable questions");
  if (mc) return measured(mc->acc, "", "multiple choice: acc (log-likelihood)");
  if (halueval) return measured(halueval->all.accuracy(), "", "HaluEval QA: exact match");
  return std::nullopt;
}

json ModelCard::to_json() const {
  json j;
  j["model"] = {{"path", model_path},
                {"name", footprint.name},
                {"arch", arch_summary},
                {"n_params", footprint.n_params},
                {"file_bytes", file_bytes},
                {"weight_bytes", footprint.weight_bytes},
                {"bits_per_weight", footprint.bits_per_weight()},
                {"seq_len", footprint.seq_len}};
  json speed = json::object();
  if (host_decode_tok_s) speed["decode_tok_s"] = host_decode_tok_s->to_json();
  if (host_prefill_tok_s) speed["prefill_tok_s"] = host_prefill_tok_s->to_json();
  j["host_speed"] = speed;
  if (host_energy_per_query) j["host_energy_per_query"] = host_energy_per_query->to_json();
  j["footprint"] = footprint_to_json(footprint);
  j["roofline_calibration"] = {{"bandwidth_efficiency", calibration.bandwidth_efficiency},
                               {"compute_efficiency", calibration.compute_efficiency},
                               {"bandwidth_share_raw", calibration.bandwidth_share_raw},
                               {"compute_share_raw", calibration.compute_share_raw},
                               {"provenance", provenance_name(calibration.provenance)},
                               {"method", calibration.method}};
  json devices = json::array();
  for (const auto& v : accessibility.devices) {
    devices.push_back({{"device", v.device},
                       {"deployable", v.deployable()},
                       {"fits", v.fits},
                       {"fast_enough", v.fast_enough},
                       {"reason", v.reason},
                       {"memory_needed_bytes", v.memory_needed_bytes},
                       {"memory_usable_bytes", v.memory_usable_bytes},
                       {"kv_cache_bytes", v.kv_cache_bytes},
                       {"active_power_w", v.active_power_w},
                       {"idle_power_w", v.idle_power_w},
                       {"speed", speed_json(v.speed)},
                       {"speed_provenance", "estimated"},
                       {"energy_per_query",
                        {{"prefill_j", v.energy.prefill_j},
                         {"decode_j", v.energy.decode_j},
                         {"total_j", v.energy.total_j()},
                         {"provenance", provenance_name(v.energy.provenance)},
                         {"method", v.energy.method}}}});
  }
  const auto& ac = accessibility_config;
  j["accessibility"] = {{"score", accessibility.score},
                        {"storage_bytes", accessibility.storage_bytes},
                        {"rule",
                         {{"context_tokens", ac.context_tokens},
                          {"kv_elem_bytes", ac.kv_elem_bytes},
                          {"runtime_overhead_mb", ac.runtime_overhead_mb},
                          {"min_decode_tok_s", ac.min_decode_tok_s},
                          {"prompt_tokens", ac.prompt_tokens},
                          {"output_tokens", ac.output_tokens}}},
                        {"devices", devices}};
  json metrics = json::object();
  metrics["accessibility"] = Figure{accessibility.score, "share of device classes", Provenance::estimated,
                                    "fit (weights + KV + overhead) and roofline decode speed"}
                                 .to_json();
  if (auto h = hallucination_rate()) metrics["hallucination_rate"] = h->to_json();
  if (auto g = generalization_accuracy()) metrics["generalization_accuracy"] = g->to_json();
  json energy = json::object();
  for (const auto& v : accessibility.devices) energy[v.device] = v.energy.total_j();
  metrics["energy_per_query_j"] = {{"by_device", energy}, {"provenance", "estimated"}};
  j["metrics"] = metrics;
  json tasks = json::object();
  if (factworld) tasks["factworld"] = qa_to_json(*factworld);
  if (halueval) tasks["halueval"] = qa_to_json(*halueval);
  if (mc) tasks["mc"] = {{"n", mc->n}, {"acc", mc->acc}, {"acc_norm", mc->acc_norm}};
  if (truthfulqa)
    tasks["truthfulqa"] = {{"n", truthfulqa->n}, {"mc1", truthfulqa->mc1}, {"mc2", truthfulqa->mc2},
                           {"hallucination_rate", truthfulqa->hallucination_rate()}};
  if (perplexity)
    tasks["perplexity"] = {{"ppl", perplexity->ppl}, {"ppl_stderr", perplexity->ppl_stderr},
                           {"mean_nll", perplexity->mean_nll}, {"n_tokens_scored", perplexity->n_tokens_scored},
                           {"n_chunks", perplexity->n_chunks}, {"ctx", perplexity->ctx}};
  j["tasks"] = tasks;
  j["tasks_provenance"] = "measured (quality does not depend on the device: same weights, same greedy decoding)";
  return j;
}

std::string ModelCard::to_markdown() const {
  std::string md = fmt::format("# Model card: {}\n\n", footprint.name);
  md += fmt::format("- file: `{}` ({:.2f} MB on disk)\n", model_path, file_bytes / 1e6);
  md += fmt::format("- architecture: {}\n", arch_summary);
  md += fmt::format("- parameters: {} ({:.2f} M)\n", footprint.n_params, double(footprint.n_params) / 1e6);
  md += fmt::format("- weights: {:.2f} MB, {:.2f} bits per weight (measured)\n", footprint.weight_bytes / 1e6,
                    footprint.bits_per_weight());
  md += fmt::format("- host decode: {}; host prefill: {}\n", fmt_fig(host_decode_tok_s, "{:.1f}"),
                    fmt_fig(host_prefill_tok_s, "{:.1f}"));
  if (host_energy_per_query)
    md += fmt::format("- host energy per query: {:.3f} J ({}; {}{})\n", host_energy_per_query->joules,
                      provenance_name(host_energy_per_query->provenance), host_energy_per_query->method,
                      host_energy_per_query->note.empty() ? "" : "; " + host_energy_per_query->note);
  md += fmt::format("- roofline calibration ({}): {}\n\n", provenance_name(calibration.provenance), calibration.method);

  md += "## The four metrics\n\n| metric | value | provenance | how |\n|---|---|---|---|\n";
  md += fmt::format("| accessibility | {:.2f} of {} classes | estimated | fit + decode >= {:.1f} tok/s |\n",
                    accessibility.score, accessibility.devices.size(), accessibility_config.min_decode_tok_s);
  for (const auto& v : accessibility.devices)
    md += fmt::format("| energy per query, {} | {:.3f} J | estimated | {} |\n", v.device, v.energy.total_j(), v.energy.method);
  if (auto h = hallucination_rate())
    md += fmt::format("| hallucination rate | {:.3f} | measured | {} |\n", h->value, h->method);
  if (auto g = generalization_accuracy())
    md += fmt::format("| generalization accuracy | {:.3f} | measured | {} |\n", g->value, g->method);

  md += fmt::format("\n## Device classes (query: {} prompt + {} output tokens, context {})\n\n",
                    accessibility_config.prompt_tokens, accessibility_config.output_tokens,
                    accessibility_config.context_tokens);
  md += "| device | deployable | memory needed / usable (GB) | decode tok/s | TTFT s | energy J (prefill + decode) | note |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (const auto& v : accessibility.devices)
    md += fmt::format("| {} | {} | {:.2f} / {:.2f} | {:.1f} | {:.3f} | {:.3f} + {:.3f} | {} |\n", v.device,
                      v.deployable() ? "yes" : "no", v.memory_needed_bytes / 1e9, v.memory_usable_bytes / 1e9,
                      v.speed.decode_tok_s, v.speed.prefill_s, v.energy.prefill_j, v.energy.decode_j, v.reason);
  md += "\nSpeeds and energies on device classes are roofline estimates; see docs/eval.md.\n";

  md += "\n## Tasks (measured)\n\n";
  auto qa_md = [&](const char* name, const QaResult& r) {
    md += fmt::format("### {}\n\n| group | n | accuracy | hallucination | abstention |\n|---|---|---|---|---|\n", name);
    auto row = [&](const std::string& g, const QaStats& s) {
      md += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:.3f} |\n", g, s.n, s.accuracy(), s.hallucination_rate(),
                        s.abstention_rate());
    };
    row("all", r.all);
    row("held-out answerable", r.heldout_answerable);
    for (const auto& [k, s] : r.by_difficulty) row("difficulty " + k, s);
    for (const auto& [k, s] : r.by_split) row("split " + k, s);
    md += "\n";
  };
  if (factworld) qa_md("factworld QA", *factworld);
  if (halueval) qa_md("HaluEval QA", *halueval);
  if (mc) md += fmt::format("- multiple choice: n {}, acc {:.3f}, acc_norm {:.3f}\n", mc->n, mc->acc, mc->acc_norm);
  if (truthfulqa)
    md += fmt::format("- TruthfulQA: n {}, MC1 {:.3f}, MC2 {:.3f}\n", truthfulqa->n, truthfulqa->mc1, truthfulqa->mc2);
  if (perplexity)
    md += fmt::format("- perplexity: {:.4f} +/- {:.4f} ({} windows of {} tokens, {} tokens scored)\n", perplexity->ppl,
                      perplexity->ppl_stderr, perplexity->n_chunks, perplexity->ctx, perplexity->n_tokens_scored);
  return md;
}

void write_model_card(const ModelCard& card, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "model_card.json", card.to_json().dump(2) + "\n");
  write_file_atomic(dir / "model_card.md", card.to_markdown());
}

}  // namespace mecllm::eval
