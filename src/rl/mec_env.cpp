#include "rl/mec_env.h"

#include <cstring>

#include "common/errors.h"

namespace mecllm::rl {
namespace {
constexpr char kMagic[8] = {'M', 'E', 'C', 'E', 'N', 'V', '0', '1'};
struct Header {
  char magic[8];
  int32_t num_envs, num_users, act_dim, reset;
  uint64_t seed;
  uint64_t num_floats;
};
}  // namespace

MecTrainEnv::MecTrainEnv(const mec::Scenario& scenario, int num_envs, int num_users, uint64_t seed)
    : scenario_(scenario), seed_(seed), env_(scenario_, num_envs, num_users, seed) {}

void MecTrainEnv::reset() {
  env_.reset();
  was_reset_ = true;
  log_.clear();
}

void MecTrainEnv::step(std::span<const float> actions) {
  log_.insert(log_.end(), actions.begin(), actions.end());
  env_.step(actions);
}

std::string MecTrainEnv::save_state() const {
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.num_envs = env_.num_envs(), h.num_users = env_.num_users(), h.act_dim = env_.act_dim(), h.reset = was_reset_;
  h.seed = seed_;
  h.num_floats = log_.size();
  std::string s(sizeof h + log_.size() * sizeof(float), '\0');
  std::memcpy(s.data(), &h, sizeof h);
  if (!log_.empty()) std::memcpy(s.data() + sizeof h, log_.data(), log_.size() * sizeof(float));
  return s;
}

void MecTrainEnv::load_state(std::string_view bytes, const std::string& source) {
  Header h{};
  if (bytes.size() < sizeof h) throw_input_error(source, "environment state has {} bytes, expected at least {}", bytes.size(), sizeof h);
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) throw_input_error(source, "environment state: bad magic (not a simulator state)");
  if (h.num_envs != env_.num_envs() || h.num_users != env_.num_users() || h.act_dim != env_.act_dim())
    throw_input_error(source, "environment state is for {} envs x {} users x act_dim {}, this run has {} x {} x {}",
                      h.num_envs, h.num_users, h.act_dim, env_.num_envs(), env_.num_users(), env_.act_dim());
  const size_t per_step = static_cast<size_t>(h.num_envs) * h.num_users * h.act_dim;
  if (bytes.size() != sizeof h + h.num_floats * sizeof(float) || h.num_floats % per_step != 0)
    throw_input_error(source, "environment state: {} bytes do not hold {} logged actions", bytes.size(), h.num_floats);
  seed_ = h.seed;
  env_ = mec::VecEnv(scenario_, h.num_envs, h.num_users, seed_);
  log_.assign(h.num_floats, 0.0f);
  if (h.num_floats) std::memcpy(log_.data(), bytes.data() + sizeof h, h.num_floats * sizeof(float));
  was_reset_ = h.reset;
  if (was_reset_) env_.reset();
  for (size_t off = 0; off < log_.size(); off += per_step) env_.step(std::span<const float>(log_.data() + off, per_step));
}

}  // namespace mecllm::rl
