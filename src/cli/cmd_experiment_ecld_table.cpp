// mecllm experiment ecld-table --out DIR
//     (--ecld DIR | --base M --data FACTWORLD (--budget-bytes B | --target CLASS) [--config L] [--set k=v])
//     [--data FACTWORLD] [--eval-set k=v] [--deploy-params 1.2e9] [--edge-deploy-params 8e9]
//     [--energy-device jetson-nano-4gb]
// The ECLD comparison (ecld.md "Baselines always built beside ECLD"): base, quantization-only,
// pruning-only, pruning+quantization and ECLD x the four metrics plus size and speed. Runs
// `ecld --baselines` itself (the library, not a subprocess) unless --ecld names an existing run,
// evaluates every variant with `mecllm eval`'s code (one model card each), and writes
//   config.yaml, ecld/ (when run here), cards/<variant>/, table.md, table.csv, table.json,
//   size_vs_accuracy.png, energy_vs_hallucination.png, profiles.json (deployment-scale profiles
//   for the simulator, as `mecllm profile` writes them) and summary.json.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/experiment_registry.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/rundir.h"
#include "eval/profile_writer.h"
#include "eval/variant_table.h"
#if defined(MECLLM_EVAL_HAS_RUNTIME)
#include "eval/eval_run.h"
#endif
#if defined(MECLLM_WITH_TORCH)
#include "compress/compress_config.h"
#include "compress/ecld.h"
#endif

namespace {

namespace fs = std::filesystem;

struct TableOptions {
  std::string ecld_dir;           // an existing `mecllm ecld --baselines` run ("" = run it here)
  std::string base, data, target; // ECLD inputs (data also overrides the run's factworld dir)
  int64_t budget_bytes = 0;
  std::string compress_config = "defaults";
  std::vector<std::string> compress_sets;
  double deploy_params = 1.2e9;       // device variants: base size at deployment
  double edge_deploy_params = 8e9;    // the uncompressed base on the edge (profiles.json)
  std::string energy_device = "jetson-nano-4gb";
  std::vector<std::string> eval_sets;
#if defined(MECLLM_EVAL_HAS_RUNTIME)
  mecllm::eval::EvalConfig eval;
#endif

