#include "common/rundir.h"

#include <ftw.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <system_error>

#include "common/errors.h"

namespace mecllm {

void remove_tree(const std::filesystem::path& dir) {
  auto remove_one = [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path) == 0 ? 0 : -1; };
  ::nftw(dir.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path.string() + ": cannot open for writing");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw InputError(path.string() + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw InputError(path.string() + ": cannot rename into place: " + ec.message());
}

std::string read_text_file(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) throw InputError(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": malformed JSON: " + e.what());
  }
}

std::filesystem::path default_run_dir(const std::string& name) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return std::filesystem::path("runs") / (name + "__" + stamp);
}

RunDir::RunDir(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw InputError(dir_.string() + ": cannot create run directory: " + ec.message());
}

void RunDir::log_metrics(int64_t step, const nlohmann::json& values) {
  if (!metrics_.is_open()) {
    metrics_.open(file("metrics.jsonl"), std::ios::app);
    if (!metrics_) throw InputError(file("metrics.jsonl").string() + ": cannot open for appending");
  }
  nlohmann::json line = values;
  line["step"] = step;
  metrics_ << line.dump() << '\n';
  metrics_.flush();
}

}  // namespace mecllm
