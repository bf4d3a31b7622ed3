// mecllm profile --variants DIR... --out configs/profiles/NAME.json
//                [--deploy-params P] [--deploy-params-for VARIANT=P]... [--base-params N]
//                [--deploy-bandwidth-efficiency E] [--deploy-compute-efficiency E]
//   Turns model cards written by `mecllm eval` into the profile file the MEC simulator reads
//   (format mecllm-profiles/1): one entry per variant x device class it fits. With a deployment
//   scale, rates and memory are roofline estimates for each variant's measured compression
//   applied to a base model of P parameters (quality stays measured). See docs/eval.md.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "common/errors.h"
#include "eval/profile_writer.h"

namespace {

struct Args {
  std::vector<std::string> variants, deploy_for;
  std::string out;
  mecllm::eval::ProfileOptions opt;
};

// "VARIANT=8e9" -> (VARIANT, 8e9); InputError naming the option otherwise.
std::pair<std::string, double> parse_deploy_for(const std::string& s) {
  auto eq = s.find('=');
  double v = 0;
  if (eq != std::string::npos && eq > 0) {
    try {
      size_t used = 0;
      v = std::stod(s.substr(eq + 1), &used);
      if (used != s.size() - eq - 1) v = 0;
    } catch (const std::exception&) {
      v = 0;
    }
  }
  if (!(v > 0)) throw mecllm::InputError("--deploy-params-for '" + s + "': expected VARIANT=PARAMS with PARAMS > 0, e.g. base=8e9");
  return {s.substr(0, eq), v};
}

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--variants", a->variants, "run directories of `mecllm eval` (variant name = directory name)")
      ->required();
  app.add_option("--out", a->out, "profile file to write, e.g. configs/profiles/ecld.json")->required();
  app.add_option("--deploy-params", a->opt.deploy_params,
                 "deployment scale: parameters of the base model the variants are compressed from (e.g. 1.2e9)");
  app.add_option("--deploy-params-for", a->deploy_for, "deployment scale of one variant, VARIANT=PARAMS (repeatable)");
  app.add_option("--base-params", a->opt.base_params,
                 "measured base model's parameters (default: the variant directory named 'base')");
  app.add_option("--deploy-bandwidth-efficiency", a->opt.deploy_bandwidth_efficiency,
                 "achieved share of peak DRAM bandwidth at deployment scale (default 0.6, assumed)");
  app.add_option("--deploy-compute-efficiency", a->opt.deploy_compute_efficiency,
                 "achieved share of peak compute at deployment scale (default 0.3, assumed)");
  app.callback([a] {
    for (const auto& s : a->deploy_for) a->opt.deploy_params_for.insert(parse_deploy_for(s));
    if (a->opt.deploy_params < 0) throw mecllm::InputError("--deploy-params must be > 0");
    nlohmann::json doc = mecllm::eval::build_profiles(a->variants, a->opt);
    mecllm::eval::write_profiles(doc, a->out);
    for (const auto& e : doc["entries"])
      std::cout << fmt::format("{} on {}: prefill {:.1f} tok/s, decode {:.1f} tok/s, {:.3g} GB, accuracy {:.3f}/{:.3f}/{:.3f}\n",
                               e["variant"].get<std::string>(), e["device_class"].get<std::string>(),
                               e["prefill_tok_s"].get<double>(), e["decode_tok_s"].get<double>(),
                               e["memory_bytes"].get<double>() / 1e9, e["accuracy"]["easy"].get<double>(),
                               e["accuracy"]["medium"].get<double>(), e["accuracy"]["hard"].get<double>());
    std::cout << "wrote " << doc["entries"].size() << " profiles to " << a->out << "\n";
  });
}

const mecllm::cli::Registrar reg{"profile", "turn model cards into the simulator's device/model profile file", &setup};

}  // namespace
