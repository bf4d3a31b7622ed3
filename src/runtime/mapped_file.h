// A read-only memory mapping of a whole file (RAII, move-only), so checkpoint tensors are used
// in place without copying: the pages are read on first touch and shared between processes.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace mecllm::runtime {

class MappedFile {
 public:
  MappedFile() = default;
  // Maps `path` read-only. Throws InputError naming the path when it cannot be opened or
  // mapped (missing, a directory, unreadable). An empty file maps to an empty span.
  static MappedFile open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(addr_), size_}; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // When `range` lies inside this mapping, drops its whole pages from the process (they are
  // read from the file again if touched) and returns true: for data copied elsewhere at load.
  bool drop_pages(std::span<const std::byte> range) const noexcept;

 private:
  void release() noexcept;
  std::string path_;
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace mecllm::runtime
