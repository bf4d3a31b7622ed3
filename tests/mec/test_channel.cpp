#include <gtest/gtest.h>

#include <cmath>

#include "mec/channel.h"
#include "mec/scenario.h"

namespace mecllm::mec {
namespace {

// Rate of one user holding `bandwidth_hz` at distance d, no fading or shadowing.
double rate_at(double d, double bandwidth_hz) {
  ChannelConfig ch;  // defaults of mec-model.md: 23 dBm, -174 dBm/Hz + 9 dB, 128.1 + 37.6 log10(d/km)
  double gain = db_to_linear(-pathloss_db(d, ch.pathloss_intercept_db, ch.pathloss_slope_db, ch.min_distance_m));
  return shannon_rate(1.0, bandwidth_hz, dbm_to_w(ch.tx_power_dbm), gain, dbm_to_w(ch.noise_psd_dbm_hz + ch.noise_figure_db));
}

TEST(Channel, closed_form_rates_at_23dbm_10mhz) {
  // mec-model.md: about 91 / 54 / 12 Mbit/s at 100 / 200 / 500 m.
  EXPECT_NEAR(rate_at(100, 10e6) / 1e6, 91.4, 1.0);
  EXPECT_NEAR(rate_at(200, 10e6) / 1e6, 54.2, 1.0);
  EXPECT_NEAR(rate_at(500, 10e6) / 1e6, 12.1, 0.5);
}

TEST(Channel, pathloss_follows_tr36814) {
  EXPECT_NEAR(pathloss_db(1000, 128.1, 37.6, 10), 128.1, 1e-9);
  EXPECT_NEAR(pathloss_db(100, 128.1, 37.6, 10), 90.5, 1e-9);
  EXPECT_NEAR(pathloss_db(1, 128.1, 37.6, 10), pathloss_db(10, 128.1, 37.6, 10), 1e-12);  // clamped
}

TEST(Channel, zero_share_gives_zero_rate_and_rate_grows_with_share) {
  EXPECT_EQ(shannon_rate(0.0, 20e6, 0.2, 1e-10, 1e-20), 0.0);
  EXPECT_LT(shannon_rate(0.25, 20e6, 0.2, 1e-10, 1e-20), shannon_rate(0.5, 20e6, 0.2, 1e-10, 1e-20));
}

TEST(Channel, gauss_markov_rayleigh_has_unit_power_and_lag_one_correlation_rho) {
  Rng rng(42);
  PolarNormal z;
  FadingState h;
  fading_init(h, rng, z);
  const double rho = 0.9;
  const int n = 200000;
  double power = 0, corr = 0;
  for (int t = 0; t < n; ++t) {
    FadingState prev = h;
    fading_advance(h, rho, rng, z);
    power += fading_power(h, FadingKind::rayleigh, 0);
    corr += h.re * prev.re + h.im * prev.im;  // Re E[h_t conj(h_{t-1})]
  }
  EXPECT_NEAR(power / n, 1.0, 0.03);
  EXPECT_NEAR(corr / n, rho, 0.03);
  // Rician keeps unit mean power too.
  double rician = 0;
  for (int t = 0; t < n; ++t) {
    fading_advance(h, rho, rng, z);
    rician += fading_power(h, FadingKind::rician, 3.0);
  }
  EXPECT_NEAR(rician / n, 1.0, 0.03);
}

TEST(Channel, shadowing_keeps_its_sigma_and_stays_put_without_motion) {
  Rng rng(7);
  PolarNormal z;
  double s = 8.0 * z(rng), ss = 0;
  const int n = 100000;
  for (int t = 0; t < n; ++t) {
    s = shadowing_advance(s, 1.0, 8.0, 50.0, rng, z);
    ss += s * s;
  }
  EXPECT_NEAR(std::sqrt(ss / n), 8.0, 0.4);
  EXPECT_EQ(shadowing_advance(3.0, 0.0, 8.0, 50.0, rng, z), 3.0);
  EXPECT_EQ(shadowing_advance(3.0, 1.0, 0.0, 50.0, rng, z), 0.0);
}

}  // namespace
}  // namespace mecllm::mec
