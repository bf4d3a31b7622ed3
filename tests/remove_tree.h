// Removes a directory tree with POSIX nftw(), not std::filesystem::remove_all.
//
// Why: PyTorch's pip wheels (seen with 2.11.0+cu130) export std::filesystem symbols that were
// linked statically into libtorch_cpu.so (pytorch/pytorch#133437). In a program linked against
// that LibTorch they interpose libstdc++'s own, and std::filesystem::remove_all of a non-empty
// directory then jumped to address 0 in the CUDA check (docs/llm.md, "CUDA check"). The tests
// that run there clean up through this helper instead.
#pragma once

#include <ftw.h>

#include <cstdio>
#include <filesystem>

namespace mecllm::testing {

inline void remove_tree(const std::filesystem::path& dir) {
  auto remove_one = [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path) == 0 ? 0 : -1; };
  ::nftw(dir.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);  // a missing dir is not an error here
}

}  // namespace mecllm::testing
