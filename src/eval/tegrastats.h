// A parser for NVIDIA tegrastats logs (`tegrastats --interval <ms> --logfile F`), the power
// figures of Jetson boards. Each line is one sample; the board's input rail reads
//   Jetson Nano / TX2 (L4T 32):   ... POM_5V_IN 1242/1242 POM_5V_GPU 0/0 ...
//   Xavier / Orin (L4T 34+):      ... VDD_IN 4567mW/4567mW VDD_CPU_GPU_CV 800mW/812mW ...
// as <current>/<average> milliwatts ("mW" suffix optional). Newer releases prefix each line
// with a timestamp "MM-DD-YYYY HH:MM:SS". Energy is the rectangle rule over the current
// readings: sum(P_i) x interval.
#pragma once

#include <string>
#include <vector>

#include "eval/energy.h"

namespace mecllm::eval {

struct TegrastatsSample {
  double current_mw = 0.0;  // instantaneous input-rail power of this sample
  double average_mw = 0.0;  // tegrastats' running average since start
};

struct TegrastatsLog {
  std::string path;
  std::string rail;  // "VDD_IN" or "POM_5V_IN" (the first found; every line must have it)
  std::vector<TegrastatsSample> samples;
};

// Parses a log file. Throws InputError "<path>:<line>: ..." on a line without the input rail
// or with a malformed reading, and on a file with no samples.
TegrastatsLog parse_tegrastats_file(const std::string& path);
TegrastatsLog parse_tegrastats(const std::string& text, const std::string& path);

// Measured energy of the logged run: sum(current) x interval, minus idle_power_w x duration
// (clamped at 0 with a note). interval_ms is the --interval the log was taken with.
EnergyFigure tegrastats_energy(const TegrastatsLog& log, double interval_ms, double idle_power_w = 0.0);

// Mean input power (W) of a log, e.g. an idle log taken as the baseline.
double tegrastats_mean_power_w(const TegrastatsLog& log);

}  // namespace mecllm::eval
