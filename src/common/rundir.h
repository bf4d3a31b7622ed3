// A run directory: config echo first, metrics as JSONL, a summary JSON, plots. Files are written
// to a temporary name and renamed in, so a crash never leaves a half-written artifact.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace mecllm {

// Writes `content` to path atomically (tmp file + rename). Throws InputError naming the path.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
std::string read_text_file(const std::filesystem::path& path);
nlohmann::json read_json_file(const std::filesystem::path& path);

// Removes a directory tree (a missing one is not an error) with POSIX nftw(), not
// std::filesystem::remove_all: PyTorch's pip wheels (seen with 2.11.0+cu130) export std::filesystem
// symbols linked statically into libtorch_cpu.so (pytorch/pytorch#133437) that interpose
// libstdc++'s, and remove_all of a non-empty directory then jumped to address 0 in a program
// linked against that LibTorch (docs/llm.md, "CUDA check").
void remove_tree(const std::filesystem::path& dir);

// "<name>__<YYYYmmdd-HHMMSS>" under runs/, used when the user gives no --out.
std::filesystem::path default_run_dir(const std::string& name);

class RunDir {
 public:
  // Creates the directory (and parents). Existing files are kept: a resumed run appends.
  explicit RunDir(std::filesystem::path dir);
  const std::filesystem::path& path() const { return dir_; }
  std::filesystem::path file(const std::string& name) const { return dir_ / name; }

  void write_config(const std::string& yaml) const { write_file_atomic(file("config.yaml"), yaml); }
  void write_json(const std::string& name, const nlohmann::json& j) const {
    write_file_atomic(file(name), j.dump(2) + "\n");
  }
  // Appends one line {"step": step, key: value...} to metrics.jsonl.
  void log_metrics(int64_t step, const nlohmann::json& values);

 private:
  std::filesystem::path dir_;
  std::ofstream metrics_;
};

}  // namespace mecllm
