#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "common/clock.h"

namespace mecllm {

namespace {
std::string format_duration(double s) {
  if (s < 0 || s > 1e7) return "?";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  return fmt::format("{}m{:02}s", t / 60, t % 60);
}
}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1),
      tty_(isatty(STDERR_FILENO) == 1), start_(SteadyClock::now()), last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return mecllm::seconds_since(start_);
}

void Progress::update(int64_t done, const std::string& status) {
  done_ = done;
  status_ = status;
  auto now = SteadyClock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    draw(false);
  } else {
    int decile = static_cast<int>(10 * done_ / total_);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    draw(false);
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (!status.empty()) status_ = status;
  draw(true);
}

void Progress::draw(bool final_line) {
  double elapsed = elapsed_seconds();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  int pct = static_cast<int>(100 * done_ / total_);
  constexpr int width = 24;
  int filled = static_cast<int>(width * done_ / total_);
  std::string bar(static_cast<size_t>(std::max(0, std::min(width, filled))), '#');
  bar.resize(width, '.');
  std::string line = fmt::format("{} [{}] {:3}% {}/{} {} | {:.3g} {}/s | {} {}", label_, bar, pct, done_, total_,
                                 unit_, rate, unit_, final_line ? "took" : "eta",
                                 format_duration(final_line ? elapsed : eta));
  if (!status_.empty()) line += " | " + status_;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace mecllm
