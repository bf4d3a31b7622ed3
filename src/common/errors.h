// Error types shared by every mecllm library.
//
// Two kinds of failure, as in ggml:
//  - bad input (a checkpoint, GGUF, YAML, profile JSON, flag): expected; throw InputError whose
//    message names the file, the field/key/tensor, the value found and what was expected;
//  - a broken invariant (caller misuse, a bug): MECLLM_CHECK throws InternalError carrying file,
//    line and the failed condition, so tests can catch it instead of aborting.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace mecllm {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Prefixes a message with the path of the file it concerns ("model.gguf: ...").
template <typename... Args>
[[noreturn]] void throw_input_error(std::string_view path, fmt::format_string<Args...> f, Args&&... args) {
  throw InputError(fmt::format("{}: {}", path, fmt::format(f, std::forward<Args>(args)...)));
}

namespace detail {
[[noreturn]] void check_failed(const char* file, int line, const char* cond, const std::string& msg);
}  // namespace detail

}  // namespace mecllm

// MECLLM_CHECK(cond) or MECLLM_CHECK(cond, "fmt {}", args...): for invariants, never user input.
#define MECLLM_CHECK(cond, ...)                                                                  \
  do {                                                                                          \
    if (!(cond)) ::mecllm::detail::check_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
  } while (0)
