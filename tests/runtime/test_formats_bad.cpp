// Bad input for every checkpoint reader: one handcrafted file per check, each asserting that
// the InputError names the file and what is wrong (never a crash; CI runs this under ASan).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/gguf.h"
#include "runtime/hf_config.h"
#include "runtime/mapped_file.h"
#include "runtime/model_file.h"
#include "runtime/model_writer.h"
#include "runtime/safetensors.h"
#include "test_formats_util.h"

using namespace mecllm;
using namespace mecllm::runtime;
using namespace mecllm::runtime::testing;

namespace {

// A one-tensor GGUF whose fields can each be spoiled.
struct GgufSpec {
  uint32_t magic = 0x46554747;
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors;  // default: the real count (1)
  std::optional<uint64_t> n_kv;       // default: the real count
  bool duplicate_key = false;
  uint64_t string_length_extra = 0;   // added to the declared length of the first key
  uint32_t n_dims = 2;
  std::vector<uint64_t> ne = {32, 2};  // innermost first
  int32_t type = 0;
  uint64_t offset = 0;
  size_t data_bytes = 256;
};

std::string gguf_bytes(const GgufSpec& s) {
  Bytes b;
  b.u32(s.magic).u32(s.version).u64(s.n_tensors.value_or(1)).u64(s.n_kv.value_or(s.duplicate_key ? 3 : 2));
  const std::string key = "general.architecture";
  b.u64(key.size() + s.string_length_extra).raw(key.data(), key.size()).u32(8).str("llama");
  b.str("general.alignment").u32(4).u32(32);
  if (s.duplicate_key) b.str("general.alignment").u32(4).u32(32);
  b.str("weights").u32(s.n_dims);
  for (uint32_t d = 0; d < s.n_dims; ++d) b.u64(d < s.ne.size() ? s.ne[d] : 1);
  b.i32(s.type).u64(s.offset).pad(32);
  b.s.append(s.data_bytes, '\x01');
  return b.s;
}

void expect_gguf_error(const GgufSpec& spec, const std::vector<std::string>& parts) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  write_bytes(path, gguf_bytes(spec));
  std::vector<std::string> all = parts;
  all.push_back(path);
  expect_input_error(
      [&] {
        MappedFile m = MappedFile::open(path);
        parse_gguf(path, m.bytes());
      },
      all);
}

}  // namespace

// ---------------------------------------------------------------- GGUF structure

