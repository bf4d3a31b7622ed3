#include <gtest/gtest.h>

#include "common/rundir.h"
#include "eval/model_card.h"
#include "eval/profile_writer.h"
#include "test_util.h"

#ifdef MECLLM_EVAL_TEST_HAS_MEC
#include "mec/profile.h"
#endif

using namespace mecllm::eval;
using namespace mecllm::eval::testing;
using nlohmann::json;

namespace {
ModelFootprint small_model(double weight_bytes) {
  ModelFootprint m;
  m.name = "tiny";
  m.n_params = 4'000'000;
  m.weight_bytes = weight_bytes;
  m.token_embd_bytes = weight_bytes / 10;
  m.n_layers = 4;
  m.kv_dim = 64;
  m.q_dim = 128;
  m.seq_len = 512;
  m.vocab_size = 1024;
  m.dim = 128;
  return m;
}
DeviceClass dev(const std::string& name, double usable_gb) {
  DeviceClass d;
  d.name = name;
  d.memory_bandwidth_gbs = 20;
  d.peak_gflops = 50;
  d.memory_gb = usable_gb;
  d.usable_memory_gb = usable_gb;
  d.active_power_w = 8;
  d.idle_power_w = 2;
  return d;
}
// A card whose factworld result has easy and hard items only (medium falls back to overall).
ModelCard make_card(double weight_bytes) {
  ModelCard c;
  c.model_path = "/models/tiny.gguf";
  c.arch_summary = "llama tiny";
  c.footprint = small_model(weight_bytes);
  c.file_bytes = weight_bytes + 1000;
  c.host_decode_tok_s = Figure{120.0, "tok/s", Provenance::measured, "best of 3"};
  c.host_prefill_tok_s = Figure{900.0, "tok/s", Provenance::measured, "best of 3"};
  c.accessibility = assess_accessibility(c.footprint, {dev("host", 16), dev("small-board", 0.2)}, RooflineCalibration{},
                                         c.accessibility_config);
  std::vector<QaItem> items(4);
  items[0].difficulty = "easy", items[0].answer = "a", items[0].split = "heldout";
  items[1].difficulty = "easy", items[1].answer = "b", items[1].split = "heldout";
  items[2].difficulty = "hard", items[2].answer = "c", items[2].split = "heldout";
  items[3].difficulty = "hard", items[3].answerable = false, items[3].split = "unanswerable";
  const auto& p = default_abstention_phrases();
  std::vector<QaPrediction> preds{judge_answer(items[0], "a", p), judge_answer(items[1], "x", p),
                                  judge_answer(items[2], "unknown", p), judge_answer(items[3], "unknown", p)};
  c.factworld = aggregate_qa(items, preds, QaConfig{});
  return c;
}
}  // namespace

TEST(ModelCard, json_labels_every_figure_and_carries_the_four_metrics) {
  ModelCard c = make_card(50e6);
  json j = c.to_json();
  EXPECT_DOUBLE_EQ(j["model"]["bits_per_weight"].get<double>(), 8.0 * 50e6 / 4e6);
  EXPECT_EQ(j["host_speed"]["decode_tok_s"]["provenance"], "measured");
  EXPECT_EQ(j["metrics"]["accessibility"]["provenance"], "estimated");
  EXPECT_DOUBLE_EQ(j["metrics"]["accessibility"]["value"].get<double>(), 0.5);  // not on the 0.2 GB board
  EXPECT_EQ(j["metrics"]["hallucination_rate"]["provenance"], "measured");
  EXPECT_DOUBLE_EQ(j["metrics"]["hallucination_rate"]["value"].get<double>(), 0.25);  // item 1
  EXPECT_DOUBLE_EQ(j["metrics"]["generalization_accuracy"]["value"].get<double>(), 1.0 / 3);
  EXPECT_EQ(j["metrics"]["energy_per_query_j"]["provenance"], "estimated");
  EXPECT_FALSE(j["accessibility"]["devices"][1]["deployable"].get<bool>());
  EXPECT_NE(j["accessibility"]["devices"][1]["reason"].get<std::string>().find("usable"), std::string::npos);
  std::string md = c.to_markdown();
  EXPECT_NE(md.find("| hallucination rate | 0.250 | measured"), std::string::npos) << md;
  EXPECT_NE(md.find("| small-board | no |"), std::string::npos) << md;
}

