// A file written under a temporary name and renamed into place by commit(), so a failed or
// interrupted writer leaves nothing at the target path (LLVM's ToolOutputFile::keep idea).
// Streams, so multi-gigabyte checkpoints are never held in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace mecllm::runtime {

class AtomicOutput {
 public:
  // Creates "<target>.tmp.<pid>" (parent directories must exist). InputError naming target.
  explicit AtomicOutput(std::string target);
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  ~AtomicOutput();  // removes the temporary file unless commit() succeeded

  void write(const void* data, size_t n);
  void write(std::span<const std::byte> data) { write(data.data(), data.size()); }
  template <class T>
  void write_pod(const T& v) { write(&v, sizeof v); }
  void write_zeros(uint64_t n);
  void pad_to(uint64_t alignment);  // zero bytes up to the next multiple of alignment
  uint64_t offset() const { return offset_; }
  const std::string& target() const { return target_; }

  void commit();  // flush, fsync-free close, rename over target

 private:
  std::string target_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  bool committed_ = false;
};

}  // namespace mecllm::runtime