TEST(FormatsBad, minimal_gguf_fixture_is_valid) {
  TempDir dir;
  write_bytes(dir.file("ok.gguf"), gguf_bytes({}));
  MappedFile m = MappedFile::open(dir.file("ok.gguf"));
  GgufContents g = parse_gguf(m.path(), m.bytes());
  ASSERT_EQ(g.tensors.size(), 1u);
  EXPECT_EQ(g.tensors[0].shape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(g.tensors[0].n_bytes, 256u);
}

TEST(FormatsBad, gguf_rejects_wrong_magic) {
  GgufSpec s;
  s.magic = 0x4C4C5546;  // "FULL"
  expect_gguf_error(s, {"bad magic 'FULL'", "expected 'GGUF'"});
}

TEST(FormatsBad, gguf_rejects_truncated_header) {
  TempDir dir;
  write_bytes(dir.file("t.gguf"), gguf_bytes({}).substr(0, 14));
  expect_input_error([&] { ModelFile::open(dir.file("t.gguf")); }, {dir.file("t.gguf"), "header tensor count", "truncated"});
}

TEST(FormatsBad, gguf_rejects_unsupported_and_byte_swapped_versions) {
  GgufSpec s;
  s.version = 1;
  expect_gguf_error(s, {"GGUF version 1 is not supported"});
  s.version = 0x03000000;
  expect_gguf_error(s, {"byte-swapped", "big-endian"});
}

TEST(FormatsBad, gguf_rejects_counts_beyond_the_file) {
  GgufSpec s;
  s.n_tensors = uint64_t{1} << 60;
  expect_gguf_error(s, {"tensor count 1152921504606846976 cannot fit"});
  GgufSpec k;
  k.n_kv = 1000000;
  expect_gguf_error(k, {"key-value count 1000000 cannot fit"});
}

TEST(FormatsBad, gguf_rejects_string_length_past_eof) {
  GgufSpec s;
  s.string_length_extra = uint64_t{1} << 40;
  expect_gguf_error(s, {"string length 1099511627796 exceeds"});
}

TEST(FormatsBad, gguf_rejects_duplicate_keys) {
  GgufSpec s;
  s.duplicate_key = true;
  expect_gguf_error(s, {"duplicate key 'general.alignment'"});
}

TEST(FormatsBad, gguf_rejects_more_than_four_dims) {
  GgufSpec s;
  s.n_dims = 5;
  expect_gguf_error(s, {"tensor 'weights'", "n_dims = 5", "1..4"});
}

TEST(FormatsBad, gguf_rejects_unknown_type_id) {
  GgufSpec s;
  s.type = 3;  // ggml's Q4_1: real but unsupported here
  expect_gguf_error(s, {"tensor 'weights'", "unknown or unsupported ggml type id 3"});
  s.type = 1000;
  expect_gguf_error(s, {"type id 1000"});
}

TEST(FormatsBad, gguf_rejects_rows_that_are_not_whole_blocks) {
  GgufSpec s;
  s.type = 8;  // q8_0, 32 values per block
  s.ne = {33, 2};
  expect_gguf_error(s, {"tensor 'weights'", "q8_0 needs ne[0] % 32 == 0, got 33"});
}

TEST(FormatsBad, gguf_rejects_overflowing_shapes) {
  GgufSpec s;
  s.ne = {uint64_t{1} << 40, uint64_t{1} << 40};
  expect_gguf_error(s, {"tensor 'weights'", "overflows"});
}

TEST(FormatsBad, gguf_rejects_unaligned_offset) {
  GgufSpec s;
  s.offset = 4;
  expect_gguf_error(s, {"tensor 'weights'", "offset 4 is not a multiple of the alignment 32"});
}

TEST(FormatsBad, gguf_rejects_tensor_data_past_eof) {
  GgufSpec s;
  s.offset = 4096;
  expect_gguf_error(s, {"tensor 'weights'", "past the end of the file"});
  GgufSpec t;
  t.data_bytes = 200;  // 56 bytes short
  expect_gguf_error(t, {"tensor 'weights'", "data [0, 256)", "truncated"});
}

// ---------------------------------------------------------------- GGUF model level

TEST(FormatsBad, gguf_model_truncated_in_tensor_data_names_the_tensor) {
  TempDir dir;
  ModelConfig c = small_config();
  write_gguf(dir.file("m.gguf"), c, views_of(random_model(c, 1)));
  const std::string bytes = read_bytes(dir.file("m.gguf"));
  write_bytes(dir.file("m.gguf"), bytes.substr(0, bytes.size() - 1000));
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); }, {dir.file("m.gguf"), "tensor 'output_norm.weight'", "past the end"});
}

TEST(FormatsBad, gguf_model_with_inconsistent_config_or_shapes_is_rejected) {
  TempDir dir;
  ModelConfig c = small_config();
  auto tensors = random_model(c, 2);
  std::vector<GgufTensorData> data;
  for (const auto& t : tensors) data.push_back({t.name, t.type, t.shape, t.bytes});
  auto write_with = [&](const std::string& key, uint32_t value) {
    GgufMetadata md;
    config_to_gguf(c, md);
    md.set(key, GgufValue::of_u32(value));
    write_gguf_file(dir.file("m.gguf"), md, data);
  };
  write_with("llama.attention.head_count", 3);  // 256 % 3 != 0
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); }, {dir.file("m.gguf"), "dim = 256", "multiple of n_heads = 3"});
  write_with("llama.attention.head_count_kv", 3);  // 4 % 3 != 0
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); }, {"n_kv_heads = 3", "divisor of n_heads = 4"});
  write_with("llama.feed_forward_length", 500);
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); },
                     {dir.file("m.gguf"), "tensor 'blk.0.ffn_gate.weight' has shape [512, 256], expected [500, 256]"});
  write_with("llama.block_count", 1);
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); }, {"unexpected tensor 'blk.1.attn_norm.weight'"});
  write_with("llama.embedding_length", 1u << 30);
  expect_input_error([&] { ModelFile::open(dir.file("m.gguf")); }, {"dim = 1073741824", "expected a size in 1..1048576"});
}

// ---------------------------------------------------------------- llama2.c

