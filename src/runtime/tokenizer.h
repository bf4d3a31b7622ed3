// Tokenizers: text <-> token ids for the model families mecllm reads.
//
// Three kinds, one interface (docs/tokenizers.md has the algorithms and policies):
//  - SpmBpeTokenizer: SentencePiece-style BPE driven by merge *scores* with byte fallback
//    <0xXX> (llama2.c tok*.bin, Llama-2, Mistral; GGUF tokenizer.ggml.model = "llama");
//  - ByteBpeTokenizer: GPT-2 byte-level BPE driven by ranked *merges*, with the Llama-3 or
//    Qwen2 pre-tokenizer split (HF tokenizer.json; GGUF tokenizer.ggml.model = "gpt2");
//  - SentencePieceTokenizer: a SentencePiece tokenizer.model through libsentencepiece.
//
// Every vocabulary is a table of (text, score, type) per id, as GGUF stores it
// (tokenizer.ggml.tokens / .scores / .token_type); for byte-level BPE the text is the
// GPT-2 byte-to-unicode spelling (" the" is stored as "Ġthe").
//
// Invalid UTF-8 policy: encode() never fails on bytes; bytes that are not valid UTF-8 go
// through byte fallback (SPM) or the byte alphabet (byte-level BPE), so decode(encode(s)) == s
// for every byte string s. decode() returns raw bytes and never repairs them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mecllm::runtime {

// Token types as GGUF / llama.cpp number them (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,      // <s>, </s>, <|begin_of_text|>: never produced from plain text
  UserDefined = 4,  // added tokens matched verbatim before splitting ([INST], <|im_start|>)
  Unused = 5,
  Byte = 6,         // <0xXX> byte-fallback pieces
};

// The per-id table every tokenizer exposes; also what the GGUF writer stores.
struct Vocab {
  std::vector<std::string> tokens;  // (vocab_size) piece text as stored in the file
  std::vector<float> scores;        // (vocab_size) SPM merge score; 0 for byte-level BPE
  std::vector<TokenType> types;     // (vocab_size)
  int32_t bos_id = -1;              // -1: this vocabulary has none
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
};

class Tokenizer {
 public:
  virtual ~Tokenizer();

  // add_bos/add_eos wrap the ids with BOS/EOS (ignored when the vocab has none).
  // parse_special: control tokens' text such as "<|im_start|>" or "[INST]" becomes their id
  // instead of being spelled out piece by piece (off by default: user text must not inject
  // control tokens). User-defined (non-special added) tokens are matched either way.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                                      bool parse_special = false) const = 0;

  // Whole sequence to text. Control tokens (BOS/EOS/...) are dropped; SPM's leading dummy
  // space is removed once at the start.
  virtual std::string decode(std::span<const int32_t> ids) const;

  // Streaming, llama2.c semantics: the bytes token `id` adds after token `prev`
  // (SPM: the leading space of a piece right after BOS, or at the start when prev == -1, is
  // stripped; <0xXX> becomes the byte; control tokens give ""). A piece may end inside a UTF-8
  // character: streaming callers buffer until the bytes are complete before printing.
  virtual std::string decode_piece(int32_t prev, int32_t id) const;

  virtual int32_t vocab_size() const;
  virtual int32_t bos_id() const;
  virtual int32_t eos_id() const;
  virtual std::string_view token_text(int32_t id) const;  // throws InternalError when out of range
  virtual float score(int32_t id) const;
  virtual TokenType token_type(int32_t id) const;
  std::optional<int32_t> find_token(std::string_view text) const;

  // "spm-bpe", "byte-bpe", "sentencepiece": for messages and `mecllm tokenize`.
  virtual std::string_view kind() const = 0;
  const Vocab& vocab() const { return vocab_; }

 protected:
  Tokenizer() = default;
  explicit Tokenizer(Vocab vocab);
  void set_vocab(Vocab vocab);  // fills the text -> id index too

  // Transparent hashing, so lookups take a std::string_view without building a std::string.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Vocab vocab_;
  std::unordered_map<std::string, int32_t, TextHash, std::equal_to<>> index_;  // token text -> id (first id wins)
};

// ---------------------------------------------------------------------------------------------
// SentencePiece-style BPE with scores and byte fallback (llama2.c's encode()).
class SpmBpeTokenizer final : public Tokenizer {
 public:
  // tokens/scores/types must have equal sizes; types may be empty (then derived: ids 0..2 are
  // UNK/BOS/EOS when spelled <unk>/<s>/</s>, "<0xXX>" pieces are Byte, the rest Normal).
  // `source` names the origin in error messages (a path, "memory").
  SpmBpeTokenizer(std::vector<std::string> tokens, std::vector<float> scores, std::vector<TokenType> types,
                  std::string source = "memory");
  explicit SpmBpeTokenizer(Vocab vocab, std::string source = "memory");

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                              bool parse_special = false) const override;
  std::string decode_piece(int32_t prev, int32_t id) const override;
  std::string_view kind() const override { return "spm-bpe"; }

  bool add_dummy_prefix = true;  // SentencePiece's "▁" / llama2.c's leading " "
  bool remove_extra_whitespaces = false;  // SentencePiece's normaliser flag: trim, collapse ' ' runs

 private:
  void init(std::string source);
  void encode_segment(std::string_view text, bool dummy_prefix, std::vector<int32_t>& out) const;

  std::vector<int32_t> byte_ids_;  // (256) id of <0xXX>, -1 when the vocab lacks it
  std::vector<int32_t> specials_;      // Control + UserDefined ids: matched when parse_special
  std::vector<int32_t> user_defined_;  // UserDefined ids: matched in any text
  bool spaces_are_metaspace_ = false;  // pieces spell ' ' as U+2581 (HF/GGUF), not ' ' (llama2.c)
};

