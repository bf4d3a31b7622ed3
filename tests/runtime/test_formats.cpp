// Checkpoint formats: reading the reference llama2.c model, bit-exact round trips between
// llama2.c, GGUF and safetensors/HF layouts, the q/k permutation and GGUF metadata access.
#include <gtest/gtest.h>

#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/gguf.h"
#include "runtime/hf_config.h"
#include "runtime/llama2c.h"
#include "runtime/mapped_file.h"
#include "runtime/model_file.h"
#include "runtime/model_writer.h"
#include "runtime/safetensors.h"
#include "test_formats_util.h"

using namespace mecllm;
using namespace mecllm::runtime;
using namespace mecllm::runtime::testing;

namespace {

const std::string kStories = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/stories260K.bin";
const std::string kTok512 = std::string(MECLLM_SHARED_DIR) + "/models/stories260K/tok512.bin";

// Every tensor byte-identical, same names, shapes and types (order may differ between formats).
void expect_same_tensors(const ModelFile& a, const ModelFile& b) {
  ASSERT_EQ(a.tensors().size(), b.tensors().size()) << a.path() << " vs " << b.path();
  for (const auto& t : a.tensors()) {
    const TensorView* u = b.find(t.name);
    ASSERT_NE(u, nullptr) << t.name << " missing in " << b.path();
    EXPECT_EQ(t.type, u->type) << t.name;
    EXPECT_EQ(t.shape, u->shape) << t.name;
    ASSERT_EQ(t.data.size(), u->data.size()) << t.name;
    EXPECT_EQ(std::memcmp(t.data.data(), u->data.data(), t.data.size()), 0) << t.name << " differs in " << b.path();
  }
}

}  // namespace

TEST(Formats, reads_stories260k_config_as_documented) {
  if (!fs::exists(kStories)) GTEST_SKIP() << kStories << " absent";
  ModelFile m = ModelFile::open(kStories);
  const ModelConfig& c = m.config();
  EXPECT_EQ(m.format(), ModelFormat::llama2c);
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.head_size(), 8);
  EXPECT_EQ(m.tensors().size(), 1u + 5u * 9u + 1u);
  EXPECT_EQ(m.find("output.weight"), nullptr);
  EXPECT_EQ(m.get("blk.4.attn_k.weight").shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(m.get("blk.0.ffn_down.weight").shape, (std::vector<int64_t>{64, 172}));
  // The first embedding value is the float right after the 28-byte header.
  const std::string raw = read_bytes(kStories);
  float first;
  std::memcpy(&first, raw.data() + 28, 4);
  EXPECT_EQ(m.get_f32("token_embd.weight")[0], first);
  EXPECT_EQ(c.parameter_count(), m.tensor_bytes() / 4);
  expect_input_error([&] { (void)m.get("blk.9.attn_q.weight"); }, {kStories, "blk.9.attn_q.weight", "not found"});
}

TEST(Formats, llama2c_gguf_safetensors_gguf_round_trip_is_bit_exact) {
  TempDir dir;
  std::string src = dir.file("synthetic.bin");
  ModelConfig c = small_config();
  auto tensors = random_model(c, 11);
  write_llama2c(src, c, views_of(tensors));
  if (fs::exists(kStories)) src = kStories;  // the real model when present

  ModelFile a = ModelFile::open(src);
  write_gguf(dir.file("a.gguf"), a.config(), a.tensors());
  ModelFile b = ModelFile::open(dir.file("a.gguf"));
  write_safetensors(dir.file("hf"), b.config(), b.tensors());
  ModelFile h = ModelFile::open(dir.file("hf"));
  write_gguf(dir.file("b.gguf"), h.config(), h.tensors());
  ModelFile d = ModelFile::open(dir.file("b.gguf"));

  EXPECT_EQ(b.format(), ModelFormat::gguf);
  EXPECT_EQ(h.format(), ModelFormat::hf_dir);
  EXPECT_EQ(a.config(), b.config());
  EXPECT_EQ(a.config(), h.config());
  EXPECT_EQ(a.config(), d.config());
  expect_same_tensors(a, b);
  expect_same_tensors(a, h);
  expect_same_tensors(a, d);
  EXPECT_EQ(read_bytes(dir.file("a.gguf")), read_bytes(dir.file("b.gguf")));
}

