// Hugging Face tokenizer.json reader (the "tokenizers" library's serialisation).
//
// Read: model.type "BPE" with model.vocab (text -> id) and model.merges (either "a b" strings
// or ["a", "b"] pairs, both in rank order), added_tokens (id, content, special),
// pre_tokenizer (a Split with a Regex, possibly inside a Sequence, or a ByteLevel with
// use_regex) and post_processor (a TemplateProcessing whose single template starts with a
// special token means "add BOS"). A BPE model with byte_fallback (Llama-2, Mistral) is the
// SentencePiece kind: it becomes an SpmBpeTokenizer whose scores are -(merge rank).
// A sibling tokenizer_config.json, when present, names bos_token / eos_token.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/errors.h"
#include "runtime/tokenizer.h"
#include "runtime/tokenizer_detail.h"

namespace mecllm::runtime {

namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_input_error(path, "cannot open");
  try {
    return json::parse(f);
  } catch (const json::parse_error& e) {
    throw_input_error(path, "malformed JSON at byte {}: {}", e.byte, e.what());
  }
}

const json& require(const json& obj, std::string_view key, json::value_t type, const std::string& path,
                    std::string_view where) {
  if (!obj.is_object() || !obj.contains(key))
    throw_input_error(path, "{}: missing key '{}'", where, key);
  const json& v = obj.at(std::string(key));
  if (v.type() != type)
    throw_input_error(path, "{}.{}: expected {}, found {}", where, key, json(type).type_name(), v.type_name());
  return v;
}

// The regex of the first Split pre-tokenizer, searching through Sequences; "" if none.
std::string find_split_regex(const json& pre, bool& byte_level_regex) {
  if (!pre.is_object()) return "";
  const std::string type = pre.value("type", "");
  if (type == "Split" && pre.contains("pattern") && pre["pattern"].is_object() && pre["pattern"].contains("Regex") &&
      pre["pattern"]["Regex"].is_string())
    return pre["pattern"]["Regex"].get<std::string>();
  if (type == "ByteLevel" && pre.value("use_regex", true)) byte_level_regex = true;
  if (type == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array())
    for (const auto& p : pre["pretokenizers"]) {
      std::string r = find_split_regex(p, byte_level_regex);
      if (!r.empty()) return r;
    }
  return "";
}

bool find_add_prefix_space(const json& pre) {
  if (!pre.is_object()) return false;
  if (pre.value("type", "") == "ByteLevel") return pre.value("add_prefix_space", false);
  if (pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array())
    for (const auto& p : pre["pretokenizers"])
      if (find_add_prefix_space(p)) return true;
  return false;
}

// The special token a TemplateProcessing post-processor puts before the text, if any.
std::string find_bos_in_post_processor(const json& post) {
  if (!post.is_object()) return "";
  const std::string type = post.value("type", "");
  if (type == "TemplateProcessing" && post.contains("single") && post["single"].is_array() && !post["single"].empty()) {
    const json& first = post["single"][0];
    if (first.is_object() && first.contains("SpecialToken") && first["SpecialToken"].is_object())
      return first["SpecialToken"].value("id", "");
    return "";
  }
  if (type == "Sequence" && post.contains("processors") && post["processors"].is_array())
    for (const auto& p : post["processors"]) {
      std::string r = find_bos_in_post_processor(p);
      if (!r.empty()) return r;
    }
  return "";
}

