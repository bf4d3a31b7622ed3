// The ECLD comparison table (`mecllm experiment ecld-table`) built from model cards.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "card_fixture.h"
#include "common/rundir.h"
#include "eval/variant_table.h"
#include "test_util.h"

using namespace mecllm::eval;
using namespace mecllm::eval::testing;

TEST(VariantTable, rows_carry_measured_quality_and_deployment_scale_fit) {
  TempDir d("table");
  write_model_card(card_of("base", 1'000'000, 4.0, 3), d.path / "base");
  write_model_card(card_of("ecld", 500'000, 0.5625, 1), d.path / "ecld");
  VariantTableOptions opt;
  auto rows = build_variant_rows({{"base", (d.path / "base").string()}, {"ecld", (d.path / "ecld").string()}}, opt);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].generalization_accuracy, 0.75);
  EXPECT_DOUBLE_EQ(rows[1].hallucination_rate, 0.75);
  EXPECT_DOUBLE_EQ(rows[1].kept_share, 0.5);
  EXPECT_DOUBLE_EQ(rows[1].deployed_params, 6e8);
  // at the variants' own size both fit everywhere; at 1.2e9 the F32 base no longer fits the Jetson
  EXPECT_DOUBLE_EQ(rows[0].accessibility, 1.0);
  EXPECT_FALSE(rows[0].deployed_fits);
  EXPECT_TRUE(rows[1].deployed_fits);
  EXPECT_DOUBLE_EQ(rows[0].deployed_accessibility, 0.5);
  EXPECT_GT(rows[0].deployed_energy_j, rows[1].deployed_energy_j);
  std::string md = variant_table_markdown(rows, opt);
  EXPECT_NE(md.find("| base | 1000000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("(does not fit)"), std::string::npos) << md;
  std::string csv = variant_table_csv(rows);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  size_t header_commas = std::count(csv.begin(), csv.begin() + csv.find('\n'), ',');
  EXPECT_EQ(std::count(csv.begin(), csv.end(), ','), long(3 * header_commas));
  write_variant_table(rows, opt, d.path / "out");
  for (const char* f : {"table.md", "table.csv", "table.json", "size_vs_accuracy.dat", "energy_vs_hallucination.dat"})
    EXPECT_TRUE(std::filesystem::exists(d.path / "out" / f)) << f;
  EXPECT_EQ(mecllm::read_json_file(d.path / "out" / "table.json")["variants"].size(), 2u);
}

TEST(VariantTable, needs_a_base_row_and_the_energy_device) {
  TempDir d("table");
  write_model_card(card_of("ecld", 500'000, 0.5625, 1), d.path / "ecld");
  VariantTableOptions opt;
  EXPECT_NE(input_error_of([&] { build_variant_rows({{"ecld", (d.path / "ecld").string()}}, opt); }).find("'base'"),
            std::string::npos);
  write_model_card(card_of("base", 1'000'000, 4.0, 3), d.path / "base");
  opt.energy_device = "snapdragon-865";  // not among the cards' classes
  std::string msg = input_error_of([&] { build_variant_rows({{"base", (d.path / "base").string()}}, opt); });
  EXPECT_NE(msg.find("snapdragon-865"), std::string::npos) << msg;
}
