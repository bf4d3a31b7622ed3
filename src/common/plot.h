// Line plots through gnuplot (a Debian package the setup script installs). Each plot writes
// <name>.png plus <name>.dat and <name>.gp beside it, so a person can restyle and re-run it.
// If gnuplot is missing the data and script are still written and a warning says so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mecllm {

struct PlotSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> y_err;  // optional: same size as y draws a shaded 95% band / error bars
};

struct PlotSpec {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool logx = false;
  bool logy = false;
  bool points = true;  // draw markers on the lines
  std::vector<PlotSeries> series;
};

// Writes <out_stem>.png (and .dat/.gp). Returns true if the PNG was produced.
bool plot_lines(const PlotSpec& spec, const std::filesystem::path& out_stem);

}  // namespace mecllm