TEST(FormatsBad, llama2c_rejects_file_size_mismatch_both_ways) {
  TempDir dir;
  ModelConfig c = small_config();
  write_llama2c(dir.file("m.bin"), c, views_of(random_model(c, 4)));
  const std::string bytes = read_bytes(dir.file("m.bin"));
  write_bytes(dir.file("short.bin"), bytes.substr(0, bytes.size() - 4));
  expect_input_error([&] { ModelFile::open(dir.file("short.bin")); },
                     {dir.file("short.bin"), std::to_string(bytes.size() - 4) + " bytes", "implies exactly " + std::to_string(bytes.size()), "truncated"});
  write_bytes(dir.file("long.bin"), bytes + "xxxx");
  expect_input_error([&] { ModelFile::open(dir.file("long.bin")); }, {dir.file("long.bin"), "trailing bytes"});
}

TEST(FormatsBad, llama2c_rejects_truncated_header) {
  TempDir dir;
  write_bytes(dir.file("h.bin"), Bytes{}.i32(64).i32(172).s);
  expect_input_error([&] { ModelFile::open(dir.file("h.bin")); }, {dir.file("h.bin"), "truncated llama2.c header: 8 bytes"});
}

TEST(FormatsBad, llama2c_rejects_inconsistent_and_absurd_headers) {
  TempDir dir;
  write_bytes(dir.file("a.bin"), Bytes{}.i32(65).i32(172).i32(5).i32(8).i32(4).i32(512).i32(512).s);
  expect_input_error([&] { ModelFile::open(dir.file("a.bin")); }, {dir.file("a.bin"), "dim = 65", "multiple of n_heads = 8"});
  write_bytes(dir.file("b.bin"), Bytes{}.i32(64).i32(172).i32(5).i32(8).i32(3).i32(512).i32(512).s);
  expect_input_error([&] { ModelFile::open(dir.file("b.bin")); }, {"n_kv_heads = 3", "divisor of n_heads = 8"});
  write_bytes(dir.file("c.bin"), Bytes{}.i32(64).i32(-172).i32(5).i32(8).i32(4).i32(512).i32(512).s);
  expect_input_error([&] { ModelFile::open(dir.file("c.bin")); }, {"hidden_dim = -172"});
  write_bytes(dir.file("d.bin"), Bytes{}.i32(64).i32(172).i32(1 << 30).i32(8).i32(4).i32(512).i32(512).s);
  expect_input_error([&] { ModelFile::open(dir.file("d.bin")); }, {"n_layers = 1073741824"});
}

// ---------------------------------------------------------------- safetensors

namespace {

std::string safetensors_bytes(const std::string& header_json, size_t data_bytes) {
  return Bytes{}.u64(header_json.size()).s + header_json + std::string(data_bytes, '\0');
}

void expect_safetensors_error(const std::string& header_json, size_t data_bytes, const std::vector<std::string>& parts) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, safetensors_bytes(header_json, data_bytes));
  std::vector<std::string> all = parts;
  all.push_back(path);
  expect_input_error(
      [&] {
        MappedFile m = MappedFile::open(path);
        parse_safetensors(path, m.bytes());
      },
      all);
}

}  // namespace

TEST(FormatsBad, safetensors_rejects_malformed_json) {
  expect_safetensors_error(R"({"w": {"dtype": "F32", )", 16, {"malformed JSON header"});
  expect_safetensors_error(R"([1, 2])", 16, {"JSON header is a array, expected an object"});
}

TEST(FormatsBad, safetensors_rejects_unknown_dtype) {
  expect_safetensors_error(R"({"w": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}})", 16,
                           {"tensor 'w'", "dtype 'I64' is not supported", "F32, F16 or BF16"});
}

TEST(FormatsBad, safetensors_rejects_offsets_past_eof_and_size_mismatch) {
  expect_safetensors_error(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8,
                           {"tensor 'w'", "data_offsets [0, 16] lie outside the 8-byte data section"});
  expect_safetensors_error(R"({"w": {"dtype": "F16", "shape": [4], "data_offsets": [0, 16]}})", 16,
                           {"tensor 'w'", "hold 16 bytes", "needs 8"});
  expect_safetensors_error(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}})", 16,
                           {"tensor 'w'", "larger than the file"});
  expect_safetensors_error(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},)"
                           R"( "v": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", 16,
                           {"overlaps"});
}

TEST(FormatsBad, safetensors_rejects_header_length_past_eof) {
  TempDir dir;
  write_bytes(dir.file("h.safetensors"), Bytes{}.u64(1000).s + "{}");
  expect_input_error([&] { ModelFile::open(dir.file("h.safetensors")); }, {dir.file("h.safetensors"), "header length 1000 exceeds"});
}