TEST(Formats, llama2c_writer_reproduces_the_reader_tensors_for_untied_models) {
  TempDir dir;
  ModelConfig c = small_config();
  c.tied_embeddings = false;
  auto tensors = random_model(c, 3);
  write_llama2c(dir.file("m.bin"), c, views_of(tensors));
  // Negative vocab in the header marks the unshared classifier.
  int32_t header[7];
  std::memcpy(header, read_bytes(dir.file("m.bin")).data(), sizeof header);
  EXPECT_EQ(header[5], -c.vocab_size);
  ModelFile m = ModelFile::open(dir.file("m.bin"));
  EXPECT_FALSE(m.config().tied_embeddings);
  EXPECT_EQ(fs::file_size(dir.file("m.bin")), llama2c_file_size(c));
  for (const auto& t : tensors) {
    const TensorView& v = m.get(t.name);
    ASSERT_EQ(v.data.size(), t.bytes.size());
    EXPECT_EQ(std::memcmp(v.data.data(), t.bytes.data(), t.bytes.size()), 0) << t.name;
  }
}

TEST(Formats, hf_llama_q_k_rows_are_permuted_to_interleaved_on_read_and_back_on_write) {
  TempDir dir;
  ModelConfig c = small_config();
  auto tensors = random_model(c, 5);
  write_safetensors(dir.file("hf/"), c, views_of(tensors));
  // In the file, HF row h*hs + i*hs/2 + j holds our row h*hs + 2j + i.
  MappedFile map = MappedFile::open(dir.file("hf/model.safetensors"));
  SafetensorsHeader h = parse_safetensors(map.path(), map.bytes());
  const OwnedTensor* ours = nullptr;
  for (const auto& t : tensors)
    if (t.name == "blk.1.attn_k.weight") ours = &t;
  ASSERT_NE(ours, nullptr);
  const SafetensorsTensor* st = nullptr;
  for (const auto& t : h.tensors)
    if (t.name == "model.layers.1.self_attn.k_proj.weight") st = &t;
  ASSERT_NE(st, nullptr);
  const size_t row = static_cast<size_t>(c.dim) * 4, hs = c.head_size();
  for (size_t head = 0; head < static_cast<size_t>(c.n_kv_heads); ++head)
    for (size_t i = 0; i < 2; ++i)
      for (size_t j = 0; j < hs / 2; ++j) {
        const size_t hf_row = head * hs + i * hs / 2 + j, il_row = head * hs + 2 * j + i;
        ASSERT_EQ(std::memcmp(map.bytes().data() + st->begin + hf_row * row, ours->bytes.data() + il_row * row, row), 0)
            << "head " << head << " i " << i << " j " << j;
      }
  // Unpermuted tensors go through unchanged, and reading undoes the permutation.
  ModelFile m = ModelFile::open(dir.file("hf"));
  for (const auto& t : tensors)
    EXPECT_EQ(std::memcmp(m.get(t.name).data.data(), t.bytes.data(), t.bytes.size()), 0) << t.name;
  EXPECT_TRUE(fs::exists(dir.file("hf/config.json")));
}

TEST(Formats, qwen2_qwen3_and_mistral_configs_survive_gguf_and_safetensors) {
  for (const std::string arch : {"qwen2", "qwen3", "mistral"}) {
    TempDir dir;
    ModelConfig c = small_config(arch);
    auto tensors = random_model(c, 17);
    write_gguf(dir.file("m.gguf"), c, views_of(tensors));
    ModelFile g = ModelFile::open(dir.file("m.gguf"));
    EXPECT_EQ(g.config(), c) << arch << ": " << g.config().summary();
    EXPECT_EQ(g.gguf_metadata()->get_string("general.architecture"), arch == "mistral" ? "llama" : arch);
    write_safetensors(dir.file("m.safetensors"), g.config(), g.tensors());
    ModelFile s = ModelFile::open(dir.file("m.safetensors"));
    EXPECT_EQ(s.config(), c) << arch << ": " << s.config().summary();
    expect_same_tensors(g, s);
  }
}