// tokenizer_config.json stores special tokens either as strings or as {"content": ...}.
std::string config_token(const json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return "";
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
  const json root = read_json(path);
  if (!root.is_object()) throw_input_error(path, "expected a JSON object at the top level, found {}", root.type_name());
  const json& model = require(root, "model", json::value_t::object, path, "tokenizer");
  const std::string model_type = model.value("type", "BPE");
  if (model_type != "BPE")
    throw_input_error(path, "model.type '{}' is not supported (expected 'BPE')", model_type);
  const json& vocab_json = require(model, "vocab", json::value_t::object, path, "model");

  // Ids: model.vocab plus added_tokens; gaps become Unused placeholders.
  int64_t max_id = -1;
  for (const auto& [text, id] : vocab_json.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1 << 24))
      throw_input_error(path, "model.vocab['{}']: id {} is not an integer in [0, 16777216]", text, id.dump());
    max_id = std::max(max_id, id.get<int64_t>());
  }
  const json empty_array = json::array();
  const json& added = root.contains("added_tokens") && !root["added_tokens"].is_null()
                          ? require(root, "added_tokens", json::value_t::array, path, "tokenizer")
                          : empty_array;
  for (size_t i = 0; i < added.size(); ++i) {
    const json& a = added[i];
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
        !a["content"].is_string() || a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() > (1 << 24))
      throw_input_error(path, "added_tokens[{}]: expected {{\"id\": integer >= 0, \"content\": string}}, found {}", i,
                        a.dump().substr(0, 120));
    max_id = std::max(max_id, a["id"].get<int64_t>());
  }
  if (max_id < 0) throw_input_error(path, "model.vocab is empty");

  Vocab v;
  const size_t n = static_cast<size_t>(max_id + 1);
  v.tokens.assign(n, "");
  v.scores.assign(n, 0.0f);
  v.types.assign(n, TokenType::Unused);
  std::vector<bool> seen(n, false);
  for (const auto& [text, id] : vocab_json.items()) {
    const size_t i = static_cast<size_t>(id.get<int64_t>());
    if (seen[i]) throw_input_error(path, "model.vocab: id {} is used by both '{}' and '{}'", i, v.tokens[i], text);
    seen[i] = true;
    v.tokens[i] = text;
    v.types[i] = TokenType::Normal;
  }
  for (const auto& a : added) {
    const size_t i = static_cast<size_t>(a["id"].get<int64_t>());
    v.tokens[i] = a["content"].get<std::string>();
    v.types[i] = a.value("special", false) ? TokenType::Control : TokenType::UserDefined;
  }
  for (size_t i = 0; i < n; ++i)
    if (v.types[i] == TokenType::Unused && v.tokens[i].empty()) v.tokens[i] = fmt::format("<unused_id_{}>", i);

  // Merges, in rank order.
  std::vector<std::pair<std::string, std::string>> merges;
  if (model.contains("merges") && !model["merges"].is_null()) {
    const json& mj = require(model, "merges", json::value_t::array, path, "model");
    merges.reserve(mj.size());
    for (size_t r = 0; r < mj.size(); ++r) {
      const json& m = mj[r];
      if (m.is_string()) {
        const std::string s = m.get<std::string>();
        const size_t sp = s.find(' ', 1);  // a merge's left side is never empty
        if (sp == std::string::npos || sp + 1 >= s.size())
          throw_input_error(path, "model.merges[{}]: '{}' is not 'left right'", r, s);
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        throw_input_error(path, "model.merges[{}]: expected \"left right\" or [left, right], found {}", r,
                          m.dump().substr(0, 120));
      }
    }
  }

  auto id_of = [&](const std::string& text) -> int32_t {
    if (text.empty()) return -1;
    for (size_t i = 0; i < n; ++i)
      if (v.tokens[i] == text && v.types[i] != TokenType::Unused) return static_cast<int32_t>(i);
    return -1;
  };
  if (model.contains("unk_token") && model["unk_token"].is_string()) v.unk_id = id_of(model["unk_token"].get<std::string>());

  // BOS/EOS: tokenizer_config.json beside the file wins; else the post-processor's leading
  // special token and the usual names.
  json cfg;
  const auto cfg_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) cfg = read_json(cfg_path.string());
  std::string bos = config_token(cfg, "bos_token");
  std::string eos = config_token(cfg, "eos_token");
  const std::string post_bos = find_bos_in_post_processor(root.value("post_processor", json()));
  if (bos.empty()) bos = post_bos;
  if (eos.empty())
    for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"})
      if (id_of(name) >= 0) {
        eos = name;
        break;
      }
  v.bos_id = id_of(bos);
  v.eos_id = id_of(eos);
  bool add_bos = !post_bos.empty();
  if (cfg.is_object() && cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
    add_bos = cfg["add_bos_token"].get<bool>();

  // SentencePiece-style BPE (byte_fallback): scores from merge ranks reproduce rank order.
  if (model.value("byte_fallback", false)) {
    std::vector<float> score(n, 0.0f);
    for (size_t i = 0; i < n; ++i)
      if (v.types[i] == TokenType::Normal && detail::parse_byte_piece(v.tokens[i]) >= 0) v.types[i] = TokenType::Byte;
    std::unordered_map<std::string, size_t> where;
    for (size_t i = 0; i < n; ++i) where.emplace(v.tokens[i], i);
    for (size_t r = 0; r < merges.size(); ++r) {
      auto it = where.find(merges[r].first + merges[r].second);
      if (it == where.end() || !where.count(merges[r].first) || !where.count(merges[r].second))
        throw_input_error(path, "merge {} '{} {}': a side or the result is not in the vocabulary", r, merges[r].first,
                          merges[r].second);
      if (score[it->second] == 0.0f) score[it->second] = -static_cast<float>(r + 1);
    }
    v.scores = std::move(score);
    if (v.unk_id < 0) v.unk_id = id_of("<unk>");
    auto tok = std::make_unique<SpmBpeTokenizer>(std::move(v), path);
    return tok;
  }

  ByteBpeModel bm;
  bm.vocab = std::move(v);
  bm.merges = std::move(merges);
  bm.ignore_merges = model.value("ignore_merges", false);
  bm.add_bos = add_bos;
  bool byte_level_regex = false;
  const json pre = root.value("pre_tokenizer", json());
  bm.pattern = find_split_regex(pre, byte_level_regex);
  bm.add_prefix_space = find_add_prefix_space(pre);
  if (bm.pattern.empty() && !byte_level_regex)
    throw_input_error(path, "pre_tokenizer: no Split regex and no ByteLevel with use_regex; cannot split text");
  bm.pre = PreTokenizer::Gpt2;
  for (PreTokenizer p : {PreTokenizer::Llama3, PreTokenizer::Qwen2})
    if (bm.pattern == pre_tokenizer_pattern(p)) bm.pre = p;
  return std::make_unique<ByteBpeTokenizer>(std::move(bm), path);
}

}  // namespace mecllm::runtime