TEST(FormatsBad, safetensors_model_rejects_unknown_tensor_names) {
  TempDir dir;
  ModelConfig c = small_config();
  write_safetensors(dir.file("hf/"), c, views_of(random_model(c, 6)));
  write_bytes(dir.file("hf/model.safetensors"),
              safetensors_bytes(R"({"model.layers.0.mlp.experts.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 8));
  expect_input_error([&] { ModelFile::open(dir.file("hf")); }, {"model.safetensors", "model.layers.0.mlp.experts.weight", "no counterpart"});
}

// ---------------------------------------------------------------- config.json and detection

TEST(FormatsBad, hf_config_rejects_malformed_or_unsupported_files) {
  TempDir dir;
  const std::string path = dir.file("config.json");
  write_bytes(path, R"({"model_type": "llama", "hidden_size": )");
  expect_input_error([&] { read_hf_config(path); }, {path, "malformed JSON"});
  write_bytes(path, R"({"architectures": ["GPTNeoXForCausalLM"], "hidden_size": 64})");
  expect_input_error([&] { read_hf_config(path); }, {path, "architecture 'GPTNeoXForCausalLM' is not supported"});
  write_bytes(path, R"({"model_type": "llama", "intermediate_size": 172})");
  expect_input_error([&] { read_hf_config(path); }, {path, "required key 'hidden_size' is missing"});
  write_bytes(path, R"({"model_type": "llama", "hidden_size": "64"})");
  expect_input_error([&] { read_hf_config(path); }, {path, "key 'hidden_size' = \"64\", expected a positive integer"});
  write_bytes(path, R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 2,
                        "num_attention_heads": 8, "vocab_size": 32, "rope_scaling": {"rope_type": "yarn", "factor": 8}})");
  expect_input_error([&] { read_hf_config(path); }, {path, "rope_scaling", "yarn", "supported are linear and llama3"});
  // The directory reader reports the config file's problem.
  write_bytes(path, "not json");
  expect_input_error([&] { ModelFile::open(dir.path().string()); }, {path, "malformed JSON"});
}

TEST(FormatsBad, unrecognised_files_and_directories_are_named) {
  TempDir dir;
  write_bytes(dir.file("x.dat"), "hello world, not a model");
  expect_input_error([&] { ModelFile::open(dir.file("x.dat")); }, {dir.file("x.dat"), "unrecognised model file"});
  expect_input_error([&] { ModelFile::open(dir.path().string()); }, {"no config.json"});
  expect_input_error([&] { ModelFile::open(dir.file("missing.gguf")); }, {dir.file("missing.gguf"), "no such file"});
  write_bytes(dir.file("empty.gguf"), "");
  expect_input_error([&] { ModelFile::open(dir.file("empty.gguf")); }, {dir.file("empty.gguf"), "too short"});
}

// ---------------------------------------------------------------- corruption sweep

TEST(FormatsBad, random_corruptions_and_truncations_give_input_errors_never_crashes) {
  TempDir dir;
  ModelConfig c = small_config();
  c.dim = 32, c.hidden_dim = 64, c.n_layers = 1, c.n_heads = 2, c.n_kv_heads = 1, c.vocab_size = 16, c.seq_len = 16;
  const auto tensors = random_model(c, 59);
  write_gguf(dir.file("m.gguf"), c, views_of(tensors));
  write_llama2c(dir.file("m.bin"), c, views_of(tensors));
  write_safetensors(dir.file("m.safetensors"), c, views_of(tensors));
  Rng rng(61);
  int rejected = 0, accepted = 0;
  for (const std::string name : {"m.gguf", "m.bin", "m.safetensors"}) {
    const std::string good = read_bytes(dir.file(name));
    const std::string path = dir.file("bad-" + name);
    for (int trial = 0; trial < 150; ++trial) {
      std::string bytes = good;
      if (trial % 3 == 0) {
        bytes.resize(rng.next_u64() % bytes.size());
      } else {
        // Corrupt the header region most of the time: that is where the structure lives.
        const size_t span = trial % 3 == 1 ? std::min<size_t>(bytes.size(), 1024) : bytes.size();
        for (int k = 0; k < 4; ++k) bytes[rng.next_u64() % span] = static_cast<char>(rng.next_u64());
      }
      write_bytes(path, bytes);
      try {
        ModelFile m = ModelFile::open(path);
        for (const auto& t : m.tensors()) (void)m.get_f32(t.name);  // touch every byte it accepted
        ++accepted;
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 150);  // most corruptions are structural; the rest only change weight values
  EXPECT_GT(accepted, 0);
}
