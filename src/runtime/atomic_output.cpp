#include "runtime/atomic_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/errors.h"

namespace mecllm::runtime {

AtomicOutput::AtomicOutput(std::string target) : target_(std::move(target)) {
  tmp_ = target_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) throw_input_error(target_, "cannot create output file: {}", std::strerror(errno));
}

AtomicOutput::~AtomicOutput() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void AtomicOutput::write(const void* data, size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, file_) != n) throw_input_error(target_, "write failed after {} bytes: {}", offset_, std::strerror(errno));
  offset_ += n;
}

void AtomicOutput::write_zeros(uint64_t n) {
  static const std::vector<char> zeros(4096, 0);
  while (n > 0) {
    size_t k = n < zeros.size() ? static_cast<size_t>(n) : zeros.size();
    write(zeros.data(), k);
    n -= k;
  }
}

void AtomicOutput::pad_to(uint64_t alignment) {
  if (alignment > 1 && offset_ % alignment != 0) write_zeros(alignment - offset_ % alignment);
}

void AtomicOutput::commit() {
  if (std::fflush(file_) != 0) throw_input_error(target_, "write failed: {}", std::strerror(errno));
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) throw_input_error(target_, "close failed: {}", std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(tmp_, target_, ec);
  if (ec) throw_input_error(target_, "cannot rename {} into place: {}", tmp_, ec.message());
  committed_ = true;
}

}  // namespace mecllm::runtime
