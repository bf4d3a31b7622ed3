#include "common/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "common/rundir.h"

namespace mecllm::config {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string did_you_mean(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(3, key.size() / 3) + 1;
  for (const auto& k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

void ConfigErrors::fail(std::string_view key, std::string_view expectation) const {
  std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  throw InputError(source + ": '" + path + "': " + std::string(expectation));
}

void Reader::check_unknown_keys() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    std::string key = kv.first.as<std::string>();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string full = prefix_.empty() ? key : prefix_ + "." + key;
    std::string hint = did_you_mean(key, known_);
    if (!hint.empty() && !prefix_.empty()) hint = " (did you mean '" + prefix_ + "." + hint.substr(16);
    throw InputError(source_ + ": unknown key '" + full + "'" + hint);
  }
}

void Reader::fail(const std::string& key_path, std::string_view expected) const {
  throw InputError(source_ + ": '" + key_path + "': expected " + std::string(expected));
}

namespace {
template <class T>
bool convert(const YAML::Node& n, T& out) {
  if (!n.IsScalar()) return false;
  try {
    out = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}
std::string shown(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  return n.IsSequence() ? "a list" : n.IsMap() ? "a map" : "nothing";
}
}  // namespace

void Reader::read_scalar(const YAML::Node& n, double& out, const std::string& key_path) {
  if (!convert(n, out)) fail(key_path, "a number, got " + shown(n));
}
void Reader::read_scalar(const YAML::Node& n, float& out, const std::string& key_path) {
  double d = 0;
  if (!convert(n, d)) fail(key_path, "a number, got " + shown(n));
  out = static_cast<float>(d);
}
void Reader::read_scalar(const YAML::Node& n, int& out, const std::string& key_path) {
  if (!convert(n, out)) fail(key_path, "an integer, got " + shown(n));
}
void Reader::read_scalar(const YAML::Node& n, int64_t& out, const std::string& key_path) {
  long long v = 0;
  if (!convert(n, v)) fail(key_path, "an integer, got " + shown(n));
  out = v;
}
void Reader::read_scalar(const YAML::Node& n, uint64_t& out, const std::string& key_path) {
  unsigned long long v = 0;
  if (!convert(n, v) || (n.IsScalar() && !n.Scalar().empty() && n.Scalar()[0] == '-'))
    fail(key_path, "a non-negative integer, got " + shown(n));
  out = v;
}
void Reader::read_scalar(const YAML::Node& n, bool& out, const std::string& key_path) {
  if (!convert(n, out)) fail(key_path, "true or false, got " + shown(n));
}
void Reader::read_scalar(const YAML::Node& n, std::string& out, const std::string& key_path) {
  if (!n.IsScalar()) fail(key_path, "a string, got " + shown(n));
  out = n.Scalar();
}

YAML::Node load_yaml_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw InputError(path + ": no such config file");
  const std::string text = read_text_file(path);  // names a directory or an unreadable file
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw InputError(path + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": cannot read: " + e.what());
  }
}

YAML::Node parse_set_override(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected key.path=value");
  std::string key = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  YAML::Node leaf;
  try {
    leaf = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw InputError("--set " + assignment + ": cannot parse value: " + e.what());
  }
  std::vector<std::string> parts = split_list(key, '.');
  if (parts.empty()) throw InputError("--set " + assignment + ": empty key");
  YAML::Node node = leaf;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    YAML::Node parent(YAML::NodeType::Map);
    parent[*it] = node;
    node = parent;
  }
  return node;
}

std::string config_dir() {
  if (const char* env = std::getenv("MECLLM_CONFIG_DIR"); env && *env) return env;
  if (std::filesystem::is_directory("configs")) return "configs";
#ifdef MECLLM_SOURCE_CONFIG_DIR
  return MECLLM_SOURCE_CONFIG_DIR;
#else
  return "configs";
#endif
}

std::string resolve_config_path(const std::string& name_or_path, const std::string& subdir) {
  namespace fs = std::filesystem;
  if (fs::exists(name_or_path)) return name_or_path;
  bool bare = name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos;
  if (bare) {
    fs::path dir = config_dir();
    if (!subdir.empty() && fs::exists(dir / subdir / (name_or_path + ".yaml")))
      return (dir / subdir / (name_or_path + ".yaml")).string();
    if (fs::exists(dir / (name_or_path + ".yaml"))) return (dir / (name_or_path + ".yaml")).string();
  }
  throw InputError(name_or_path + ": no such config file" +
                   (bare ? " (looked in " + config_dir() + (subdir.empty() ? "" : "/" + subdir) + ")" : ""));
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace mecllm::config
