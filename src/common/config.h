// Config structs declare their defaults in code; YAML files and --set flags only override.
//
// A config struct exposes its fields through one member template:
//   struct ChannelConfig {
//     double bandwidth_hz = 20e6;
//     template <class V> void visit(V& v) {
//       v("bandwidth_hz", bandwidth_hz, "total uplink bandwidth B (Hz)");
//     }
//     void validate(const ConfigErrors& err) const { err.require(bandwidth_hz > 0, "bandwidth_hz", ...); }
//   };
// Nested structs (fields that have their own visit) become YAML maps; std::vector of such
// structs become YAML sequences of maps. Layers apply in order (defaults in code, then each
// file, then each --set), and every layer reports unknown keys, with a "did you mean".
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "common/errors.h"

namespace mecllm::config {

// Edit distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);
std::string did_you_mean(std::string_view key, const std::vector<std::string>& known);

// Reports a bad value at a key path ("channel.bandwidth_hz") of a config source.
struct ConfigErrors {
  std::string source;  // file path or "--set"
  std::string prefix;  // key path of the struct being validated, "" at the root
  void require(bool ok, std::string_view key, std::string_view expectation) const {
    if (!ok) fail(key, expectation);
  }
  [[noreturn]] void fail(std::string_view key, std::string_view expectation) const;
  ConfigErrors nested(std::string_view key) const {
    return {source, prefix.empty() ? std::string(key) : prefix + "." + std::string(key)};
  }
};

// ---------------------------------------------------------------- reading
class Reader {
 public:
  Reader(const YAML::Node& node, std::string source, std::string prefix)
      : node_(node), source_(std::move(source)), prefix_(std::move(prefix)) {}

  template <class T>
  void operator()(const char* key, T& field, const char* /*help*/ = "") {
    known_.emplace_back(key);
    if (!node_.IsMap()) return;
    YAML::Node child = node_[key];
    if (!child) return;
    read_value(child, field, path(key));
  }

  // Throws if the node has keys that no visited field claimed.
  void check_unknown_keys() const;

  template <class T>
  void read_value(const YAML::Node& node, T& out, const std::string& key_path) {
    if constexpr (requires { out.visit(*this); }) {
      if (!node.IsMap()) fail(key_path, "a map of settings");
      Reader nested(node, source_, key_path);
      out.visit(nested);
      nested.check_unknown_keys();
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
      if (!node.IsSequence()) fail(key_path, "a list");
      T result;
      for (size_t i = 0; i < node.size(); ++i) {
        typename T::value_type item{};
        read_value(node[i], item, key_path + "[" + std::to_string(i) + "]");
        result.push_back(std::move(item));
      }
      out = std::move(result);
    } else {
      read_scalar(node, out, key_path);
    }
  }

 private:
  std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  [[noreturn]] void fail(const std::string& key_path, std::string_view expected) const;
  void read_scalar(const YAML::Node& n, double& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, float& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, int& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, int64_t& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, uint64_t& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, bool& out, const std::string& key_path);
  void read_scalar(const YAML::Node& n, std::string& out, const std::string& key_path);

  YAML::Node node_;
  std::string source_;
  std::string prefix_;
  std::vector<std::string> known_;
};

// ---------------------------------------------------------------- writing
class Writer {
 public:
  explicit Writer(YAML::Emitter& out) : out_(out) {}
  template <class T>
  void operator()(const char* key, T& field, const char* help = "") {
    out_ << YAML::Key << key << YAML::Value;
    write_value(field);
    if (help && *help) out_ << YAML::Comment(help);
  }
  template <class T>
  void write_value(T& v) {
    if constexpr (requires { v.visit(*this); }) {
      out_ << YAML::BeginMap;
      v.visit(*this);
      out_ << YAML::EndMap;
    } else if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
      out_ << YAML::BeginSeq;
      for (auto& item : v) write_value(item);
      out_ << YAML::EndSeq;
    } else if constexpr (std::is_floating_point_v<T>) {
      out_ << YAML::Precision(10) << static_cast<double>(v);
    } else {
      out_ << v;
    }
  }

 private:
  YAML::Emitter& out_;
};

// Applies one YAML document onto obj (only the keys present), naming `source` in errors.
template <class T>
void apply_yaml(const YAML::Node& root, T& obj, const std::string& source) {
  Reader reader(root, source, "");
  if (root && !root.IsNull()) {
    if (!root.IsMap()) throw InputError(source + ": expected a YAML map at the top level");
    obj.visit(reader);
    reader.check_unknown_keys();
  }
}

// Parses a YAML file with errors that name it.
YAML::Node load_yaml_file(const std::string& path);

// Turns "a.b.c=value" into {a: {b: {c: value}}}; the value is parsed as YAML ("[1,2]", "0.1").
YAML::Node parse_set_override(const std::string& assignment);

// Serialises a config struct, with each field's help text as a comment.
template <class T>
std::string to_yaml(T& obj) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Writer w(out);
  obj.visit(w);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

// Resolves a config or scenario name: an existing path is used as is; a bare name ("tiny")
// is looked up as <config_dir>/<subdir>/<name>.yaml, then <config_dir>/<name>.yaml.
std::string resolve_config_path(const std::string& name_or_path, const std::string& subdir = "");

// The configs/ directory: $MECLLM_CONFIG_DIR, else ./configs, else the source tree's.
std::string config_dir();

// Loads layers in order onto obj: each of `files` (names or paths, see resolve_config_path),
// then each "--set key=value". Calls obj.validate(ConfigErrors) when it exists.
template <class T>
void load_layers(T& obj, const std::vector<std::string>& files, const std::vector<std::string>& sets,
                 const std::string& subdir = "") {
  for (const auto& f : files) {
    std::string path = resolve_config_path(f, subdir);
    apply_yaml(load_yaml_file(path), obj, path);
  }
  for (const auto& s : sets) apply_yaml(parse_set_override(s), obj, "--set " + s);
  if constexpr (requires { obj.validate(std::declval<const ConfigErrors&>()); }) {
    std::string source;
    for (const auto& f : files) source += (source.empty() ? "" : " + ") + resolve_config_path(f, subdir);
    for (const auto& s : sets) source += (source.empty() ? "--set " : " + --set ") + s;
    obj.validate(ConfigErrors{source.empty() ? std::string("built-in defaults") : source, ""});
  }
}

// Splits "a,b,c" into {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& s, char sep = ',');

}  // namespace mecllm::config
