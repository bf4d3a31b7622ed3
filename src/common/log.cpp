#include "common/log.h"

#include <cstdio>
#include <mutex>

namespace mecllm {
namespace {

void stderr_sink(LogLevel level, std::string_view message) {
  const char* prefix = level == LogLevel::warn ? "warning: " : level == LogLevel::error ? "error: " : "";
  std::fprintf(stderr, "%s%.*s\n", prefix, static_cast<int>(message.size()), message.data());
}

struct LogState {
  std::mutex mutex;
  LogSink sink = stderr_sink;
  LogLevel min_level = LogLevel::info;
};

LogState& state() {
  static LogState s;
  return s;
}

}  // namespace

LogSink set_log_sink(LogSink sink) {
  std::lock_guard lock(state().mutex);
  std::swap(state().sink, sink);
  return sink;
}

void set_log_level(LogLevel min_level) {
  std::lock_guard lock(state().mutex);
  state().min_level = min_level;
}

void log_message(LogLevel level, std::string_view message) {
  std::lock_guard lock(state().mutex);
  if (level < state().min_level || !state().sink) return;
  state().sink(level, message);
}

}  // namespace mecllm
