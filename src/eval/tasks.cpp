#include "eval/tasks.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::eval {

namespace {

using Json = nlohmann::ordered_json;

// One record of a file: where it came from, for messages ("qa.jsonl:12").
struct Record {
  const Json& obj;
  std::string where;

  std::string shown(const Json& v) const {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& expected, const Json* found) const {
    throw InputError(where + ": key '" + key + "': expected " + expected +
                     (found ? ", got " + shown(*found) : ", but it is missing"));
  }
  const Json* find(const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  std::string str(const std::string& key) const {
    const Json* v = find(key);
    if (!v || !v->is_string()) fail(key, "a string", v);
    return v->get<std::string>();
  }
  std::string str_or(const std::string& key, const std::string& fallback) const {
    return find(key) ? str(key) : fallback;
  }
  bool boolean(const std::string& key) const {
    const Json* v = find(key);
    if (!v || !v->is_boolean()) fail(key, "true or false", v);
    return v->get<bool>();
  }
};

// Calls fn(Record) for each object of a JSONL file (blank lines skipped), or of a top-level
// JSON array when allow_array and the file starts with '['.
template <class Fn>
void for_each_record(const std::string& path, bool allow_array, Fn&& fn) {
  std::string text = read_text_file(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw InputError(path + ": empty file, expected at least one item");
  if (allow_array && text[first] == '[') {
    Json arr;
    try {
      arr = Json::parse(text);
    } catch (const Json::parse_error& e) {
      throw InputError(path + ": malformed JSON: " + e.what());
    }
    for (size_t i = 0; i < arr.size(); ++i) {
      std::string where = path + ": item " + std::to_string(i);
      if (!arr[i].is_object()) throw InputError(where + ": expected a JSON object");
      fn(Record{arr[i], where});
    }
    return;
  }
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(line_no);
    Json obj;
    try {
      obj = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw InputError(where + ": malformed JSON line: " + e.what());
    }
    if (!obj.is_object()) throw InputError(where + ": expected a JSON object per line");
    fn(Record{obj, where});
  }
}

// A {choice: 0|1} map of TruthfulQA, order kept.
void read_targets(const Record& r, const std::string& key, std::vector<std::string>& choices,
                  std::vector<int>& labels) {
  const Json* v = r.find(key);
  if (!v || !v->is_object() || v->empty()) r.fail(key, "a non-empty map {choice: 0 or 1}", v);
  for (auto it = v->begin(); it != v->end(); ++it) {
    const Json& label = it.value();
    if (!label.is_number_integer() || (label.get<int64_t>() != 0 && label.get<int64_t>() != 1))
      r.fail(key + "." + it.key(), "0 or 1", &label);
    choices.push_back(it.key());
    labels.push_back(label.get<int>());
  }
}

}  // namespace

std::vector<QaItem> load_factworld_jsonl(const std::string& path) {
  std::vector<QaItem> items;
  for_each_record(path, false, [&](const Record& r) {
    QaItem q;
    q.id = r.str_or("id", r.where);
    q.question = r.str("question");
    q.answer = r.str("answer");
    q.answerable = r.boolean("answerable");
    q.difficulty = r.str("difficulty");
    const auto& classes = difficulty_classes();
    if (std::find(classes.begin(), classes.end(), q.difficulty) == classes.end()) {
      const Json* d = r.find("difficulty");
      r.fail("difficulty", "one of easy, medium, hard", d);
    }
    q.split = r.str("split");
    if (q.split.empty()) r.fail("split", "a non-empty split name", r.find("split"));
    if (q.question.empty()) r.fail("question", "a non-empty question", r.find("question"));
    if (q.answerable && q.answer.empty()) r.fail("answer", "a non-empty answer for an answerable question", r.find("answer"));
    items.push_back(std::move(q));
  });
  return items;
}

std::vector<QaItem> load_halueval_qa(const std::string& path) {
  std::vector<QaItem> items;
  for_each_record(path, true, [&](const Record& r) {
    QaItem q;
    q.id = r.where;
    q.context = r.str("knowledge");
    q.question = r.str("question");
    q.answer = r.str("right_answer");
    q.hallucinated_answer = r.str("hallucinated_answer");
    q.answerable = true;
    q.split = "test";
    if (q.question.empty()) r.fail("question", "a non-empty question", r.find("question"));
    if (q.answer.empty()) r.fail("right_answer", "a non-empty answer", r.find("right_answer"));
    items.push_back(std::move(q));
  });
  return items;
}

std::vector<McItem> load_mc_jsonl(const std::string& path) {
  std::vector<McItem> items;
  for_each_record(path, false, [&](const Record& r) {
    McItem m;
    m.id = r.str_or("id", r.where);
    if (r.find("query")) m.query = r.str("query");
    else if (r.find("question")) m.query = r.str("question");
    else r.fail("query", "a string (or 'question')", nullptr);
    const Json* choices = r.find("choices");
    if (!choices || !choices->is_array() || choices->size() < 2)
      r.fail("choices", "a list of at least 2 strings", choices);
    for (size_t i = 0; i < choices->size(); ++i) {
      if (!(*choices)[i].is_string()) r.fail("choices[" + std::to_string(i) + "]", "a string", &(*choices)[i]);
      m.choices.push_back((*choices)[i].get<std::string>());
    }
    const Json* gold = r.find("gold");
    if (!gold || !gold->is_number_integer() || gold->get<int64_t>() < 0 ||
        gold->get<int64_t>() >= static_cast<int64_t>(m.choices.size()))
      r.fail("gold", "an integer index in [0, " + std::to_string(m.choices.size()) + ")", gold);
    m.gold = gold->get<int>();
    items.push_back(std::move(m));
  });
  return items;
}

std::vector<TruthfulQaItem> load_truthfulqa_mc(const std::string& path) {
  std::vector<TruthfulQaItem> items;
  for_each_record(path, true, [&](const Record& r) {
    TruthfulQaItem t;
    t.question = r.str("question");
    read_targets(r, "mc1_targets", t.mc1_choices, t.mc1_labels);
    read_targets(r, "mc2_targets", t.mc2_choices, t.mc2_labels);
    int mc1_true = 0, mc2_true = 0;
    for (int l : t.mc1_labels) mc1_true += l;
    for (int l : t.mc2_labels) mc2_true += l;
    if (mc1_true != 1)
      throw InputError(r.where + ": key 'mc1_targets': expected exactly one choice labelled 1, got " +
                       std::to_string(mc1_true));
    if (mc2_true == 0 || mc2_true == static_cast<int>(t.mc2_labels.size()))
      throw InputError(r.where + ": key 'mc2_targets': expected at least one true and one false choice, got " +
                       std::to_string(mc2_true) + " true of " + std::to_string(t.mc2_labels.size()));
    items.push_back(std::move(t));
  });
  return items;
}

std::string load_text(const std::string& path) {
  std::string text = read_text_file(path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InputError(path + ": empty text file, expected text to score");
  return text;
}

}  // namespace mecllm::eval
