#include "compress/calib.h"

#include <filesystem>

#include "common/errors.h"
#include "common/log.h"
#include "llm/factworld.h"

namespace mecllm::compress {

namespace fs = std::filesystem;

std::vector<std::string> read_documents(const std::string& path) {
  if (!fs::exists(path)) throw_input_error(path, "calibration data not found");
  std::vector<std::string> docs;
  auto add_qa = [&](const fs::path& p) {
    for (const auto& item : llm::read_qa_jsonl(p)) docs.push_back(llm::qa_document(item));
  };
  if (fs::is_directory(path)) {
    fs::path dir(path);
    if (!fs::exists(dir / "train_bios.txt"))
      throw_input_error(path, "directory is not a factworld directory (no train_bios.txt)");
    docs = llm::read_lines(dir / "train_bios.txt");
    if (fs::exists(dir / "qa_train.jsonl")) add_qa(dir / "qa_train.jsonl");
  } else if (path.ends_with(".jsonl")) {
    add_qa(path);
  } else {
    docs = llm::read_lines(path);
  }
  if (docs.empty()) throw_input_error(path, "calibration data holds no documents");
  return docs;
}

std::vector<int32_t> token_stream(const std::vector<std::string>& docs, const runtime::Tokenizer& tok) {
  std::vector<int32_t> ids;
  for (const auto& d : docs) {
    auto e = tok.encode(d, true);
    ids.insert(ids.end(), e.begin(), e.end());
  }
  return ids;
}

std::vector<std::vector<int32_t>> calibration_windows(const std::string& path, const runtime::Tokenizer& tok,
                                                      int n_seq, int seq_len, int min_windows) {
  MECLLM_CHECK(n_seq > 0 && seq_len > 0 && min_windows > 0);
  auto ids = token_stream(read_documents(path), tok);
  int64_t available = static_cast<int64_t>(ids.size()) / seq_len;
  if (available < min_windows)
    throw_input_error(path, "calibration data too short: {} tokens, need at least {} ({} window(s) of {} tokens)",
                      ids.size(), static_cast<int64_t>(min_windows) * seq_len, min_windows, seq_len);
  int64_t n = std::min<int64_t>(n_seq, available);
  if (n < n_seq) log_warn("{}: {} tokens give {} calibration windows of {} (asked {})", path, ids.size(), n, seq_len, n_seq);
  std::vector<std::vector<int32_t>> out;
  // Evenly spaced window starts: deterministic and covering the whole stream.
  for (int64_t i = 0; i < n; ++i) {
    int64_t start = (available * i / n) * seq_len;
    out.emplace_back(ids.begin() + start, ids.begin() + start + seq_len);
  }
  return out;
}

}  // namespace mecllm::compress
