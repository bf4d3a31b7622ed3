// Calibration and distillation data: documents from a text file (one per line), a QA JSONL
// file, or a factworld directory (train_bios.txt + qa_train.jsonl, the training distribution),
// tokenized with BOS and cut into fixed windows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tokenizer.h"

namespace mecllm::compress {

// Documents of `path`; InputError naming the path when it is missing or holds no text.
std::vector<std::string> read_documents(const std::string& path);

// The documents encoded (BOS each) and concatenated into one token stream.
std::vector<int32_t> token_stream(const std::vector<std::string>& docs, const runtime::Tokenizer& tok);

// Up to n_seq non-overlapping windows of seq_len tokens, evenly spread over the stream of
// `path`. InputError naming the path when the stream is shorter than min_windows windows.
std::vector<std::vector<int32_t>> calibration_windows(const std::string& path, const runtime::Tokenizer& tok,
                                                      int n_seq, int seq_len, int min_windows = 1);

}  // namespace mecllm::compress