TEST(Formats, reads_sharded_hf_directory_through_its_index) {
  TempDir dir;
  ModelConfig c = small_config();
  auto tensors = random_model(c, 23);
  write_safetensors(dir.file("one/"), c, views_of(tensors));
  // Split the single file into two shards by hand: first half of the tensors, second half.
  MappedFile map = MappedFile::open(dir.file("one/model.safetensors"));
  SafetensorsHeader h = parse_safetensors(map.path(), map.bytes());
  fs::create_directories(dir.file("sharded"));
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  const size_t half = h.tensors.size() / 2;
  for (int shard = 0; shard < 2; ++shard) {
    const std::string name = fmt::format("model-0000{}-of-00002.safetensors", shard + 1);
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (size_t k = shard == 0 ? 0 : half; k < (shard == 0 ? half : h.tensors.size()); ++k) {
      const auto& t = h.tensors[k];
      header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + (t.end - t.begin)}}};
      data.append(reinterpret_cast<const char*>(map.bytes().data() + t.begin), t.end - t.begin);
      index["weight_map"][t.name] = name;
    }
    const std::string text = header.dump();
    write_bytes(dir.file("sharded/" + name), Bytes{}.u64(text.size()).s + text + data);
  }
  write_bytes(dir.file("sharded/model.safetensors.index.json"), index.dump());
  fs::copy_file(dir.file("one/config.json"), dir.file("sharded/config.json"));
  ModelFile a = ModelFile::open(dir.file("one"));
  ModelFile b = ModelFile::open(dir.file("sharded"));
  EXPECT_EQ(a.config(), b.config());
  expect_same_tensors(a, b);

  // An index naming a tensor its shard lacks is an error naming that shard and tensor.
  index["weight_map"]["model.layers.0.mlp.extra.weight"] = "model-00001-of-00002.safetensors";
  write_bytes(dir.file("sharded/model.safetensors.index.json"), index.dump());
  expect_input_error([&] { ModelFile::open(dir.file("sharded")); },
                     {"model-00001-of-00002.safetensors", "model.layers.0.mlp.extra.weight", "not in this shard"});
}

TEST(Formats, gguf_metadata_getters_are_typed_and_name_the_key) {
  TempDir dir;
  ModelConfig c = small_config();
  auto tensors = random_model(c, 29);
  GgufMetadata extra;
  extra.set("general.name", GgufValue::of_string("tiny"));
  extra.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  std::vector<std::string> toks;
  for (int i = 0; i < c.vocab_size; ++i) toks.push_back(fmt::format("t{}", i));
  extra.set("tokenizer.ggml.tokens", GgufValue::of_strings(toks));
  std::vector<float> scores(c.vocab_size, -1.5f);
  extra.set("tokenizer.ggml.scores", GgufValue::of_f32s(scores));
  extra.set("llama.block_count", GgufValue::of_u32(99));  // a model key in `extra` loses to the config
  write_gguf(dir.file("m.gguf"), c, views_of(tensors), extra);

  ModelFile m = ModelFile::open(dir.file("m.gguf"));
  const GgufMetadata* md = m.gguf_metadata();
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(md->get_int("llama.block_count"), 2);
  EXPECT_EQ(md->get_string("general.name"), "tiny");
  EXPECT_EQ(md->get_string_array("tokenizer.ggml.tokens"), toks);
  EXPECT_EQ(md->get_float_array("tokenizer.ggml.scores"), scores);
  EXPECT_EQ(md->get_int("general.file_type"), 0);
  EXPECT_FALSE(md->find_int("llama.no_such_key").has_value());
  EXPECT_EQ(md->find_string_array("tokenizer.ggml.merges"), nullptr);
  expect_input_error([&] { md->get_int("llama.no_such_key"); }, {dir.file("m.gguf"), "llama.no_such_key", "missing"});
  expect_input_error([&] { md->get_string("llama.block_count"); }, {"llama.block_count", "uint32", "expected string"});
  // ModelFile::open of a .bin path that is a GGUF still works by magic.
  fs::copy_file(dir.file("m.gguf"), dir.file("m.bin"));
  EXPECT_EQ(detect_format(dir.file("m.bin")), ModelFormat::gguf);
}

