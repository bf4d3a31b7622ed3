// The vectorised environment: one step() advances E environments x N users over flat arrays.
// Order inside a slot (mec-model.md): decisions -> bandwidth shares -> local share and uplink per
// user -> edge admission in order of upload completion -> latency, energy, quality -> costs,
// virtual queues, reward -> clocks advance by one slot -> mobility, channel, new tasks -> observation.
#include "mec/vec_env.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/errors.h"
#include "mec/vec_env_impl.h"
#include "mec/workload.h"

namespace mecllm::mec {

// ---------------------------------------------------------------- construction

VecEnv::Impl::Impl(const Scenario& s, int num_envs, int num_users, uint64_t seed)
    : scenario(s), E(num_envs), N(num_users), J(s.workload.prompts_max), act_dim(s.act_dim()) {
  if (num_envs < 1) throw InputError(fmt::format("VecEnv: num_envs must be >= 1, got {}", num_envs));
  if (num_users < 1) throw InputError(fmt::format("VecEnv: num_users (N) must be >= 1, got {}", num_users));
  // every (environment, user) pair holds its state, queues and channel: bound the product before
  // allocating, so a mistyped count is an error rather than the machine's memory running out
  if (static_cast<int64_t>(num_envs) * num_users > kMaxEnvUsers) {
    throw InputError(fmt::format("VecEnv: {} environments x {} users = {} user slots, at most {}", num_envs, num_users,
                                 static_cast<int64_t>(num_envs) * num_users, kMaxEnvUsers));
  }
  MECLLM_CHECK(s.group_profiles.size() == s.user_groups.size() && s.edge_profiles.size() == s.edge_servers.size(),
               "scenario '{}' has unresolved profiles: call load_scenario() or resolve_profiles()", s.name);
  const auto& ch = s.channel;
  fading = ch.fading == "none" ? FadingKind::none : ch.fading == "rician" ? FadingKind::rician : FadingKind::rayleigh;
  noise_w_hz = dbm_to_w(ch.noise_psd_dbm_hz + ch.noise_figure_db);
  p_tx_w = dbm_to_w(ch.tx_power_dbm);
  p_bs_w = dbm_to_w(ch.bs_tx_power_dbm);

  const size_t EN = size_t(E) * N;
  // Users are split over groups by their shares, in order (deterministic, not random).
  double share_sum = 0;
  for (const auto& g : s.user_groups) share_sum += g.share;
  std::vector<uint8_t> group_of(N);
  for (int n = 0; n < N; ++n) {
    double u = (n + 0.5) / N * share_sum, cum = 0;
    size_t g = 0;
    for (; g + 1 < s.user_groups.size(); ++g) {
      cum += s.user_groups[g].share;
      if (u < cum) break;
    }
    group_of[n] = static_cast<uint8_t>(g);
  }
  const int S = static_cast<int>(s.edge_servers.size());
  group.resize(EN), server.resize(EN), loc_pre_s_tok.resize(EN), loc_dec_s_tok.resize(EN), loc_power_w.resize(EN);
  arrival_prob.resize(EN), budget_j.resize(EN), acc_loc.resize(EN * 3), hal_loc.resize(EN * 3);
  for (int e = 0; e < E; ++e)
    for (int n = 0; n < N; ++n) {
      size_t i = size_t(e) * N + n;
      const auto& g = s.user_groups[group_of[n]];
      const auto& p = s.group_profiles[group_of[n]];
      group[i] = group_of[n];
      server[i] = n % S;
      loc_pre_s_tok[i] = 1.0 / p.prefill_tok_s;
      loc_dec_s_tok[i] = 1.0 / p.decode_tok_s;
      loc_power_w[i] = p.active_power_w;
      arrival_prob[i] = g.arrival_prob;
      budget_j[i] = g.energy_budget_j;
      for (int k = 0; k < 3; ++k) acc_loc[i * 3 + k] = p.accuracy[k], hal_loc[i * 3 + k] = p.hallucination[k];
    }
  edge_offset.resize(S);
  acc_edge.resize(S * 3), hal_edge.resize(S * 3);
  for (int sv = 0; sv < S; ++sv) {
    const auto& cfg = s.edge_servers[sv];
    const auto& p = s.edge_profiles[sv];
    edge_timing.push_back({1.0 / p.prefill_tok_s, 1.0 / p.decode_tok_s, cfg.batch_kappa, cfg.max_batch});
    edge_offset[sv] = edge_block;
    edge_block += edge_block_size(cfg.max_batch);
    for (int k = 0; k < 3; ++k) acc_edge[sv * 3 + k] = p.accuracy[k], hal_edge[sv * 3 + k] = p.hallucination[k];
  }

  for (int e = 0; e < E; ++e) rng.emplace_back(seed, static_cast<uint64_t>(e));
  normal.assign(E, PolarNormal{});
  slot.assign(E, 0), q_acc.assign(E, 0), q_hal.assign(E, 0), edge.assign(size_t(E) * edge_block, 0.0);
  active_count.assign(E, 0);
  px.assign(EN, 0), py.assign(EN, 0), wx.assign(EN, 0), wy.assign(EN, 0), speed.assign(EN, 0), dist.assign(EN, 0);
  shadow_db.assign(EN, 0), fade.assign(EN, {}), gain_db.assign(EN, 0), gain_db_prev.assign(EN, 0), gain.assign(EN, 0);
  local_backlog_s.assign(EN, 0), q_energy.assign(EN, 0);
  active.assign(EN, 0), prompts.assign(EN, 0), difficulty.assign(EN, 0);
  in_tok.assign(EN * J, 0), out_tok.assign(EN * J, 0), ctx_bits.assign(EN * J, 0);
  sum_in.assign(EN, 0), sum_out.assign(EN, 0), sum_ctx.assign(EN, 0);
  obs_dim = kObsDim + (s.observe_greedy_share ? 1 : 0);
  obs.assign(EN * obs_dim, 0.f), final_obs.assign(EN * obs_dim, 0.f);
  rewards.assign(E, 0.f), user_rewards.assign(EN, 0.f), costs.assign(EN * kNumCosts, 0.f);
  terminated.assign(E, 0), truncated.assign(E, 0), info.assign(E, {}), outcome.assign(EN, {});
  cost_slot.assign(size_t(E) * kNumCosts, 0.f), had_active.assign(E, 0), acted.assign(EN, 0);
  share.assign(N, 0.0), order.assign(N, {0.0, 0});
}

// ---------------------------------------------------------------- helpers

namespace {

// A waypoint uniform in the disc of radius R.
void random_point(Rng& rng, double radius, double& x, double& y) {
  double r = radius * std::sqrt(rng.uniform());
  double th = 2.0 * std::numbers::pi * rng.uniform();
  x = r * std::cos(th);
  y = r * std::sin(th);
}

}  // namespace

double VecEnv::Impl::effective_x(int i, double x) const {
  x = std::clamp(x, 0.0, 1.0);
  if (std::isnan(x)) x = 0.0;
  if (!scenario.workload.round_to_prompts) return x;
  int Jn = prompts[i];
  return Jn > 0 ? std::floor(x * Jn + 0.5) / Jn : 0.0;
}

UserOutcome VecEnv::Impl::prepare(int i, double x, double bw_share) const {
  UserOutcome o;
  o.x = effective_x(i, x);
  const auto& wl = scenario.workload;
  const int Jn = prompts[i];
  const double local_prompts = Jn * (1.0 - o.x);
  const double* in = &in_tok[size_t(i) * J];
  const double* out = &out_tok[size_t(i) * J];
  const double* ctx = &ctx_bits[size_t(i) * J];
  const double overhead_bits = wl.request_overhead_bytes * 8.0;
  double t_loc = 0, up_bits = 0, down_bits = 0;
  // The first prompts of the bundle run locally, the last ones go to the edge; a fractional
  // share splits one prompt (fluid relaxation, only when round_to_prompts is off).
  for (int j = 0; j < Jn; ++j) {
    double lf = std::clamp(local_prompts - j, 0.0, 1.0), ef = 1.0 - lf;
    t_loc += lf * (in[j] * loc_pre_s_tok[i] + out[j] * loc_dec_s_tok[i]);
    if (ef > 0) {
      up_bits += ef * (in[j] * wl.bits_per_token + ctx[j] + overhead_bits);
      down_bits += ef * out[j] * wl.bits_per_token;
    }
  }
  o.t_local_s = t_loc;
  if (o.x > 0) {
    double b = std::max(bw_share, 1e-9);
    const auto& ch = scenario.channel;
    o.t_up_s = up_bits / shannon_rate(b, ch.bandwidth_hz, p_tx_w, gain[i], noise_w_hz);
    o.t_down_s = down_bits / shannon_rate(b, ch.bandwidth_hz, p_bs_w, gain[i], noise_w_hz);
    // A transfer that would outlast the timeout is abandoned there: the device then runs the
    // offloaded prompts itself (the channel of the slot is held for the whole upload, so a deep
    // fade would otherwise stall a request for minutes).
    if (ch.upload_timeout_s > 0 && o.t_up_s > ch.upload_timeout_s) {
      o.timed_out = true;
      o.t_up_s = ch.upload_timeout_s;
      o.t_down_s = 0;
      for (int j = 0; j < Jn; ++j) {
        double ef = 1.0 - std::clamp(local_prompts - j, 0.0, 1.0);
        o.t_fallback_s += ef * (in[j] * loc_pre_s_tok[i] + out[j] * loc_dec_s_tok[i]);
      }
    }
  }
  return o;
}

void VecEnv::Impl::finish(int i, UserOutcome& o, double* edge_env, double backlog_s) const {
  const int Jn = prompts[i];
  const int k = difficulty[i];
  const int sv = server[i];
  double done = 0;
  if (o.x > 0 && !o.timed_out) {
    double* block = edge_env + edge_offset[sv];
    const double local_prompts = Jn * (1.0 - o.x);
    const double* in = &in_tok[size_t(i) * J];
    const double* out = &out_tok[size_t(i) * J];
    for (int j = 0; j < Jn; ++j) {
      double ef = 1.0 - std::clamp(local_prompts - j, 0.0, 1.0);
      if (ef <= 0) continue;
      done = std::max(done, edge_admit(block, edge_timing[sv], o.t_up_s, ef * in[j], ef * out[j]).done);
    }
  }
  o.edge_done_s = done;
  const auto& ch = scenario.channel;
  double local_path = o.t_local_s > 0 ? backlog_s + o.t_local_s : 0.0;
  if (o.timed_out) {
    // the fallback share starts after the timeout and after the device's own share
    o.latency_s = std::max(local_path, o.t_up_s) + o.t_fallback_s;
    o.energy_j = loc_power_w[i] * (o.t_local_s + o.t_fallback_s) + (p_tx_w + ch.circuit_power_w) * o.t_up_s;
    o.accuracy = acc_loc[size_t(i) * 3 + k];
    o.hallucination = hal_loc[size_t(i) * 3 + k];
    return;
  }
  double edge_path = o.x > 0 ? done + o.t_down_s : 0.0;
  o.latency_s = std::max(local_path, edge_path);
  o.energy_j = loc_power_w[i] * o.t_local_s + (p_tx_w + ch.circuit_power_w) * o.t_up_s + ch.rx_power_w * o.t_down_s;
  o.accuracy = (1.0 - o.x) * acc_loc[size_t(i) * 3 + k] + o.x * acc_edge[sv * 3 + k];
  o.hallucination = (1.0 - o.x) * hal_loc[size_t(i) * 3 + k] + o.x * hal_edge[sv * 3 + k];
}

UserOutcome VecEnv::Impl::serve(int i, double x, double bw_share, double* edge_env, double arrival_offset) const {
  UserOutcome o = prepare(i, x, bw_share);
  o.t_up_s += arrival_offset;
  finish(i, o, edge_env, local_backlog_s[i]);
  o.t_up_s -= arrival_offset;
  return o;
}

// ---------------------------------------------------------------- the slot dynamics

namespace {

// gain (dB) = -(PL(d) + shadowing) + 10 log10 |h|^2, written with natural logs and one exp
// (pow/log10 were a visible share of the step profile); same value as pathloss_db().
void update_gain(VecEnv::Impl& s, size_t i) {
  const auto& ch = s.scenario.channel;
  constexpr double kDbPerNeper = 10.0 / std::numbers::ln10;  // 10 log10(x) = kDbPerNeper ln(x)
  double d_km = std::max(s.dist[i], ch.min_distance_m) / 1000.0;
  double pl = ch.pathloss_intercept_db + ch.pathloss_slope_db / std::numbers::ln10 * std::log(d_km);
  double fp = fading_power(s.fade[i], s.fading, ch.rician_k);
  double fading_db = s.fading == FadingKind::none ? 0.0 : kDbPerNeper * std::log(std::max(fp, 1e-30));
  s.gain_db[i] = -(pl + s.shadow_db[i]) + fading_db;
  s.gain[i] = std::exp(s.gain_db[i] / kDbPerNeper);
}

void draw_task(VecEnv::Impl& s, Rng& rng, PolarNormal& normal, size_t i) {
  s.active[i] = rng.bernoulli(s.arrival_prob[i]);
  if (!s.active[i]) {
    s.prompts[i] = 0;
    s.sum_in[i] = s.sum_out[i] = s.sum_ctx[i] = 0;
    return;
  }
  size_t q = i * s.J;
  TaskSums t = sample_task(s.scenario.workload, rng, normal, &s.in_tok[q], &s.out_tok[q], &s.ctx_bits[q]);
  s.prompts[i] = t.prompts;
  s.difficulty[i] = t.difficulty;
  s.sum_in[i] = t.input_tokens, s.sum_out[i] = t.output_tokens, s.sum_ctx[i] = t.context_bytes;
}

}  // namespace

void VecEnv::Impl::reset_env(int e) {
  Rng& r = rng[e];
  PolarNormal& z = normal[e];
  const auto& sc = scenario;
  for (int n = 0; n < N; ++n) {
    size_t i = size_t(e) * N + n;
    random_point(r, sc.mobility.cell_radius_m, px[i], py[i]);
    random_point(r, sc.mobility.cell_radius_m, wx[i], wy[i]);
    speed[i] = r.uniform(sc.mobility.speed_min_mps, sc.mobility.speed_max_mps);
    dist[i] = std::sqrt(px[i] * px[i] + py[i] * py[i]);
    shadow_db[i] = sc.channel.shadowing_sigma_db > 0 ? sc.channel.shadowing_sigma_db * z(r) : 0.0;
    fading_init(fade[i], r, z);
    update_gain(*this, i);
    gain_db_prev[i] = gain_db[i];
    local_backlog_s[i] = 0;
    q_energy[i] = 0;
    draw_task(*this, r, z, i);
  }
  slot[e] = 0, q_acc[e] = 0, q_hal[e] = 0;
  std::fill_n(&edge[size_t(e) * edge_block], edge_block, 0.0);
}

void VecEnv::Impl::next_slot(int e) {
  Rng& r = rng[e];
  PolarNormal& z = normal[e];
  const auto& sc = scenario;
  const double dt = sc.slot_s;
  for (int n = 0; n < N; ++n) {
    size_t i = size_t(e) * N + n;
    // random waypoint mobility
    double dx = wx[i] - px[i], dy = wy[i] - py[i];
    double to_go = std::sqrt(dx * dx + dy * dy), stride = speed[i] * dt, moved;
    if (stride >= to_go) {
      px[i] = wx[i], py[i] = wy[i], moved = to_go;
      random_point(r, sc.mobility.cell_radius_m, wx[i], wy[i]);
      speed[i] = r.uniform(sc.mobility.speed_min_mps, sc.mobility.speed_max_mps);
    } else {
      px[i] += dx / to_go * stride, py[i] += dy / to_go * stride, moved = stride;
    }
    dist[i] = std::sqrt(px[i] * px[i] + py[i] * py[i]);
    // channel
    shadow_db[i] = shadowing_advance(shadow_db[i], moved, sc.channel.shadowing_sigma_db,
                                     sc.channel.shadowing_decorrelation_m, r, z);
    if (fading != FadingKind::none) fading_advance(fade[i], sc.channel.fading_rho, r, z);
    gain_db_prev[i] = gain_db[i];
    update_gain(*this, i);
    draw_task(*this, r, z, i);
  }
}

void VecEnv::Impl::write_obs(int e, float* out) const {
  const auto& sc = scenario;
  const auto& wl = sc.workload;
  int n_active = 0;
  for (int n = 0; n < N; ++n) n_active += active[size_t(e) * N + n];
  const double* blk = &edge[size_t(e) * edge_block];
  for (int n = 0; n < N; ++n) {
    size_t i = size_t(e) * N + n;
    float* o = out + i * obs_dim;
    const int sv = server[i];
    const bool a = active[i];
    o[kObsGainDb] = float((gain_db[i] + 100.0) / 20.0);
    o[kObsGainDelta] = float((gain_db[i] - gain_db_prev[i]) / 10.0);
    o[kObsDistance] = float(dist[i] / sc.mobility.cell_radius_m);
    o[kObsPrompts] = a ? float(double(prompts[i]) / wl.prompts_max) : 0.f;
    o[kObsInputTokens] = a ? float(sum_in[i] / (wl.prompts_max * wl.input_tokens_median)) : 0.f;
    o[kObsOutputTokens] = a ? float(sum_out[i] / (wl.prompts_max * wl.output_tokens_median)) : 0.f;
    o[kObsContext] = a && wl.context_bytes_median > 0 ? float(sum_ctx[i] / (wl.prompts_max * wl.context_bytes_median)) : 0.f;
    o[kObsEasy] = a && difficulty[i] == 0 ? 1.f : 0.f;
    o[kObsMedium] = a && difficulty[i] == 1 ? 1.f : 0.f;
    o[kObsHard] = a && difficulty[i] == 2 ? 1.f : 0.f;
    o[kObsLocalBacklog] = float(local_backlog_s[i] / sc.latency_ref_s);
    const double* b = blk + edge_offset[sv];
    o[kObsEdgeBacklog] = float(edge_backlog_s(b, edge_timing[sv].max_batch) / sc.latency_ref_s);
    o[kObsBatch] = float(double(edge_busy_slots(b, edge_timing[sv].max_batch)) / edge_timing[sv].max_batch);
    o[kObsQEnergy] = budget_j[i] > 0 ? float(q_energy[i] / (10.0 * budget_j[i])) : float(q_energy[i]);
    o[kObsQAccuracy] = float(10.0 * q_acc[e]);
    o[kObsQHallucination] = float(10.0 * q_hal[e]);
    o[kObsActiveShare] = float(double(n_active) / N);
    o[kObsSlot] = float(double(slot[e]) / sc.horizon);
    o[kObsActive] = a ? 1.f : 0.f;
    write_task_features(i, 1.0 / std::max(1, n_active), o);
    if (obs_dim > kObsDim) o[kObsDim] = a ? float(greedy_share(i, 1.0 / std::max(1, n_active))) : 0.f;
  }
}

double VecEnv::Impl::greedy_share(size_t i, double bw_share) const {
  const int e = int(i) / N;
  const double* blk = &edge[size_t(e) * edge_block];
  search_edge.resize(size_t(edge_block));
  const int cands = search_candidates(i);
  double best_x = 0, best = std::numeric_limits<double>::infinity();
  for (int c = 0; c < cands; ++c) {
    const double x = double(c) / std::max(cands - 1, 1);
    std::copy_n(blk, edge_block, search_edge.begin());
    const double latency = serve(int(i), x, bw_share, search_edge.data()).latency_s;
    if (latency < best) best = latency, best_x = x;
  }
  return best_x;
}

void VecEnv::Impl::write_task_features(size_t i, double bw_share, float* o) const {
  const auto& sc = scenario;
  if (!active[i]) {
    o[kObsLocalTime] = o[kObsUploadTime] = o[kObsEdgeTime] = o[kObsLocalEnergy] = 0.f;
    return;
  }
  const EdgeTiming& et = edge_timing[server[i]];
  const double* ctx = &ctx_bits[i * J];
  double ctx_sum = 0;
  for (int j = 0; j < prompts[i]; ++j) ctx_sum += ctx[j];
  const double t_loc = sum_in[i] * loc_pre_s_tok[i] + sum_out[i] * loc_dec_s_tok[i];
  const double up_bits = sum_in[i] * sc.workload.bits_per_token + ctx_sum + prompts[i] * sc.workload.request_overhead_bytes * 8.0;
  const double t_up = up_bits / shannon_rate(bw_share, sc.channel.bandwidth_hz, p_tx_w, gain[i], noise_w_hz);
  const double inv_ref = 1.0 / sc.latency_ref_s;
  o[kObsLocalTime] = float(t_loc * inv_ref);
  o[kObsUploadTime] = float(std::min(t_up * inv_ref, 10.0));
  o[kObsEdgeTime] = float((sum_in[i] * et.prefill_s_per_tok + sum_out[i] * et.decode_s_per_tok) * inv_ref);
  o[kObsLocalEnergy] = budget_j[i] > 0 ? float(loc_power_w[i] * t_loc / (100.0 * budget_j[i])) : 0.f;
}

void VecEnv::Impl::step_env(int e, const float* actions) {
  const auto& sc = scenario;
  const size_t base = size_t(e) * N;
  double* edge_env = &edge[size_t(e) * edge_block];

  // 1. decisions and bandwidth shares among the users that offload something
  int n_off = 0, n_active = 0;
  double wsum = 0;
  for (int n = 0; n < N; ++n) {
    size_t i = base + n;
    share[n] = 0;
    if (!active[i]) continue;
    ++n_active;
    double x = effective_x(int(i), actions[i * act_dim]);
    if (x <= 0) continue;
    ++n_off;
    double w = sc.channel.policy_bandwidth
                   ? std::exp(sc.channel.bandwidth_softmax_scale * std::clamp(double(actions[i * act_dim + 1]), 0.0, 1.0))
                   : 1.0;
    share[n] = w, wsum += w;
  }
  for (int n = 0; n < N; ++n) share[n] = n_off > 0 ? share[n] / wsum : 0.0;

  // 2. local share and uplink per user; 3. edge admission by upload completion (FIFO)
  int n_order = 0;
  for (int n = 0; n < N; ++n) {
    size_t i = base + n;
    if (!active[i]) {
      outcome[i] = UserOutcome{};
      continue;
    }
    outcome[i] = prepare(int(i), actions[i * act_dim], share[n]);
    order[n_order++] = {outcome[i].t_up_s, n};
  }
  std::sort(order.begin(), order.begin() + n_order);
  for (int q = 0; q < n_order; ++q) {
    const size_t i = base + order[q].second;
    finish(int(i), outcome[i], edge_env, local_backlog_s[i]);
  }

  if (sc.workload.sample_outcomes) {
    Rng& r = rng[e];  // Bernoulli outcomes only need uniforms
    for (int n = 0; n < N; ++n) {
      size_t i = base + n;
      if (!active[i]) continue;
      UserOutcome& o = outcome[i];
      int Jn = prompts[i], k = difficulty[i], sv = server[i];
      double lp = o.timed_out ? Jn : Jn * (1.0 - o.x), a = 0, h = 0;
      for (int j = 0; j < Jn; ++j) {
        double lf = std::clamp(lp - j, 0.0, 1.0);
        a += r.bernoulli(lf * acc_loc[i * 3 + k] + (1 - lf) * acc_edge[sv * 3 + k]);
        h += r.bernoulli(lf * hal_loc[i * 3 + k] + (1 - lf) * hal_edge[sv * 3 + k]);
      }
      o.accuracy = a / Jn, o.hallucination = h / Jn;
    }
  }

  // 4. costs, virtual queues, reward, slot info
  const auto& cons = sc.constraints;
  double sum_lat = 0, sum_en_active = 0, sum_acc = 0, sum_hal = 0, sum_en_all = 0, sum_budget = 0;
  for (int n = 0; n < N; ++n) {
    size_t i = base + n;
    const UserOutcome& o = outcome[i];
    float* c = &costs[i * kNumCosts];
    c[kCostEnergy] = float(o.energy_j - budget_j[i]);
    c[kCostAccuracy] = active[i] ? float(cons.accuracy_min - o.accuracy) : 0.f;
    c[kCostHallucination] = active[i] ? float(o.hallucination - cons.hallucination_max) : 0.f;
    q_energy[i] = std::max(q_energy[i] + o.energy_j - budget_j[i], 0.0);
    sum_en_all += o.energy_j, sum_budget += budget_j[i];
    user_rewards[i] = active[i] ? float(-o.latency_s / sc.latency_ref_s) : 0.f;
    if (active[i]) sum_lat += o.latency_s, sum_en_active += o.energy_j, sum_acc += o.accuracy, sum_hal += o.hallucination;
  }
  SlotInfo& si = info[e];
  si.active_users = n_active;
  had_active[e] = n_active > 0;
  float* cs = &cost_slot[size_t(e) * kNumCosts];
  cs[kCostEnergy] = float((sum_en_all - sum_budget) / N);
  if (n_active > 0) {
    double inv = 1.0 / n_active;
    si.mean_latency_s = sum_lat * inv, si.mean_energy_j = sum_en_active * inv;
    si.mean_accuracy = sum_acc * inv, si.mean_hallucination = sum_hal * inv;
    q_acc[e] = std::max(q_acc[e] + cons.accuracy_min - si.mean_accuracy, 0.0);
    q_hal[e] = std::max(q_hal[e] + si.mean_hallucination - cons.hallucination_max, 0.0);
    cs[kCostAccuracy] = float(cons.accuracy_min - si.mean_accuracy);
    cs[kCostHallucination] = float(si.mean_hallucination - cons.hallucination_max);
    rewards[e] = float(-si.mean_latency_s / sc.latency_ref_s);
  } else {
    si.mean_latency_s = si.mean_energy_j = si.mean_accuracy = si.mean_hallucination = 0;
    cs[kCostAccuracy] = cs[kCostHallucination] = 0.f;
    rewards[e] = 0.f;
  }

  // 5. clocks advance one slot: the device backlog drains, the edge queue carries over
  for (int n = 0; n < N; ++n) {
    size_t i = base + n;
    local_backlog_s[i] = std::max(local_backlog_s[i] + outcome[i].t_local_s + outcome[i].t_fallback_s - sc.slot_s, 0.0);
  }
  for (size_t sv = 0; sv < edge_timing.size(); ++sv)
    edge_shift(edge_env + edge_offset[sv], edge_timing[sv].max_batch, sc.slot_s);

  std::copy_n(&active[base], N, &acted[base]);

  // 6. next slot, with truncation and auto-reset at the horizon
  slot[e] += 1;
  terminated[e] = 0;
  truncated[e] = slot[e] >= sc.horizon;
  next_slot(e);
  if (truncated[e]) {
    write_obs(e, final_obs.data());
    reset_env(e);
  }
  write_obs(e, obs.data());
}

// ---------------------------------------------------------------- public API

VecEnv::VecEnv(const Scenario& scenario, int num_envs, int num_users, uint64_t seed)
    : impl_(std::make_unique<Impl>(scenario, num_envs, num_users, seed)) {
  reset();
}
VecEnv::~VecEnv() = default;
VecEnv::VecEnv(VecEnv&&) noexcept = default;
VecEnv& VecEnv::operator=(VecEnv&&) noexcept = default;

int VecEnv::num_envs() const { return impl_->E; }
int VecEnv::num_users() const { return impl_->N; }
int VecEnv::obs_dim() const { return impl_->obs_dim; }
int VecEnv::act_dim() const { return impl_->act_dim; }
int VecEnv::horizon() const { return impl_->scenario.horizon; }

void VecEnv::reset() {
  for (int e = 0; e < impl_->E; ++e) {
    impl_->reset_env(e);
    impl_->write_obs(e, impl_->obs.data());
    impl_->terminated[e] = impl_->truncated[e] = 0;
    impl_->rewards[e] = 0.f;
  }
}

void VecEnv::step(std::span<const float> actions) {
  const size_t want = size_t(impl_->E) * impl_->N * impl_->act_dim;
  MECLLM_CHECK(actions.size() == want, "VecEnv::step: actions has {} floats, expected (num_envs {}, num_users {}, act_dim {}) = {}",
               actions.size(), impl_->E, impl_->N, impl_->act_dim, want);
  for (int e = 0; e < impl_->E; ++e) impl_->step_env(e, actions.data());
}

std::span<const float> VecEnv::observations() const { return impl_->obs; }
std::span<const float> VecEnv::final_observations() const { return impl_->final_obs; }
std::span<const uint8_t> VecEnv::active() const { return impl_->active; }
std::span<const float> VecEnv::rewards() const { return impl_->rewards; }
std::span<const float> VecEnv::costs() const { return impl_->costs; }
std::span<const uint8_t> VecEnv::terminated() const { return impl_->terminated; }
std::span<const uint8_t> VecEnv::truncated() const { return impl_->truncated; }
std::span<const SlotInfo> VecEnv::slot_info() const { return impl_->info; }
std::span<const uint8_t> VecEnv::acted() const { return impl_->acted; }
std::span<const float> VecEnv::slot_costs() const { return impl_->cost_slot; }
std::span<const float> VecEnv::user_rewards() const { return impl_->user_rewards; }
const Scenario& VecEnv::scenario() const { return impl_->scenario; }

}  // namespace mecllm::mec
