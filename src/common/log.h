// Library logging through a settable sink, so libraries never own stdout (ggml_log_set style).
// The CLI keeps the default sink, which writes to stderr; tests may install a capturing sink.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <string_view>

namespace mecllm {

enum class LogLevel { debug, info, warn, error };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Replaces the sink and returns the previous one. A null sink silences logging.
LogSink set_log_sink(LogSink sink);
void set_log_level(LogLevel min_level);
void log_message(LogLevel level, std::string_view message);

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_message(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  log_message(LogLevel::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  log_message(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mecllm