TEST(Formats, failed_writes_leave_no_file_behind) {
  TempDir dir;
  ModelConfig c = small_config();
  auto tensors = random_model(c, 31);
  tensors[3] = convert_tensor(tensors[3].view(), QuantType::Q8_0);
  expect_input_error([&] { write_llama2c(dir.file("m.bin"), c, views_of(tensors)); }, {"m.bin", "q8_0", "f32"});
  EXPECT_FALSE(fs::exists(dir.file("m.bin")));
  expect_input_error([&] { write_safetensors(dir.file("m.safetensors"), c, views_of(tensors)); }, {"q8_0"});
  EXPECT_FALSE(fs::exists(dir.file("m.safetensors")));
  tensors.pop_back();  // drop output_norm
  expect_input_error([&] { write_gguf(dir.file("m.gguf"), c, views_of(tensors)); }, {"output_norm.weight", "missing"});
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Formats, hf_config_reads_the_family_fields) {
  nlohmann::json j = {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 1024},
                      {"intermediate_size", 3072}, {"num_hidden_layers", 28}, {"num_attention_heads", 16},
                      {"num_key_value_heads", 8}, {"head_dim", 128}, {"vocab_size", 151936},
                      {"max_position_embeddings", 40960}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000},
                      {"tie_word_embeddings", true}, {"bos_token_id", 151643}, {"eos_token_id", 151645},
                      {"rope_scaling", nullptr}, {"hidden_act", "silu"}};
  ModelConfig c = config_from_hf_json(j, "config.json");
  EXPECT_EQ(c.arch, "qwen3");
  EXPECT_EQ(c.head_size(), 128);
  EXPECT_EQ(c.q_dim(), 2048);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.attn_bias);
  EXPECT_EQ(c.rope_style, RopeStyle::neox);
  EXPECT_EQ(c.eos_id, 151645);
  EXPECT_NEAR(c.parameter_count(), 596e6, 2e6);  // Qwen3-0.6B without the tied head counted twice

  nlohmann::json m = {{"model_type", "mistral"}, {"hidden_size", 4096}, {"intermediate_size", 14336},
                      {"num_hidden_layers", 32}, {"num_attention_heads", 32}, {"num_key_value_heads", 8},
                      {"vocab_size", 32000}, {"sliding_window", 4096}, {"eos_token_id", {2, 3}}};
  ModelConfig mc = config_from_hf_json(m, "config.json");
  EXPECT_EQ(mc.sliding_window, 4096);
  EXPECT_EQ(mc.eos_id, 2);
  EXPECT_EQ(mc.rope_style, RopeStyle::interleaved);
  EXPECT_FALSE(mc.tied_embeddings);
  EXPECT_NEAR(mc.parameter_count(), 7.24e9, 0.01e9);  // Mistral-7B
}

TEST(Mapping, dropped_pages_read_back_from_the_file) {
  TempDir dir;
  std::string bytes(3 * 4096 + 100, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  write_bytes(dir.file("pages.bin"), bytes);
  MappedFile m = MappedFile::open(dir.file("pages.bin"));
  const std::span<const std::byte> all = m.bytes();
  ASSERT_EQ(all.size(), bytes.size());
  EXPECT_TRUE(m.drop_pages(all.subspan(10, 2 * 4096 + 50)));  // one whole page inside, parts of two
  EXPECT_TRUE(m.drop_pages(all));
  EXPECT_EQ(std::memcmp(all.data(), bytes.data(), bytes.size()), 0);
  const std::vector<std::byte> elsewhere(64);
  EXPECT_FALSE(m.drop_pages(elsewhere)) << "memory outside the mapping is never touched";
}
