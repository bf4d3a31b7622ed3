// mecllm profile --variants DIR... --out configs/profiles/NAME.json
//   Turns model cards written by `mecllm eval` into the profile file the MEC simulator reads
//   (format mecllm-profiles/1): one entry per variant x device class it fits. See docs/eval.md.
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "eval/profile_writer.h"

namespace {

struct Args {
  std::vector<std::string> variants;
  std::string out;
};

void setup(CLI::App& app) {
  auto a = std::make_shared<Args>();
  app.add_option("--variants", a->variants, "run directories of `mecllm eval` (variant name = directory name)")
      ->required();
  app.add_option("--out", a->out, "profile file to write, e.g. configs/profiles/ecld.json")->required();
  app.callback([a] {
    nlohmann::json doc = mecllm::eval::build_profiles(a->variants);
    mecllm::eval::write_profiles(doc, a->out);
    for (const auto& e : doc["entries"])
      std::cout << e["variant"].get<std::string>() << " on " << e["device_class"].get<std::string>() << ": prefill "
                << e["prefill_tok_s"].get<double>() << " tok/s, decode " << e["decode_tok_s"].get<double>()
                << " tok/s\n";
    std::cout << "wrote " << doc["entries"].size() << " profiles to " << a->out << "\n";
  });
}

const mecllm::cli::Registrar reg{"profile", "turn model cards into the simulator's device/model profile file", &setup};

}  // namespace
