// mecllm sim run|compare: the MEC offloading simulator with its heuristic baselines.
//
//   mecllm sim run --scenario F --policy P --users N --slots S --seeds K --out DIR [--set k=v]
//   mecllm sim compare --scenario F --users 5,10,20,30,50 --seeds K --out DIR [--quick] [--set k=v]
//   mecllm sim calibrate --scenario F --users 5,10,20,30,50 [--set k=v]   (analytic load figures)
//
// --scenario takes a name under configs/scenarios/ ("default", "tiny") or a YAML path; several
// comma-separated layers compose in order. Results: a table on stdout, files under --out.
#include <fmt/format.h>

#include <filesystem>

#include "cli/command.h"
#include "common/config.h"
#include "common/rundir.h"
#include "mec/calibration.h"
#include "mec/report.h"

namespace {

struct SimArgs {
  std::string scenario = "default", policy = "greedy-constrained", users = "5,10,20,30,50", out, policies;
  int users_n = -1, slots = 2000, seeds = 5;  // users_n < 0: the scenario's num_users
  uint64_t seed = 1;
  bool quick = false;
  std::vector<std::string> sets;
};

void common_options(CLI::App& sub, SimArgs& a) {
  sub.add_option("--scenario", a.scenario, "scenario name(s) or YAML path(s), comma-separated layers")->capture_default_str();
  sub.add_option("--slots", a.slots, "slots per seed")->capture_default_str();
  sub.add_option("--seeds", a.seeds, "independent seeds (95% CI over them)")->capture_default_str();
  sub.add_option("--seed", a.seed, "first seed")->capture_default_str();
  sub.add_option("--set", a.sets, "scenario override key=value (repeatable)");
  sub.add_option("--out", a.out, "run directory (default runs/sim__<scenario>__...)");
}

void setup_sim(CLI::App& app) {
  auto a = std::make_shared<SimArgs>();
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand("run", "evaluate one baseline policy");
  common_options(*run, *a);
  run->add_option("--policy", a->policy, "baseline name")->capture_default_str();
  run->add_option("--users", a->users_n, "number of users N (default: the scenario's num_users)");
  run->callback([a] {
    auto scenario = mecllm::mec::load_scenario(mecllm::config::split_list(a->scenario), a->sets);
    mecllm::mec::SimRunOptions opt;
    opt.policy = a->policy;
    if (a->users_n == 0 || a->users_n < -1) throw mecllm::InputError(fmt::format("--users {}: expected N >= 1", a->users_n));
    opt.eval = {a->users_n >= 0 ? a->users_n : scenario.num_users, a->slots, a->seeds, a->seed, true};
    auto dir = a->out.empty() ? mecllm::default_run_dir("sim__" + scenario.name + "__" + a->policy) : std::filesystem::path(a->out);
    auto res = mecllm::mec::run_sim(scenario, opt, dir);
    fmt::print("{}", res.table);
    fmt::print("wrote {}/summary.json\n", res.out_dir.string());
  });

  CLI::App* cmp = app.add_subcommand("compare", "every baseline at every user count");
  common_options(*cmp, *a);
  cmp->add_option("--users", a->users, "comma-separated user counts")->capture_default_str();
  cmp->add_option("--policies", a->policies, "comma-separated baselines (default: all)");
  cmp->add_flag("--quick", a->quick, "at most 400 slots and 2 seeds: a smoke run in seconds");
  cmp->callback([a] {
    auto scenario = mecllm::mec::load_scenario(mecllm::config::split_list(a->scenario), a->sets);
    mecllm::mec::CompareOptions opt;
    opt.users = mecllm::mec::parse_user_list(a->users, "--users");
    opt.policies = mecllm::config::split_list(a->policies);
    opt.slots = a->slots, opt.seeds = a->seeds, opt.first_seed = a->seed, opt.quick = a->quick;
    auto dir = a->out.empty() ? mecllm::default_run_dir("sim_compare__" + scenario.name) : std::filesystem::path(a->out);
    auto res = mecllm::mec::compare_baselines(scenario, opt, dir);
    fmt::print("{}", res.table);
    fmt::print("table: {}/table.txt\ncsv:   {}\njson:  {}\nplot:  {}{}\n", res.out_dir.string(), res.csv.string(),
               res.summary_json.string(), res.plot_png.string(), res.plot_written ? "" : " (gnuplot missing: .dat/.gp only)");
  });

  CLI::App* cal = app.add_subcommand("calibrate", "analytic utilisation, energy and quality of the pure strategies");
  cal->add_option("--scenario", a->scenario, "scenario name(s) or YAML path(s)")->capture_default_str();
  cal->add_option("--users", a->users, "comma-separated user counts")->capture_default_str();
  cal->add_option("--set", a->sets, "scenario override key=value (repeatable)");
  cal->callback([a] {
    auto scenario = mecllm::mec::load_scenario(mecllm::config::split_list(a->scenario), a->sets);
    auto users = mecllm::mec::parse_user_list(a->users, "--users");
    fmt::print("{}", mecllm::mec::calibrate(scenario, users).to_text());
  });
}

}  // namespace

static const mecllm::cli::Registrar reg{"sim", "MEC offloading simulator: run or compare baselines", &setup_sim};
