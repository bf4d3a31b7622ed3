// `mecllm experiment ecld-table` end to end on a tiny model: the committed factworld base model
// (1.4M parameters) re-encoded into the five variant files an ECLD run lays out, the eval
// fixture as the factworld data. Checks the run directory, the table and that the profiles it
// writes load in the simulator's format. Runs the real binary (seconds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "common/rundir.h"

namespace {

namespace fs = std::filesystem;

using Result = mecllm::testing::CliResult;

Result run(const std::string& args) { return mecllm::testing::run_mecllm(args); }

std::string base_model() {
  fs::path dir = fs::path(MECLLM_SOURCE_DIR) / "models" / "factworld";
  std::vector<std::string> found;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".gguf") found.push_back(e.path().string());
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : found.front();
}

class EcldTableCli : public ::testing::Test {
 protected:
  void SetUp() override {
    base = base_model();
    if (base.empty()) GTEST_SKIP() << "no models/factworld/*.gguf";
    // one directory per test: ctest may run the tests of this file in parallel
    root = fs::temp_directory_path() /
           (std::string("mecllm_test_ecld_table_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root / "ecld" / "baselines");
    fs::create_directories(root / "ecld" / "stages");
    fs::create_directories(root / "fw");
    for (const char* f : {"qa_heldout.jsonl", "qa_unanswerable.jsonl"})
      fs::copy_file(fs::path(MECLLM_SOURCE_DIR) / "tests/fixtures/eval/factworld_qa.jsonl", root / "fw" / f);
    mecllm::write_file_atomic(root / "ecld" / "report.json",
                              nlohmann::json{{"base", base}, {"data", (root / "fw").string()}}.dump());
  }
  void convert(const std::string& out, const std::string& type) {
    Result r = run("convert " + base + " " + (root / "ecld" / out).string() + " --type " + type);
    ASSERT_EQ(r.status, 0) << r.output;
  }
  std::string base;
  fs::path root;
};

TEST_F(EcldTableCli, table_plots_and_profiles_for_the_five_variants) {
  convert("baselines/quant_only.gguf", "q8_0");
  convert("baselines/prune_only_f16.gguf", "f16");
  convert("baselines/prune_quant.gguf", "q4_0");
  convert("stages/ecld.gguf", "q4_0");
  fs::path out = root / "out";
  Result r = run("experiment ecld-table --ecld " + (root / "ecld").string() + " --out " + out.string() +
                 " --eval-set max_items=4 --eval-set threads=1 --eval-set speed_reps=1");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"config.yaml", "table.md", "table.csv", "table.json", "profiles.json", "summary.json",
                        "size_vs_accuracy.dat", "energy_vs_hallucination.dat", "cards/ecld/model_card.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  std::string md = mecllm::read_text_file(out / "table.md");
  for (const char* v : {"| base |", "| quant-only |", "| prune-only |", "| prune-quant |", "| ecld |"})
    EXPECT_NE(md.find(v), std::string::npos) << v << "\n" << md;
  auto table = mecllm::read_json_file(out / "table.json");
  ASSERT_EQ(table["variants"].size(), 5u);
  // the q8_0 variant is smaller than the F32/F16 base and the q4_0 one smaller still
  EXPECT_LT(table["variants"][4]["weight_bytes"].get<double>(), table["variants"][1]["weight_bytes"].get<double>());
  auto prof = mecllm::read_json_file(out / "profiles.json");
  EXPECT_EQ(prof["format"], "mecllm-profiles/1");
  bool edge_base = false;
  for (const auto& e : prof["entries"]) edge_base |= e["variant"] == "base" && e["device_class"] == "edge-server-h200";
  EXPECT_TRUE(edge_base);
  EXPECT_NE(r.output.find("energy_vs_hallucination.png"), std::string::npos) << r.output;
}

TEST_F(EcldTableCli, run_without_baselines_is_a_clear_error) {
  convert("stages/ecld.gguf", "q4_0");
  Result r = run("experiment ecld-table --ecld " + (root / "ecld").string() + " --out " + (root / "out2").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--baselines"), std::string::npos) << r.output;
}

}  // namespace