// Reads llama2.c's tokenizer file: int32 max_token_length, then per token float32 score,
// int32 byte length, the bytes. vocab_size is not stored in the file: pass it when known
// (the checkpoint header has it), or 0 to read tokens until EOF.
std::unique_ptr<SpmBpeTokenizer> load_llama2c_tokenizer(const std::string& path, int32_t vocab_size = 0);

// Writes the llama2.c layout (max_token_length computed from the tokens).
void write_llama2c_tokenizer(const std::string& path, std::span<const std::string> tokens,
                             std::span<const float> scores);

// ---------------------------------------------------------------------------------------------
// GPT-2 style byte-level BPE (Llama-3, Qwen2).
enum class PreTokenizer { Gpt2, Llama3, Qwen2 };

struct ByteBpeModel {
  Vocab vocab;                                              // tokens in byte-to-unicode spelling
  std::vector<std::pair<std::string, std::string>> merges;  // rank order, best first
  PreTokenizer pre = PreTokenizer::Llama3;
  std::string pattern;         // split regex; empty: the standard one for `pre`
  bool ignore_merges = false;  // HF "ignore_merges": a pre-token that is a token is kept whole
  bool add_prefix_space = false;
  bool add_bos = true;  // the family's default, used by callers that follow the file
};

// The published split regexes (docs/tokenizers.md cites their sources).
std::string_view pre_tokenizer_pattern(PreTokenizer pre);
std::string_view pre_tokenizer_name(PreTokenizer pre);  // "gpt2", "llama3", "qwen2"

class ByteBpeTokenizer final : public Tokenizer {
 public:
  ByteBpeTokenizer(ByteBpeModel model, std::string source = "memory");
  ~ByteBpeTokenizer() override;

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                              bool parse_special = false) const override;
  std::string decode_piece(int32_t prev, int32_t id) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string_view kind() const override { return "byte-bpe"; }
  PreTokenizer pre_tokenizer() const { return pre_; }
  const std::vector<std::pair<std::string, std::string>>& merges() const;  // rank order
  bool add_bos_default() const;

  // Splits text into pre-tokens with the configured regex (exposed for tests).
  std::vector<std::string_view> pre_split(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  PreTokenizer pre_;
};

// Byte <-> printable code point map of GPT-2's bytes_to_unicode(), as UTF-8 strings.
std::string byte_to_unicode(uint8_t b);
// Inverse over a whole piece; bytes that are not in the map come back unchanged.
std::string unicode_to_bytes(std::string_view piece);

// Reads a Hugging Face tokenizer.json (model.type "BPE"): vocab, merges, added_tokens and the
// pre_tokenizer (Llama-3 / Qwen2 / GPT-2 regex detected from the file). SentencePiece-style
// files (Llama-2/Mistral: byte_fallback, Metaspace) come back as an SpmBpeTokenizer.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);

// ---------------------------------------------------------------------------------------------
// What a SentencePiece tokenizer.model (a protobuf ModelProto) holds that the tokenizers need,
// read by our own wire-format reader (tokenizer_spm_model.cpp); InputError naming the file and
// byte offset on a truncated or malformed file.
struct SentencePieceModel {
  Vocab vocab;                       // pieces, scores, types; unk/bos/eos/pad from TrainerSpec
  int model_type = 1;                // TrainerSpec.ModelType: 1 unigram, 2 bpe, 3 word, 4 char
  bool byte_fallback = false;
  std::string normalizer;            // NormalizerSpec.name ("identity", "nmt_nfkc", ...)
  bool has_charsmap = false;         // a precompiled normalisation table is present
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;

  std::string_view model_type_name() const;
  // Whether SpmBpeTokenizer gives exactly SentencePiece's ids: BPE without a normalisation
  // table (Llama 2 / Mistral / TinyLlama ship this), whitespace collapsing or not.
  bool spm_bpe_exact() const;
};
SentencePieceModel parse_sentencepiece_model(const std::string& path, std::string_view data);
SentencePieceModel read_sentencepiece_model(const std::string& path);

// A tokenizer.model: SpmBpeTokenizer when spm_bpe_exact(), else libsentencepiece (Unigram,
// normalised models), with a clear InputError where libsentencepiece cannot load in this binary.
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path);

// ---------------------------------------------------------------------------------------------
// A SentencePiece tokenizer.model through libsentencepiece.
class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& path);
  ~SentencePieceTokenizer() override;

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false,
                              bool parse_special = false) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string decode_piece(int32_t prev, int32_t id) const override;
  std::string_view kind() const override { return "sentencepiece"; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// GGUF: the tokenizer.ggml.* keys as llama.cpp names them (model "llama" -> SpmBpeTokenizer,
// "gpt2" -> ByteBpeTokenizer with the split chosen by tokenizer.ggml.pre: "llama-bpe" ->
// Llama-3, "qwen2" -> Qwen2, anything else -> GPT-2). Errors name metadata.path() and the key.
class GgufMetadata;
std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufMetadata& metadata);
// Sets tokenizer.ggml.model/pre/tokens/scores/token_type/merges and the special token ids.
void tokenizer_to_gguf(const Tokenizer& tokenizer, GgufMetadata& metadata);

// ---------------------------------------------------------------------------------------------
// By file: *.gguf (tokenizer.ggml.*), tokenizer.json, *.model (SentencePiece), otherwise the
// llama2.c layout (tok*.bin). Throws InputError naming the path on any problem.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace mecllm::runtime
