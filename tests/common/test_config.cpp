#include <gtest/gtest.h>

#include <filesystem>

#include "common/config.h"
#include "common/rundir.h"

using namespace mecllm;

namespace {
struct Inner {
  double rate = 1.5;
  std::vector<int> sizes{1, 2};
  template <class V>
  void visit(V& v) {
    v("rate", rate, "a rate");
    v("sizes", sizes, "some sizes");
  }
};
struct Outer {
  int n = 3;
  std::string name = "x";
  bool flag = false;
  Inner inner;
  std::vector<Inner> groups;
  template <class V>
  void visit(V& v) {
    v("n", n, "a count");
    v("name", name);
    v("flag", flag);
    v("inner", inner);
    v("groups", groups);
  }
  void validate(const config::ConfigErrors& err) const { err.require(n > 0, "n", "must be > 0"); }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, DefaultsStayWhenYamlIsSilent) {
  Outer o;
  config::apply_yaml(YAML::Load("name: y"), o, "t.yaml");
  EXPECT_EQ(o.n, 3);
  EXPECT_EQ(o.name, "y");
  EXPECT_DOUBLE_EQ(o.inner.rate, 1.5);
}

TEST(Config, NestedAndListsOverride) {
  Outer o;
  config::apply_yaml(YAML::Load("inner: {rate: 2.5, sizes: [4]}\ngroups: [{rate: 7}, {}]"), o, "t.yaml");
  EXPECT_DOUBLE_EQ(o.inner.rate, 2.5);
  ASSERT_EQ(o.inner.sizes.size(), 1u);
  ASSERT_EQ(o.groups.size(), 2u);
  EXPECT_DOUBLE_EQ(o.groups[0].rate, 7);
  EXPECT_DOUBLE_EQ(o.groups[1].rate, 1.5);
}

TEST(Config, UnknownKeyIsNamedWithHint) {
  Outer o;
  std::string msg = error_of([&] { config::apply_yaml(YAML::Load("inner: {rtae: 2}"), o, "s.yaml"); });
  EXPECT_NE(msg.find("s.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("inner.rtae"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'inner.rate'"), std::string::npos) << msg;
}

TEST(Config, WrongTypeIsNamed) {
  Outer o;
  std::string msg = error_of([&] { config::apply_yaml(YAML::Load("n: abc"), o, "s.yaml"); });
  EXPECT_NE(msg.find("'n'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
}

TEST(Config, SetOverrideBuildsNestedNode) {
  Outer o;
  config::apply_yaml(config::parse_set_override("inner.rate=0.25"), o, "--set");
  EXPECT_DOUBLE_EQ(o.inner.rate, 0.25);
  EXPECT_THROW(config::parse_set_override("novalue"), InputError);
}

TEST(Config, ValidateRunsAfterLayers) {
  Outer o;
  std::string msg = error_of([&] { config::load_layers(o, {}, {"n=0"}); });
  EXPECT_NE(msg.find("'n'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("must be > 0"), std::string::npos) << msg;
}

TEST(Config, EchoRoundTrips) {
  Outer o;
  o.n = 9;
  o.inner.rate = 0.125;
  o.groups.push_back(Inner{});
  std::string yaml = config::to_yaml(o);
  Outer back;
  config::apply_yaml(YAML::Load(yaml), back, "echo");
  EXPECT_EQ(back.n, 9);
  EXPECT_DOUBLE_EQ(back.inner.rate, 0.125);
  EXPECT_EQ(back.groups.size(), 1u);
}

TEST(Config, MissingFileIsNamed) {
  Outer o;
  std::string msg = error_of([&] { config::load_layers(o, {"/nonexistent/x.yaml"}, {}); });
  EXPECT_NE(msg.find("/nonexistent/x.yaml"), std::string::npos) << msg;
}

TEST(Config, DirectoryGivenAsConfigIsNamed) {
  Outer o;
  const std::string dir = std::filesystem::temp_directory_path().string();
  std::string msg = error_of([&] { config::load_layers(o, {dir}, {}); });
  EXPECT_NE(msg.find(dir + ": is a directory"), std::string::npos) << msg;
  msg = error_of([&] { read_text_file(dir); });
  EXPECT_NE(msg.find(dir + ": is a directory"), std::string::npos) << msg;
}
