// mecllm evaluate --policy DIR[,DIR...] --scenario F --users 5,10,20,30,50 --seeds K --out DIR
//                 [--slots S] [--seed first] [--no-baselines]
// Learned policies next to every baseline on the same seeds: table.txt, results.csv, summary.json
// (sim compare's keys), vs_best_baseline.json and latency_vs_users.png. Needs no LibTorch.
#include <fmt/format.h>

#include "cli/command.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/rundir.h"
#if defined(MECLLM_RL_HAVE_MEC_EVAL)
#include "mec/report.h"
#include "rl/evaluate_policy.h"
#endif

namespace {

void setup_evaluate(CLI::App& sub) {
#if defined(MECLLM_RL_HAVE_MEC_EVAL)
  struct Args {
    std::string policies, users = "5,10,20,30,50", out;
    bool no_baselines = false;
  };
  auto a = std::make_shared<Args>();
  auto o = std::make_shared<mecllm::rl::EvaluateOptions>();
  sub.add_option("--policy", a->policies, "trained run directories or policy.json files, comma-separated")->required();
  sub.add_option("--scenario", o->scenario, "scenario name(s) or YAML path(s)")->capture_default_str();
  sub.add_option("--users", a->users, "comma-separated user counts")->capture_default_str();
  sub.add_option("--seeds", o->seeds, "evaluation seeds (95% CI over them)")->capture_default_str();
  sub.add_option("--seed", o->first_seed, "first evaluation seed")->capture_default_str();
  sub.add_option("--slots", o->slots, "slots per seed")->capture_default_str();
  sub.add_flag("--no-baselines", a->no_baselines, "evaluate only the learned policies");
  sub.add_option("--out", a->out, "run directory (default runs/evaluate__<scenario>__<time>)");
  sub.callback([a, o] {
    for (const auto& p : mecllm::config::split_list(a->policies)) o->policies.emplace_back(p);
    o->users = mecllm::mec::parse_user_list(a->users, "--users");
    o->baselines = !a->no_baselines;
    auto dir = a->out.empty() ? mecllm::default_run_dir("evaluate__" + o->scenario) : std::filesystem::path(a->out);
    auto res = mecllm::rl::run_evaluate(*o, dir);
    fmt::print("{}", res.table);
    fmt::print("json: {}/summary.json\nplot: {}/latency_vs_users.png{}\n", res.out_dir.string(), res.out_dir.string(),
               res.plot_written ? "" : " (gnuplot missing: .dat/.gp only)");
  });
#else
  sub.callback([] { throw mecllm::InputError("this mecllm was built without the simulator's evaluation harness"); });
#endif
}

}  // namespace

static const mecllm::cli::Registrar reg{"evaluate", "evaluate trained policies next to the baselines", &setup_evaluate};
