#include "eval/energy.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "common/errors.h"

namespace mecllm::eval {

namespace fs = std::filesystem;

nlohmann::json EnergyFigure::to_json() const {
  return {{"joules", joules},   {"seconds", seconds}, {"idle_power_w", idle_power_w},
          {"provenance", provenance_name(provenance)}, {"method", method}, {"note", note}};
}

uint64_t rapl_counter_delta(uint64_t before, uint64_t after, uint64_t max_range) {
  if (after >= before) return after - before;
  // Wrapped once: the rest of the range up to max_range, then 0..after.
  return (max_range >= before ? max_range - before : 0) + after;
}

namespace {
// Reads a file holding one unsigned decimal integer; nullopt when unreadable or malformed.
std::optional<uint64_t> read_u64(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::string s;
  in >> s;
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  try {
    return std::stoull(s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
std::string read_word(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  if (in) in >> s;
  return s;
}
// "intel-rapl:0" -> top level; "intel-rapl:0:2" -> subzone.
bool is_zone_name(const std::string& n, int colons) {
  return n.rfind("intel-rapl:", 0) == 0 && std::count(n.begin(), n.end(), ':') == colons;
}
}  // namespace

RaplReader::RaplReader(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) {
    reason_ = root_.string() + " does not exist (no powercap/RAPL on this machine)";
    return;
  }
  std::vector<fs::path> top;
  for (const auto& e : fs::directory_iterator(root_, ec))
    if (is_zone_name(e.path().filename().string(), 1)) top.push_back(e.path());
  std::sort(top.begin(), top.end());
  if (top.empty()) {
    reason_ = root_.string() + " has no intel-rapl:N zones";
    return;
  }
  auto make = [&](const fs::path& dir) -> std::optional<RaplDomain> {
    auto range = read_u64(dir / "max_energy_range_uj");
    auto value = read_u64(dir / "energy_uj");
    if (!range || !value || *range == 0) return std::nullopt;
    return RaplDomain{dir, read_word(dir / "name"), *range};
  };
  bool any_package = false;
  for (const auto& dir : top) any_package |= read_word(dir / "name").rfind("package", 0) == 0;
  bool unreadable = false;
  for (const auto& dir : top) {
    std::string name = read_word(dir / "name");
    bool take = any_package ? name.rfind("package", 0) == 0 : name != "psys";
    if (!take) continue;
    auto d = make(dir);
    if (!d) {
      unreadable = true;
      continue;
    }
    domains_.push_back(*d);
    std::vector<fs::path> subs;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (is_zone_name(e.path().filename().string(), 2) && read_word(e.path() / "name") == "dram") subs.push_back(e.path());
    std::sort(subs.begin(), subs.end());
    for (const auto& s : subs)
      if (auto sd = make(s)) domains_.push_back(*sd);
  }
  if (domains_.empty())
    reason_ = unreadable ? root_.string() + ": RAPL energy_uj not readable (needs root on kernels since 5.10)"
                         : root_.string() + ": no package RAPL zone";
}

std::string RaplReader::describe() const {
  std::string s;
  for (const auto& d : domains_) s += (s.empty() ? "" : " + ") + d.name;
  return s;
}

std::vector<uint64_t> RaplReader::read() const {
  std::vector<uint64_t> v;
  v.reserve(domains_.size());
  for (const auto& d : domains_) {
    auto x = read_u64(d.dir / "energy_uj");
    if (!x) throw InputError((d.dir / "energy_uj").string() + ": expected an unsigned integer counter, unreadable or malformed");
    v.push_back(*x);
  }
  return v;
}

double RaplReader::joules_between(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) const {
  MECLLM_CHECK(before.size() == domains_.size() && after.size() == domains_.size());
  uint64_t uj = 0;
  for (size_t i = 0; i < domains_.size(); ++i)
    uj += rapl_counter_delta(before[i], after[i], domains_[i].max_energy_range_uj);
  return static_cast<double>(uj) * 1e-6;
}

double measure_idle_power_w(const RaplReader& rapl, double seconds) {
  MECLLM_CHECK(rapl.available() && seconds > 0);
  auto t0 = SteadyClock::now();
  auto a = rapl.read();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto b = rapl.read();
  double dt = mecllm::seconds_since(t0);
  return rapl.joules_between(a, b) / dt;
}

EnergyFigure measure_energy(const RaplReader& rapl, double idle_power_w, double fallback_power_w,
                            const std::function<void()>& work) {
  EnergyFigure f;
  std::vector<uint64_t> before;
  if (rapl.available()) before = rapl.read();
  auto t0 = SteadyClock::now();
  work();
  f.seconds = mecllm::seconds_since(t0);
  if (rapl.available()) {
    double gross = rapl.joules_between(before, rapl.read());
    f.provenance = Provenance::measured;
    f.idle_power_w = idle_power_w;
    f.method = "rapl: " + rapl.describe();
    f.joules = gross - idle_power_w * f.seconds;
    if (f.joules < 0) {
      f.note = fmt::format("net energy {:.3f} J below the idle baseline, clamped to 0", f.joules);
      f.joules = 0;
    }
  } else {
    f.provenance = Provenance::estimated;
    f.joules = fallback_power_w * f.seconds;
    f.method = fmt::format("estimate: {:.2f} W x {:.3f} s", fallback_power_w, f.seconds);
    f.note = "no energy counter: " + rapl.unavailable_reason();
  }
  return f;
}

}  // namespace mecllm::eval