TEST(ModelCard, written_atomically_as_json_and_markdown) {
  TempDir d("card");
  write_model_card(make_card(50e6), d.path / "v1");
  json j = mecllm::read_json_file(d.path / "v1" / "model_card.json");
  EXPECT_EQ(j["model"]["name"], "tiny");
  EXPECT_TRUE(std::filesystem::exists(d.path / "v1" / "model_card.md"));
}

TEST(Profiles, one_entry_per_fitting_device_with_per_difficulty_quality) {
  TempDir d("prof");
  write_model_card(make_card(50e6), d.path / "tiny-q8");
  json doc = build_profiles({(d.path / "tiny-q8").string() + "/"});
  EXPECT_EQ(doc["format"], "mecllm-profiles/1");
  ASSERT_EQ(doc["entries"].size(), 1u);  // the 0.2 GB board does not fit
  const json& e = doc["entries"][0];
  EXPECT_EQ(e["variant"], "tiny-q8");
  EXPECT_EQ(e["device_class"], "host");
  EXPECT_DOUBLE_EQ(e["decode_tok_s"].get<double>(), 120.0);  // host: the measured rate
  EXPECT_TRUE(e["measured"].get<bool>());
  EXPECT_DOUBLE_EQ(e["accuracy"]["easy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(e["hallucination"]["easy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(e["accuracy"]["hard"].get<double>(), 0.5);  // abstained on both: 1 of 2 correct
  EXPECT_DOUBLE_EQ(e["hallucination"]["hard"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(e["accuracy"]["medium"].get<double>(), 0.5);  // no medium items: overall 2/4
  EXPECT_NE(e["source"].get<std::string>().find("no medium items"), std::string::npos) << e["source"];
  EXPECT_DOUBLE_EQ(e["active_power_w"].get<double>(), 8.0);
}

TEST(Profiles, card_missing_a_field_is_named) {
  TempDir d("prof");
  json card = make_card(50e6).to_json();
  card["accessibility"]["devices"][0].erase("idle_power_w");
  d.write("v/model_card.json", card.dump());
  std::string msg = input_error_of([&] { build_profiles({(d.path / "v").string()}); });
  EXPECT_NE(msg.find("model_card.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("accessibility.devices.0.idle_power_w"), std::string::npos) << msg;
}

TEST(Profiles, card_without_qa_and_missing_dirs_are_rejected) {
  TempDir d("prof");
  json card = make_card(50e6).to_json();
  card["tasks"].erase("factworld");
  d.write("v/model_card.json", card.dump());
  EXPECT_NE(input_error_of([&] { build_profiles({(d.path / "v").string()}); }).find("no QA task"), std::string::npos);
  EXPECT_NE(input_error_of([&] { build_profiles({(d.path / "absent").string()}); }).find("no model card"), std::string::npos);
}

#ifdef MECLLM_EVAL_TEST_HAS_MEC
TEST(Profiles, round_trip_into_the_simulator_loader) {
  TempDir d("prof");
  write_model_card(make_card(50e6), d.path / "tiny-q8");
  write_model_card(make_card(400e6), d.path / "tiny-f32");
  std::string out = (d.path / "profiles" / "mine.json").string();
  write_profiles(build_profiles({(d.path / "tiny-q8").string(), (d.path / "tiny-f32").string()}), out);
  mecllm::mec::ProfileSet set = mecllm::mec::load_profiles(out);
  ASSERT_EQ(set.entries.size(), 2u);
  const auto& p = set.get("host", "tiny-f32");
  EXPECT_DOUBLE_EQ(p.decode_tok_s, 120.0);
  EXPECT_DOUBLE_EQ(p.accuracy[0], 0.5);
  EXPECT_GT(p.memory_bytes, 400e6);
}

TEST(Profiles, simulator_rejects_a_negative_rate_or_missing_field_in_our_output) {
  TempDir d("prof");
  write_model_card(make_card(50e6), d.path / "v");
  json doc = build_profiles({(d.path / "v").string()});
  doc["entries"][0]["decode_tok_s"] = -3.0;
  std::string p = d.write("neg.json", doc.dump());
  std::string msg = input_error_of([&] { mecllm::mec::load_profiles(p); });
  EXPECT_NE(msg.find("decode_tok_s"), std::string::npos) << msg;
  doc = build_profiles({(d.path / "v").string()});
  doc["entries"][0].erase("accuracy");
  p = d.write("missing.json", doc.dump());
  msg = input_error_of([&] { mecllm::mec::load_profiles(p); });
  EXPECT_NE(msg.find("accuracy"), std::string::npos) << msg;
}
#endif
