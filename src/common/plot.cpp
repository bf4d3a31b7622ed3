#include "common/plot.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

#include "common/log.h"
#include "common/rundir.h"

namespace mecllm {

namespace {
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

bool plot_lines(const PlotSpec& spec, const std::filesystem::path& out_stem) {
  std::filesystem::path dat = out_stem, gp = out_stem, png = out_stem;
  dat += ".dat";
  gp += ".gp";
  png += ".png";

  // One gnuplot data block per series, separated by two blank lines (addressed with `index`).
  std::string data;
  for (const auto& s : spec.series) {
    data += "# " + s.name + "\n";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      double err = i < s.y_err.size() ? s.y_err[i] : 0.0;
      data += fmt::format("{:.9g} {:.9g} {:.9g}\n", s.x[i], s.y[i], err);
    }
    data += "\n\n";
  }
  write_file_atomic(dat, data);

  std::string script;
  script += "set terminal pngcairo size 900,600 enhanced font 'sans,11'\n";
  script += "set output " + quote(png.filename().string()) + "\n";
  script += "set title " + quote(spec.title) + "\n";
  script += "set xlabel " + quote(spec.xlabel) + "\nset ylabel " + quote(spec.ylabel) + "\n";
  script += "set grid\nset key outside right top\nset style fill transparent solid 0.2 noborder\n";
  if (spec.logx) script += "set logscale x\n";
  if (spec.logy) script += "set logscale y\n";
  std::string plots;
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const auto& s = spec.series[i];
    std::string file = quote(dat.filename().string());
    if (!s.y_err.empty()) {
      plots += fmt::format("{} index {} using 1:($2-$3):($2+$3) with filledcurves lc {} notitle, ", file, i, i + 1);
    }
    plots += fmt::format("{} index {} using 1:2 with {} lc {} lw 2 title {}, ", file, i,
                         spec.points ? "linespoints pt 7 ps 0.8" : "lines", i + 1, quote(s.name));
  }
  if (plots.empty()) return false;
  plots.resize(plots.size() - 2);
  script += "plot " + plots + "\n";
  write_file_atomic(gp, script);

  std::string cmd = fmt::format("cd {} && gnuplot {} 2>/dev/null", quote(std::filesystem::absolute(out_stem).parent_path().string()),
                                quote(gp.filename().string()));
  if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(png)) {
    log_warn("plot: gnuplot failed or is missing; data and script kept at {} and {}", dat.string(), gp.string());
    return false;
  }
  return true;
}

}  // namespace mecllm
