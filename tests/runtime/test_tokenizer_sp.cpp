// SentencePiece tokenizer.model through libsentencepiece, on a tiny BPE model trained here with
// sentencepiece's own trainer (no downloaded files). The same vocabulary through our
// SpmBpeTokenizer must give the same ids: libsentencepiece is the oracle for the SPM algorithm.
#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "runtime/tokenizer.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// Trains once per test binary; returns the .model path.
const std::string& tiny_model() {
  static const std::string path = [] {
    const fs::path dir = fs::temp_directory_path() / ("mecllm_toksp_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string corpus = (dir / "corpus.txt").string();
    {
      std::ofstream f(corpus);
      const char* lines[] = {
          "Once upon a time there was a little robot who liked the sea.",
          "The robot and the girl played in the park every day.",
          "Hello world, hello robots, hello edge servers and phones.",
          "Latency, energy and accuracy are the three things we measure.",
          "She saw a big red ball and wanted to play with it.",
      };
      for (int rep = 0; rep < 20; ++rep)
        for (const char* l : lines) f << l << "\n";
    }
    const std::string prefix = (dir / "tiny").string();
    const auto status = sentencepiece::SentencePieceTrainer::Train(
        "--input=" + corpus + " --model_prefix=" + prefix +
        " --model_type=bpe --vocab_size=330 --byte_fallback=true --character_coverage=1.0"
        " --normalization_rule_name=identity --remove_extra_whitespaces=false --hard_vocab_limit=false"
        " --minloglevel=2");
    if (!status.ok()) throw std::runtime_error("sentencepiece training failed: " + status.ToString());
    return prefix + ".model";
  }();
  return path;
}

const std::vector<std::string> kTexts{
    "Once upon a time", "Hello robots!", "  two  spaces and a tab\t", "caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80",
    "the sea and the park", "zzz qqq 12345", "",
};

}  // namespace

TEST(SentencePieceTokenizer, loads_and_round_trips_a_trained_model) {
  auto tok = load_tokenizer(tiny_model());
  ASSERT_EQ(tok->kind(), "sentencepiece");
  EXPECT_GE(tok->vocab_size(), 259);  // 3 specials + 256 byte pieces + merges
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->token_type(0), TokenType::Unknown);
  EXPECT_EQ(tok->token_type(1), TokenType::Control);
  EXPECT_EQ(tok->token_type(3), TokenType::Byte);
  for (const auto& t : kTexts) {
    auto ids = tok->encode(t, true, true);
    EXPECT_EQ(ids.front(), 1);
    EXPECT_EQ(ids.back(), 2);
    EXPECT_EQ(tok->decode(ids), t) << t;
    std::string streamed;
    for (size_t i = 1; i < ids.size(); ++i) streamed += tok->decode_piece(ids[i - 1], ids[i]);
    EXPECT_EQ(streamed, t) << t;
  }
}

TEST(SentencePieceTokenizer, our_spm_bpe_matches_libsentencepiece_ids) {
  auto sp = load_tokenizer(tiny_model());
  SpmBpeTokenizer ours(sp->vocab(), "same vocab");
  for (const auto& t : kTexts) EXPECT_EQ(ours.encode(t, true), sp->encode(t, true)) << t;
  EXPECT_EQ(ours.encode("robot", false), sp->encode("robot", false));
}

TEST(SentencePieceTokenizer, parse_special_maps_control_text) {
  auto tok = load_tokenizer(tiny_model());
  auto ids = tok->encode("a</s>b", false, false, true);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 2), ids.end());
  auto plain = tok->encode("a</s>b", false);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 2), plain.end());
}

TEST(SentencePieceTokenizer, rejects_a_file_that_is_not_a_model) {
  const fs::path p = fs::temp_directory_path() / ("mecllm_toksp_bad_" + std::to_string(::getpid()) + ".model");
  std::ofstream(p) << "this is not a protobuf";
  try {
    load_tokenizer(p.string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

// A Llama-2-style HF tokenizer.json (BPE + byte_fallback, pieces spelled with U+2581) made from
// the trained model: merges listed in the order of the pieces' scores, as HF's converter does.
// Loaded through load_hf_tokenizer it must become the SPM kind and match libsentencepiece.
TEST(SentencePieceTokenizer, hf_byte_fallback_json_matches_libsentencepiece) {
  auto sp = load_tokenizer(tiny_model());
  const Vocab& v = sp->vocab();
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t i = 0; i < v.tokens.size(); ++i) vocab[v.tokens[i]] = i;
  std::vector<size_t> order;
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] == TokenType::Normal) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.scores[a] > v.scores[b]; });
  nlohmann::json merges = nlohmann::json::array();
  for (size_t i : order) {
    const std::string& t = v.tokens[i];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      const std::string l = t.substr(0, cut), r = t.substr(cut);
      if (vocab.contains(l) && vocab.contains(r)) merges.push_back(l + " " + r);
    }
  }
  nlohmann::json added = nlohmann::json::array();
  added.push_back({{"id", 0}, {"content", "<unk>"}, {"special", true}});
  added.push_back({{"id", 1}, {"content", "<s>"}, {"special", true}});
  added.push_back({{"id", 2}, {"content", "</s>"}, {"special", true}});
  nlohmann::json doc = {
      {"added_tokens", added},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", nlohmann::json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}}},
      {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", merges}}}};
  const fs::path dir = fs::temp_directory_path() / ("mecllm_toksp_hf_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tokenizer.json").string();
  std::ofstream(path) << doc.dump();
  auto hf = load_tokenizer(path);
  EXPECT_EQ(hf->kind(), "spm-bpe");
  EXPECT_EQ(hf->bos_id(), 1);
  EXPECT_EQ(hf->eos_id(), 2);
  for (const auto& t : kTexts) {
    EXPECT_EQ(hf->encode(t, true), sp->encode(t, true)) << t;
    EXPECT_EQ(hf->decode(hf->encode(t, true)), t) << t;
  }
}
