// Radio pieces of mec-model.md: 3GPP TR 36.814 urban-macro path loss, Gudmundson-correlated
// log-normal shadowing, Gauss-Markov Rayleigh/Rician fading and the Shannon rate of a share of B.
// Plain inline arithmetic: VecEnv::step calls these per user per slot.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/rng.h"

namespace mecllm::mec {

// Standard normals by Marsaglia's polar method over the project Rng: no sin/cos (Box-Muller's
// sincos was the largest item of the step profile). One per environment; deterministic per seed.
struct PolarNormal {
  double spare = 0;
  bool has_spare = false;
  double operator()(Rng& rng) {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u, v, s;
    do {
      u = 2.0 * rng.uniform() - 1.0;
      v = 2.0 * rng.uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = std::sqrt(-2.0 * std::log(s) / s);
    spare = v * f;
    has_spare = true;
    return u * f;
  }
};

inline double dbm_to_w(double dbm) { return std::pow(10.0, (dbm - 30.0) / 10.0); }
inline double db_to_linear(double db) { return std::pow(10.0, db / 10.0); }

// PL(d) = intercept + slope * log10(d / 1 km), d clamped below at min_distance_m.
inline double pathloss_db(double distance_m, double intercept_db, double slope_db, double min_distance_m) {
  double d = std::max(distance_m, min_distance_m);
  return intercept_db + slope_db * std::log10(d / 1000.0);
}

// r = b B log2(1 + p g / (N0 b B)) in bit/s; 0 for a zero share.
inline double shannon_rate(double share, double bandwidth_hz, double power_w, double gain, double noise_w_per_hz) {
  double bw = share * bandwidth_hz;
  if (bw <= 0.0) return 0.0;
  return bw * std::log2(1.0 + power_w * gain / (noise_w_per_hz * bw));
}

enum class FadingKind : int { none = 0, rayleigh = 1, rician = 2 };

// Small-scale fading state of one link: the scattered component h_s ~ CN(0, 1), advanced by
// h_t = rho h_{t-1} + sqrt(1 - rho^2) e_t so the marginal stays CN(0, 1) (stationary).
struct FadingState {
  double re = 0, im = 0;
};

inline void fading_init(FadingState& h, Rng& rng, PolarNormal& normal) {
  h.re = normal(rng) * std::numbers::sqrt2 / 2;
  h.im = normal(rng) * std::numbers::sqrt2 / 2;
}

inline void fading_advance(FadingState& h, double rho, Rng& rng, PolarNormal& normal) {
  double s = std::sqrt(std::max(0.0, 1.0 - rho * rho)) * (std::numbers::sqrt2 / 2);
  h.re = rho * h.re + s * normal(rng);
  h.im = rho * h.im + s * normal(rng);
}

// Power gain |h|^2 with unit mean: Rayleigh |h_s|^2, Rician |sqrt(K/(K+1)) + sqrt(1/(K+1)) h_s|^2.
inline double fading_power(const FadingState& h, FadingKind kind, double rician_k) {
  switch (kind) {
    case FadingKind::none: return 1.0;
    case FadingKind::rayleigh: return h.re * h.re + h.im * h.im;
    case FadingKind::rician: {
      double los = std::sqrt(rician_k / (rician_k + 1.0)), sc = std::sqrt(1.0 / (rician_k + 1.0));
      double re = los + sc * h.re, im = sc * h.im;
      return re * re + im * im;
    }
  }
  return 1.0;
}

// Shadowing in dB as an AR(1) over distance moved (Gudmundson 1991): corr = exp(-moved / d_corr).
inline double shadowing_advance(double shadow_db, double moved_m, double sigma_db, double d_corr_m, Rng& rng,
                                PolarNormal& normal) {
  if (sigma_db <= 0.0) return 0.0;
  if (moved_m <= 0.0) return shadow_db;  // a user standing still keeps its shadowing
  double a = std::exp(-moved_m / d_corr_m);
  return a * shadow_db + std::sqrt(std::max(0.0, 1.0 - a * a)) * sigma_db * normal(rng);
}

}  // namespace mecllm::mec
