// Runs the real `mecllm` binary of this build from the repository root (so configs/ and models/
// resolve as for a user) and captures what it prints. For the end-to-end CLI tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace mecllm::testing {

struct CliResult {
  int status = -1;     // the exit status, -1 when the process could not start or was killed
  std::string output;  // stdout and stderr together
};

inline CliResult run_mecllm(const std::string& args) {
  const std::string cmd =
      "cd " + std::string(MECLLM_SOURCE_DIR) + " && " + std::string(MECLLM_BINARY_DIR) + "/bin/mecllm " + args + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace mecllm::testing
