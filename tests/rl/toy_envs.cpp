#include "toy_envs.h"

#include <algorithm>

#include "common/errors.h"

namespace mecllm::rl::test {

ToyOffloadEnv::ToyOffloadEnv(int num_envs, int num_users, uint64_t seed, double a, double b, int horizon, double budget,
                             double arrival)
    : E_(num_envs), N_(num_users), horizon_(horizon), a_(a), b_(b), budget_(budget), arrival_(arrival), rng_(seed, 7),
      obs_(static_cast<size_t>(E_ * N_ * 3)), final_obs_(obs_.size()), rew_(E_), user_rew_(static_cast<size_t>(E_ * N_)),
      cost_(static_cast<size_t>(E_ * N_ * 3)),
      active_(static_cast<size_t>(E_ * N_), 1), term_(E_), trunc_(E_) {}

void ToyOffloadEnv::observe() {
  for (int i = 0; i < E_ * N_; ++i) {
    obs_[i * 3 + 0] = static_cast<float>(a_);
    obs_[i * 3 + 1] = static_cast<float>(b_);
    obs_[i * 3 + 2] = static_cast<float>(rng_.normal());
    if (arrival_ < 1.0) active_[i] = rng_.bernoulli(arrival_);
  }
}

void ToyOffloadEnv::reset() {
  slot_ = 0;
  observe();
}

void ToyOffloadEnv::step(std::span<const float> actions) {
  ++slot_;
  for (int e = 0; e < E_; ++e) {
    double lat = 0;
    int tasks = 0;
    for (int n = 0; n < N_; ++n) {
      const int i = e * N_ + n;
      const double x = active_[i] ? std::clamp<double>(actions[i], 0.0, 1.0) : 1.0;
      const double own = active_[i] ? std::max(a_ * (1 - x), b_ * x) : 0.0;
      lat += own, tasks += active_[i];
      user_rew_[i] = static_cast<float>(-own);
      cost_[i * 3 + 0] = static_cast<float>((1 - x) - budget_);
      cost_[i * 3 + 1] = -0.1f;
      cost_[i * 3 + 2] = -0.1f;
    }
    rew_[e] = tasks > 0 ? static_cast<float>(-lat / tasks) : 0.f;
    term_[e] = 0;
    trunc_[e] = slot_ % horizon_ == 0;
  }
  observe();
  if (slot_ % horizon_ == 0) {
    final_obs_ = obs_;  // the pre-reset observation (this toy has no state to reset)
    observe();
  }
}

std::string ToyOffloadEnv::save_state() const {
  auto st = rng_.state();
  std::string s(sizeof st + sizeof slot_ + obs_.size() * sizeof(float), '\0');
  std::memcpy(s.data(), &st, sizeof st);
  std::memcpy(s.data() + sizeof st, &slot_, sizeof slot_);
  std::memcpy(s.data() + sizeof st + sizeof slot_, obs_.data(), obs_.size() * sizeof(float));
  s.append(reinterpret_cast<const char*>(active_.data()), active_.size());
  return s;
}

void ToyOffloadEnv::load_state(std::string_view bytes, const std::string& source) {
  Rng::State st;
  if (bytes.size() != sizeof st + sizeof slot_ + obs_.size() * sizeof(float) + active_.size())
    throw InputError(source + ": toy env state has " + std::to_string(bytes.size()) + " bytes");
  std::memcpy(&st, bytes.data(), sizeof st);
  std::memcpy(&slot_, bytes.data() + sizeof st, sizeof slot_);
  std::memcpy(obs_.data(), bytes.data() + sizeof st + sizeof slot_, obs_.size() * sizeof(float));
  std::memcpy(active_.data(), bytes.data() + bytes.size() - active_.size(), active_.size());
  rng_.set_state(st);
}

}  // namespace mecllm::rl::test
