// Pieces shared by the tokenizer implementations; not part of the public API.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tokenizer.h"

namespace mecllm::runtime::detail {

// A run of plain text, or one special token found verbatim in the text.
struct Fragment {
  std::string_view text;
  int32_t special_id = -1;  // >= 0: this fragment is that token
};

// Splits text at every occurrence of a special token's text (longest match wins at a
// position, leftmost first). Empty token texts are ignored.
std::vector<Fragment> split_on_specials(std::string_view text, std::span<const int32_t> special_ids,
                                        const Vocab& vocab);

// "<0xXX>" -> XX, otherwise -1.
int parse_byte_piece(std::string_view piece);

// Types for a vocabulary whose file does not store them (llama2.c layout): ids 0/1/2 are
// UNK/BOS/EOS, "<0xXX>" pieces are bytes, the rest normal.
std::vector<TokenType> derive_spm_types(std::span<const std::string> tokens);

}  // namespace mecllm::runtime::detail
