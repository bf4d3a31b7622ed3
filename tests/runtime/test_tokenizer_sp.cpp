// SentencePiece tokenizer.model files, on tiny BPE and Unigram models trained here with
// sentencepiece's own trainer (no downloaded files). Our ModelProto reader must see what
// libsentencepiece sees, and a BPE model loaded through it (SpmBpeTokenizer) must give
// libsentencepiece's ids: the library is the oracle (this test binary does not link LibTorch, so
// the library loads here).
#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "common/rundir.h"
#include "runtime/tokenizer.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::runtime;

namespace {

// Trains a model of `type` with `extra` trainer flags into its own file `name`.model (two
// configurations of one type must not share a file: tests run in one process would read the
// other's model); returns the .model path.
std::string train_tiny(const std::string& name, const std::string& type, const std::string& extra) {
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
  const std::string prefix = (dir / ("tiny_" + name)).string();
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + corpus + " --model_prefix=" + prefix + " --model_type=" + type +
      " --vocab_size=330 --byte_fallback=true --character_coverage=1.0 --hard_vocab_limit=false --minloglevel=2 " +
      extra);
  if (!status.ok()) throw std::runtime_error("sentencepiece training failed: " + status.ToString());
  return prefix + ".model";
}

// Llama-2-like: BPE, byte fallback, no normalisation, whitespace kept.
const std::string& tiny_model() {
  static const std::string path =
      train_tiny("bpe_identity", "bpe", "--normalization_rule_name=identity --remove_extra_whitespaces=false");
  return path;
}

const std::vector<std::string> kTexts{
    "Once upon a time", "Hello robots!", "  two  spaces and a tab\t", "caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80",
    "the sea and the park", "zzz qqq 12345", "",
};

}  // namespace

TEST(SentencePieceTokenizer, loads_and_round_trips_a_trained_model) {
  auto tok = load_tokenizer(tiny_model());
  ASSERT_EQ(tok->kind(), "spm-bpe");  // read by our ModelProto reader, no libsentencepiece
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
  SentencePieceTokenizer sp(tiny_model());
  SpmBpeTokenizer ours(sp.vocab(), "same vocab");
  for (const auto& t : kTexts) EXPECT_EQ(ours.encode(t, true), sp.encode(t, true)) << t;
  EXPECT_EQ(ours.encode("robot", false), sp.encode("robot", false));
  auto loaded = load_tokenizer(tiny_model());
  for (const auto& t : kTexts) EXPECT_EQ(loaded->encode(t, true, true), sp.encode(t, true, true)) << t;
}

TEST(SentencePieceTokenizer, model_proto_reader_sees_what_libsentencepiece_sees) {
  SentencePieceTokenizer sp(tiny_model());
  const SentencePieceModel m = read_sentencepiece_model(tiny_model());
  EXPECT_EQ(m.vocab.tokens, sp.vocab().tokens);
  EXPECT_EQ(m.vocab.scores, sp.vocab().scores);
  EXPECT_EQ(m.vocab.types, sp.vocab().types);
  EXPECT_EQ(m.vocab.bos_id, sp.bos_id());
  EXPECT_EQ(m.vocab.eos_id, sp.eos_id());
  EXPECT_EQ(m.vocab.unk_id, sp.vocab().unk_id);
  EXPECT_EQ(m.vocab.pad_id, sp.vocab().pad_id);
  EXPECT_EQ(m.model_type_name(), "bpe");
  EXPECT_TRUE(m.byte_fallback);
  EXPECT_EQ(m.normalizer, "identity");
  EXPECT_FALSE(m.remove_extra_whitespaces);
  EXPECT_TRUE(m.add_dummy_prefix);
  EXPECT_TRUE(m.spm_bpe_exact());
}

TEST(SentencePieceTokenizer, bpe_model_that_collapses_whitespace_matches_libsentencepiece) {
  const std::string path = train_tiny("bpe_collapse", "bpe", "--normalization_rule_name=identity");  // trainer default: collapse
  SentencePieceTokenizer sp(path);
  const SentencePieceModel m = read_sentencepiece_model(path);
  ASSERT_TRUE(m.remove_extra_whitespaces);
  auto ours = load_tokenizer(path);
  EXPECT_EQ(ours->kind(), "spm-bpe");
  std::vector<std::string> texts = kTexts;
  texts.insert(texts.end(), {"   ", " lead and trail  ", "a \t b", "x  </s>  y"});
  for (const auto& t : texts) EXPECT_EQ(ours->encode(t, true), sp.encode(t, true)) << "'" << t << "'";
  // (With parse_special, text around a control piece is split first; there the dummy prefix
  // goes only before the opening fragment, as llama.cpp does, which no library call defines.)
}

TEST(SentencePieceTokenizer, unigram_and_normalised_models_go_to_libsentencepiece) {
  const std::string unigram = train_tiny("unigram", "unigram", "");
  const SentencePieceModel m = read_sentencepiece_model(unigram);
  EXPECT_EQ(m.model_type_name(), "unigram");
  EXPECT_TRUE(m.remove_extra_whitespaces);  // the trainer's defaults: nmt_nfkc, whitespace collapsed
  EXPECT_TRUE(m.has_charsmap);
  EXPECT_FALSE(m.spm_bpe_exact());
  auto tok = load_tokenizer(unigram);
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->decode(tok->encode("hello robots", true)), "hello robots");
}

TEST(SentencePieceTokenizer, truncated_or_corrupt_model_files_are_input_errors) {
  const std::string bytes = read_text_file(tiny_model());
  ASSERT_GT(bytes.size(), 100u);
  for (size_t keep : {size_t{1}, size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      parse_sentencepiece_model("cut.model", std::string_view(bytes).substr(0, keep));
      // a cut can fall exactly between two pieces; then the file is a smaller valid model
      EXPECT_NE(keep, size_t{1});
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("cut.model"), std::string::npos) << e.what();
    }
  }
  std::string bad = bytes;
  bad[0] = static_cast<char>(0x0F);  // field 1 with wire type 7: invalid
  EXPECT_THROW(parse_sentencepiece_model("bad.model", bad), InputError);
  EXPECT_THROW(parse_sentencepiece_model("empty.model", ""), InputError);  // no pieces
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
  auto sp = std::make_unique<SentencePieceTokenizer>(tiny_model());
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
