#include "common/errors.h"

namespace mecllm::detail {

void check_failed(const char* file, int line, const char* cond, const std::string& msg) {
  std::string what = fmt::format("{}:{}: check failed: {}", file, line, cond);
  if (!msg.empty()) what += " (" + msg + ")";
  throw InternalError(what);
}

}  // namespace mecllm::detail
