#include <gtest/gtest.h>

#include <filesystem>

#include "common/rundir.h"
#include "llm/train_config.h"

namespace fs = std::filesystem;
using namespace mecllm;
using namespace mecllm::llm;

namespace {
std::string error_of(const std::vector<std::string>& files, const std::vector<std::string>& sets) {
  try {
    load_train_lm_config(files, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
fs::path write_temp(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / (name + std::to_string(::getpid()) + ".yaml");
  write_file_atomic(p, text);
  return p;
}
}  // namespace

TEST(TrainConfig, shipped_presets_load_and_validate) {
  const std::string dir = std::string(MECLLM_SOURCE_DIR) + "/configs/lm/";
  for (const char* preset : {"defaults", "tiny", "base"}) {
    auto cfg = load_train_lm_config({dir + "defaults.yaml", dir + preset + ".yaml"}, {});
    EXPECT_GT(cfg.steps, 0) << preset;
  }
  auto tiny = load_train_lm_config({dir + "defaults.yaml", dir + "tiny.yaml"}, {"steps=7"});
  EXPECT_EQ(tiny.steps, 7);
  EXPECT_EQ(tiny.model.dim, 64);
}

TEST(TrainConfig, rejects_unknown_key_naming_file_and_suggestion) {
  const fs::path p = write_temp("lm_unknown", "optim:\n  lrr: 0.1\n");
  const std::string msg = error_of({p.string()}, {});
  EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("optim.lrr"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lr"), std::string::npos) << msg;
  fs::remove(p);
}

TEST(TrainConfig, rejects_malformed_yaml_and_wrong_types) {
  const fs::path bad = write_temp("lm_bad", "steps: [1, 2\n");
  EXPECT_NE(error_of({bad.string()}, {}).find(bad.string()), std::string::npos);
  const fs::path wrong = write_temp("lm_wrong", "steps: many\n");
  const std::string msg = error_of({wrong.string()}, {});
  EXPECT_NE(msg.find("steps"), std::string::npos) << msg;
  EXPECT_NE(msg.find("many"), std::string::npos) << msg;
  fs::remove(bad);
  fs::remove(wrong);
}

TEST(TrainConfig, rejects_inconsistent_model_shapes_naming_the_key) {
  EXPECT_NE(error_of({}, {"model.dim=100"}).find("model.dim"), std::string::npos);
  EXPECT_NE(error_of({}, {"model.n_kv_heads=3"}).find("model.n_kv_heads"), std::string::npos);
  EXPECT_NE(error_of({}, {"model.rope_style=spiral"}).find("model.rope_style"), std::string::npos);
  EXPECT_NE(error_of({}, {"device=tpu"}).find("device"), std::string::npos);
  EXPECT_NE(error_of({}, {"export_types=[q4]"}).find("export_types"), std::string::npos);
  EXPECT_NE(error_of({}, {"data.world.n_entities=1"}).find("data.world.n_entities"), std::string::npos);
  EXPECT_EQ(error_of({}, {"model.rope_style=neox", "model.qk_norm=true"}), "");
}

TEST(TrainConfig, model_section_maps_onto_runtime_model_config) {
  LmModelConfig m;
  m.qk_norm = true;
  m.rope_style = "neox";
  auto c = m.to_model_config(512);
  EXPECT_EQ(c.arch, "qwen3");
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.rope_style, runtime::RopeStyle::neox);
  EXPECT_NO_THROW(c.validate("test"));
}
