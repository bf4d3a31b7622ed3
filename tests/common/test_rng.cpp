#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"

using namespace mecllm;

TEST(Rng, SameSeedSameSequenceDifferentSeedsDiffer) {
  Rng a(42), b(42), c(43), d(42, 1);
  bool differs_c = false, differs_d = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    differs_c |= va != c.next_u64();
    differs_d |= va != d.next_u64();
  }
  EXPECT_TRUE(differs_c);
  EXPECT_TRUE(differs_d);
}

TEST(Rng, NormalHasUnitMoments) {
  Rng r(7);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double v = r.normal();
    s += v;
    s2 += v * v;
  }
  EXPECT_NEAR(s / n, 0.0, 0.01);
  EXPECT_NEAR(s2 / n, 1.0, 0.02);
}

TEST(Rng, StateRestoresExactly) {
  Rng r(5);
  r.normal();
  auto st = r.state();
  double a = r.normal(), b = r.uniform();
  r.set_state(st);
  EXPECT_EQ(a, r.normal());
  EXPECT_EQ(b, r.uniform());
}
