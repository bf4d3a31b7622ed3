#include "eval/tegrastats.h"

#include <fmt/format.h>

#include <sstream>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::eval {

namespace {
// "1242" or "1242mW" -> 1242; nullopt otherwise.
std::optional<double> parse_mw(std::string s) {
  if (s.size() > 2 && s.compare(s.size() - 2, 2, "mW") == 0) s.resize(s.size() - 2);
  if (s.empty() || s.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  try {
    return std::stod(s);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
}  // namespace

TegrastatsLog parse_tegrastats(const std::string& text, const std::string& path) {
  static const char* kRails[] = {"VDD_IN", "POM_5V_IN"};
  TegrastatsLog log;
  log.path = path;
  std::istringstream lines(text);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    std::string where = fmt::format("{}:{}", path, line_no);
    size_t at = w.size();
    for (size_t i = 0; i < w.size() && at == w.size(); ++i)
      for (const char* rail : kRails)
        if (w[i] == rail && (log.rail.empty() || log.rail == rail)) {
          at = i;
          log.rail = rail;
          break;
        }
    if (at == w.size())
      throw InputError(where + ": no input power rail " + (log.rail.empty() ? std::string("VDD_IN or POM_5V_IN") : log.rail) +
                       " in the line, expected a tegrastats sample");
    std::string reading = at + 1 < w.size() ? w[at + 1] : "";
    size_t slash = reading.find('/');
    std::optional<double> cur, avg;
    if (slash != std::string::npos) {
      cur = parse_mw(reading.substr(0, slash));
      avg = parse_mw(reading.substr(slash + 1));
    }
    if (!cur || !avg)
      throw InputError(where + ": " + log.rail + " reading '" + reading + "', expected <current>/<average> in mW");
    log.samples.push_back({*cur, *avg});
  }
  if (log.samples.empty()) throw InputError(path + ": no tegrastats samples");
  return log;
}

TegrastatsLog parse_tegrastats_file(const std::string& path) { return parse_tegrastats(read_text_file(path), path); }

double tegrastats_mean_power_w(const TegrastatsLog& log) {
  double s = 0;
  for (const auto& x : log.samples) s += x.current_mw;
  return log.samples.empty() ? 0.0 : s / double(log.samples.size()) * 1e-3;
}

EnergyFigure tegrastats_energy(const TegrastatsLog& log, double interval_ms, double idle_power_w) {
  if (!(interval_ms > 0)) throw InputError(fmt::format("{}: tegrastats interval {} ms, expected > 0", log.path, interval_ms));
  EnergyFigure f;
  f.provenance = Provenance::measured;
  f.seconds = double(log.samples.size()) * interval_ms * 1e-3;
  double gross = 0;
  for (const auto& x : log.samples) gross += x.current_mw * 1e-3 * interval_ms * 1e-3;
  f.idle_power_w = idle_power_w;
  f.joules = gross - idle_power_w * f.seconds;
  f.method = fmt::format("tegrastats {}: {} samples x {} ms", log.rail, log.samples.size(), interval_ms);
  if (f.joules < 0) {
    f.note = fmt::format("net energy {:.3f} J below the idle baseline, clamped to 0", f.joules);
    f.joules = 0;
  }
  return f;
}

}  // namespace mecllm::eval
