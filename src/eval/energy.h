// Energy of a piece of work, from whatever the machine offers:
//  - RAPL through the Linux powercap interface (x86): /sys/class/powercap/intel-rapl:N/energy_uj,
//    a microjoule counter that wraps at max_energy_range_uj. The root is configurable so tests
//    run on a fake sysfs tree. An idle baseline (power measured while sleeping) is subtracted.
//  - tegrastats logs of Jetson boards (see eval/tegrastats.h);
//  - otherwise an estimate: device power x roofline time (eval/roofline.h).
// Every result is labelled measured or estimated, and says why when it fell back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "eval/provenance.h"

namespace mecllm::eval {

struct EnergyFigure {
  double joules = 0.0;   // net of the idle baseline when one was subtracted
  double seconds = 0.0;  // wall time of the work
  double idle_power_w = 0.0;  // baseline subtracted (0: none)
  Provenance provenance = Provenance::estimated;
  std::string method;  // "rapl: package-0 + dram", "tegrastats VDD_IN", "estimate: 5 W x 1.2 s"
  std::string note;    // why a fallback happened, clamping, ...
  nlohmann::json to_json() const;
};

// Microjoules between two readings of a counter that counts 0..max_range then wraps to 0.
// A reading below the previous one means exactly one wrap (sample faster than the wrap time,
// which is hours at package power for the usual 2^32 uJ range).
uint64_t rapl_counter_delta(uint64_t before, uint64_t after, uint64_t max_range);

struct RaplDomain {
  std::filesystem::path dir;  // .../intel-rapl:0 or .../intel-rapl:0:2
  std::string name;           // contents of `name`: "package-0", "dram", "psys", ...
  uint64_t max_energy_range_uj = 0;
};

class RaplReader {
 public:
  // Scans root for the domains to sum: every top-level package zone (intel-rapl:N named
  // package-*) plus its "dram" subzone when present; if no zone is named package-*, every
  // top-level zone except psys (which already contains the packages). Never throws for an
  // absent or unreadable tree: available() is false and unavailable_reason() says why.
  explicit RaplReader(std::filesystem::path root = "/sys/class/powercap");

  bool available() const { return !domains_.empty(); }
  const std::string& unavailable_reason() const { return reason_; }
  const std::vector<RaplDomain>& domains() const { return domains_; }
  std::string describe() const;  // "package-0 + dram"

  // Current energy_uj of every domain. Throws InputError naming the file if a counter
  // became unreadable or malformed.
  std::vector<uint64_t> read() const;
  // Joules between two read() results, wrap-around handled per domain.
  double joules_between(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) const;

 private:
  std::filesystem::path root_;
  std::vector<RaplDomain> domains_;
  std::string reason_;
};

// Average power (W) over `seconds` of sleeping: the baseline to subtract.
double measure_idle_power_w(const RaplReader& rapl, double seconds);

// Runs `work` once and returns its energy: RAPL-measured (minus idle_power_w x duration,
// clamped at 0 with a note) when rapl.available(), else fallback_power_w x duration labelled
// estimated with the reason in `note`.
EnergyFigure measure_energy(const RaplReader& rapl, double idle_power_w, double fallback_power_w,
                            const std::function<void()>& work);

}  // namespace mecllm::eval