  template <class V>
  void visit(V& v) {
    v("ecld_dir", ecld_dir, "existing ECLD run with baselines ('' = run ECLD here)");
    v("base", base, "base model of the ECLD run");
    v("data", data, "factworld directory");
    v("target", target, "ECLD device-class target");
    v("budget_bytes", budget_bytes, "ECLD byte budget");
    v("compress_config", compress_config, "configs/compress layers of the ECLD run");
    v("compress_sets", compress_sets, "ECLD overrides");
    v("deploy_params", deploy_params, "table and device profiles: base size at deployment (parameters)");
    v("edge_deploy_params", edge_deploy_params, "profiles.json: size of the uncompressed base on the edge");
    v("energy_device", energy_device, "device class of the table's energy and speed columns");
    v("eval_sets", eval_sets, "mecllm eval overrides");
#if defined(MECLLM_EVAL_HAS_RUNTIME)
    v("eval", eval);
#endif
  }
};

#if defined(MECLLM_EVAL_HAS_RUNTIME)
using nlohmann::json;

// The variant files of an ECLD run directory, as src/compress/ecld.h lays them out.
std::vector<std::pair<std::string, std::string>> ecld_variants(const fs::path& dir, const std::string& base) {
  std::vector<std::pair<std::string, std::string>> v = {
      {"base", base},
      {"quant-only", (dir / "baselines" / "quant_only.gguf").string()},
      {"prune-only", (dir / "baselines" / "prune_only_f16.gguf").string()},
      {"prune-quant", (dir / "baselines" / "prune_quant.gguf").string()},
      {"ecld", (dir / "stages" / "ecld.gguf").string()}};
  for (const auto& [name, path] : v)
    if (!fs::exists(path))
      throw mecllm::InputError(fmt::format("{}: variant '{}' missing ({} absent; run `mecllm ecld --baselines`)",
                                           dir.string(), name, path));
  return v;
}

void run_ecld_here(TableOptions& o, const fs::path& out) {
  if (o.base.empty() || o.data.empty() || (o.target.empty() && o.budget_bytes <= 0))
    throw mecllm::InputError("ecld-table: give --ecld DIR, or --base M --data DIR and --budget-bytes B or --target CLASS");
#if defined(MECLLM_WITH_TORCH)
  auto ccfg = mecllm::compress::load_compress_config(mecllm::config::split_list(o.compress_config), o.compress_sets);
  ccfg.baselines = true;
  mecllm::log_info("ecld-table: running ECLD with baselines into {}", (out / "ecld").string());
  mecllm::compress::run_ecld(o.base, o.data, {o.target, o.budget_bytes}, ccfg, out / "ecld");
  o.ecld_dir = (out / "ecld").string();
#else
  (void)out;
  throw mecllm::InputError("ecld-table: this build has no LibTorch, so it cannot run ECLD; give --ecld DIR");
#endif
}

void run(TableOptions o, const fs::path& out) {
  using namespace mecllm;
  config::load_layers(o.eval, {}, o.eval_sets, "eval");
  const auto t0 = SteadyClock::now();
  RunDir dir(out);
  dir.write_config(config::to_yaml(o));
  if (o.ecld_dir.empty()) run_ecld_here(o, out);
  const fs::path ecld(o.ecld_dir);
  const json report = read_json_file(ecld / "report.json");
  if (!report.contains("base") || !report["base"].is_string() || !report.contains("data") || !report["data"].is_string())
    throw_input_error((ecld / "report.json").string(), "expected string fields 'base' and 'data' (an ECLD report)");
  const std::string data = !o.data.empty() ? o.data : report["data"].get<std::string>();
  const auto variants = ecld_variants(ecld, report["base"].get<std::string>());

  std::vector<std::pair<std::string, std::string>> cards;
  Progress prog("ecld-table eval", int64_t(variants.size()), "variants");
  for (size_t i = 0; i < variants.size(); ++i) {
    const auto& [name, model] = variants[i];
    fs::path card_dir = out / "cards" / name;
    eval::EvalInputs in;
    in.model_path = model;
    in.data_dir = data;
    log_info("ecld-table: [{}/{}] evaluating {} ({})", i + 1, variants.size(), name, model);
    eval::run_eval(o.eval, in, card_dir, config::to_yaml(o.eval));
    cards.emplace_back(name, card_dir.string());
    prog.update(int64_t(i + 1), name);
  }
  prog.finish();

  eval::VariantTableOptions topt;
  topt.deploy_params = o.deploy_params;
  topt.energy_device = o.energy_device;
  auto rows = eval::build_variant_rows(cards, topt);
  eval::write_variant_table(rows, topt, out);
  eval::ProfileOptions popt;
  popt.deploy_params = o.deploy_params;
  popt.deploy_params_for["base"] = o.edge_deploy_params;
  std::vector<std::string> card_dirs;
  for (const auto& c : cards) card_dirs.push_back(c.second);
  eval::write_profiles(eval::build_profiles(card_dirs, popt), (out / "profiles.json").string());

  const double secs = mecllm::seconds_since(t0);
  dir.write_json("summary.json", {{"ecld_dir", o.ecld_dir},
                                  {"data", data},
                                  {"table", eval::variant_table_json(rows, topt)},
                                  {"files",
                                   {{"table_md", (out / "table.md").string()},
                                    {"table_csv", (out / "table.csv").string()},
                                    {"table_json", (out / "table.json").string()},
                                    {"size_vs_accuracy", (out / "size_vs_accuracy.png").string()},
                                    {"energy_vs_hallucination", (out / "energy_vs_hallucination.png").string()},
                                    {"profiles", (out / "profiles.json").string()}}},
                                  {"elapsed_s", secs}});
  std::cout << eval::variant_table_markdown(rows, topt) << "\n";
  for (const char* f : {"table.md", "table.csv", "table.json", "size_vs_accuracy.png", "energy_vs_hallucination.png",
                        "profiles.json", "summary.json"})
    std::cout << fmt::format("{:<28} {}\n", f, (out / f).string());
}
#endif

void setup_ecld_table(CLI::App& sub) {
  auto o = std::make_shared<TableOptions>();
  auto out = std::make_shared<std::string>();
  sub.add_option("--out", *out, "run directory (default runs/ecld-table__<time>)");
  sub.add_option("--ecld", o->ecld_dir, "existing `mecllm ecld --baselines` run directory (else ECLD runs here)");
  sub.add_option("--base", o->base, "base checkpoint for the ECLD run");
  sub.add_option("--data", o->data, "factworld directory (default: the ECLD run's)");
  sub.add_option("--target", o->target, "ECLD: device class to fit");
  sub.add_option("--budget-bytes", o->budget_bytes, "ECLD: byte budget of the deployed model");
  sub.add_option("--config", o->compress_config, "ECLD: configs/compress layers")->capture_default_str();
  sub.add_option("--set", o->compress_sets, "ECLD override, e.g. distill.steps=60 (repeatable)");
  sub.add_option("--eval-set", o->eval_sets, "mecllm eval override, e.g. max_items=50 (repeatable)");
  sub.add_option("--deploy-params", o->deploy_params, "base size at deployment for the table and device profiles")
      ->capture_default_str();
  sub.add_option("--edge-deploy-params", o->edge_deploy_params, "profiles.json: the base's size on the edge")
      ->capture_default_str();
  sub.add_option("--energy-device", o->energy_device, "device class of the energy and speed columns")
      ->capture_default_str();
  sub.callback([o, out] {
#if defined(MECLLM_EVAL_HAS_RUNTIME)
    run(*o, out->empty() ? mecllm::default_run_dir("ecld-table") : fs::path(*out));
#else
    throw mecllm::InputError("ecld-table: this build has no runtime engine (mecllm_runtime)");
#endif
  });
}

const mecllm::cli::ExperimentRegistrar reg{"ecld-table", "ECLD variants x the four metrics, size and speed (table, plots)",
                                           &setup_ecld_table};

}  // namespace
