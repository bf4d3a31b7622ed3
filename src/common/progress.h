// A one-line progress bar on stderr for long jobs: done/total, rate, ETA and caller fields.
// Redraws at most every 200 ms; on a non-terminal (CI logs) it prints a plain line every ~10%.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace mecllm {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "steps");
  // Sets the absolute amount done and an optional status text ("loss 2.31 kl 0.02").
  void update(int64_t done, const std::string& status = "");
  // Prints the final line with the total elapsed time.
  void finish(const std::string& status = "");
  double elapsed_seconds() const;

 private:
  void draw(bool final_line);
  std::string label_;
  std::string unit_;
  std::string status_;
  int64_t total_;
  int64_t done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  bool finished_ = false;
  SteadyClock::time_point start_;
  SteadyClock::time_point last_draw_;
};

}  // namespace mecllm
