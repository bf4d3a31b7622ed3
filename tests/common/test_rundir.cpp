#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/rundir.h"

namespace fs = std::filesystem;

TEST(RemoveTree, removes_nested_files_and_directories_and_ignores_a_missing_one) {
  const fs::path root = fs::temp_directory_path() / "mecllm_test_remove_tree";
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "top.txt") << "x";
  std::ofstream(root / "a" / "b" / "deep.bin") << "yy";
  fs::create_symlink(root / "top.txt", root / "a" / "link");  // a link is removed, not followed
  mecllm::remove_tree(root / "a");
  EXPECT_FALSE(fs::exists(root / "a"));
  EXPECT_TRUE(fs::exists(root / "top.txt"));
  mecllm::remove_tree(root);
  EXPECT_FALSE(fs::exists(root));
  EXPECT_NO_THROW(mecllm::remove_tree(root));
}
