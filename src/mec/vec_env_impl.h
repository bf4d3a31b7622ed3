// VecEnv internals, shared with baselines that act with full knowledge of the slot.
//
// Structure of arrays: per-user arrays have (num_envs, num_users) layout, index i = e * N + n;
// per-prompt arrays (num_envs, num_users, prompts_max); edge blocks (num_envs, edge_block_size).
#pragma once

#include <cstdint>
#include <vector>

#include "common/rng.h"
#include "mec/channel.h"
#include "mec/edge_queue.h"
#include "mec/scenario.h"
#include "mec/vec_env.h"

namespace mecllm::mec {

// Observation features per user (all roughly in [-1, 1] or [0, a few]); kObsDim entries.
enum ObsFeature : int {
  kObsGainDb = 0,      // (channel gain dB + 100) / 20
  kObsGainDelta,       // change of gain since last slot, dB / 10
  kObsDistance,        // distance / cell radius
  kObsPrompts,         // J / prompts_max
  kObsInputTokens,     // total L_in / (prompts_max * input median)
  kObsOutputTokens,    // total L_out / (prompts_max * output median)
  kObsContext,         // total context bytes / (prompts_max * context median)
  kObsEasy,            // difficulty one-hot
  kObsMedium,
  kObsHard,
  kObsLocalBacklog,    // own device backlog / latency_ref_s
  kObsEdgeBacklog,     // server backlog (time until a new sequence could start) / latency_ref_s
  kObsBatch,           // busy decode slots / max_batch
  kObsQEnergy,         // Q^E_n / (10 * Ebar_n)
  kObsQAccuracy,       // 10 * Q^A
  kObsQHallucination,  // 10 * Q^H
  kObsActiveShare,     // fraction of users with a task this slot
  kObsSlot,            // slot of episode / horizon
  kObsActive,          // 1 if this user has a task
  // What the decision trades off, precomputed from the task and the user's own device and channel
  // (the agent could not infer its device class or the Shannon rate from the raw features):
  kObsLocalTime,       // own device's service time of the whole task / latency_ref_s
  kObsUploadTime,      // upload time of the whole task at an equal share among active users / latency_ref_s (<= 10)
  kObsEdgeTime,        // edge prefill + decode of the whole task at batch 1, prompts in sequence / latency_ref_s
  kObsLocalEnergy,     // energy of running the whole task locally / (100 * Ebar_n)
  kObsDim              // (scenario.observe_greedy_share appends Impl::greedy_share at index kObsDim)
};

// Outcome of one user's task for a given offload share (what step() books and baselines preview).
struct UserOutcome {
  double x = 0;              // effective offloaded share after rounding
  double latency_s = 0;      // T_n
  double energy_j = 0;       // E_n
  double accuracy = 0;       // A_n
  double hallucination = 0;  // H_n
  double t_local_s = 0;      // T_loc (own service time of the local share)
  double t_up_s = 0;
  double t_down_s = 0;
  double edge_done_s = 0;    // completion of the last edge sequence (slot-relative)
  bool timed_out = false;    // upload exceeded channel.upload_timeout_s: the share ran locally
  double t_fallback_s = 0;   // local service time of the abandoned share
};

struct VecEnv::Impl {
  Scenario scenario;
  int E = 0, N = 0, J = 0;  // envs, users, prompts_max
  int act_dim = 1;
  int obs_dim = kObsDim;
  FadingKind fading = FadingKind::rayleigh;
  double noise_w_hz = 0, p_tx_w = 0, p_bs_w = 0;

  // ---- per user constants (E*N), from the user's group profile
  std::vector<uint8_t> group;         // (E, N)
  std::vector<int> server;            // (E, N) edge server index
  std::vector<double> loc_pre_s_tok;  // (E, N) 1 / prefill rate
  std::vector<double> loc_dec_s_tok;  // (E, N) 1 / decode rate
  std::vector<double> loc_power_w;    // (E, N)
  std::vector<double> arrival_prob;   // (E, N)
  std::vector<double> budget_j;       // (E, N)
  std::vector<double> acc_loc, hal_loc;  // (E, N, 3)

  // ---- per server constants
  std::vector<EdgeTiming> edge_timing;   // (S)
  std::vector<int> edge_offset;          // (S) offset of server s inside an env's edge block
  int edge_block = 0;                    // doubles per env
  std::vector<double> acc_edge, hal_edge;  // (S, 3)

  // ---- per env state
  std::vector<Rng> rng;          // (E) one stream per env
  std::vector<PolarNormal> normal;  // (E) normal draws from rng[e]
  std::vector<int> slot;         // (E) slot within the episode
  std::vector<double> q_acc;     // (E) Q^A
  std::vector<double> q_hal;     // (E) Q^H
  std::vector<double> edge;      // (E, edge_block)
  std::vector<int> active_count; // (E)

  // ---- per user state (E*N)
  std::vector<double> px, py, wx, wy, speed;  // position, waypoint (m), speed (m/s)
  std::vector<double> dist;                   // distance to the BS (m)
  std::vector<double> shadow_db;
  std::vector<FadingState> fade;
  std::vector<double> gain_db, gain_db_prev, gain;  // large+small scale gain (dB, linear)
  std::vector<double> local_backlog_s;        // device FIFO work left at the slot start
  std::vector<double> q_energy;               // Q^E_n
  // current task
  std::vector<uint8_t> active;       // (E, N)
  std::vector<int> prompts;          // (E, N) J
  std::vector<int> difficulty;       // (E, N) 0 easy, 1 medium, 2 hard
  std::vector<double> in_tok, out_tok, ctx_bits;  // (E, N, J_max)
  std::vector<double> sum_in, sum_out, sum_ctx;   // (E, N) totals over the task's prompts

  // ---- outputs
  std::vector<float> obs, final_obs;  // (E, N, kObsDim)
  std::vector<float> rewards;         // (E)
  std::vector<float> user_rewards;    // (E, N) -T_n / T_ref of the slot just stepped, 0 without a task
  std::vector<float> costs;           // (E, N, kNumCosts)
  std::vector<uint8_t> terminated, truncated;  // (E)
  std::vector<SlotInfo> info;         // (E)
  std::vector<UserOutcome> outcome;   // (E, N) of the last step (zero for inactive users)
  std::vector<float> cost_slot;       // (E, kNumCosts) slot-level: [mean_n E_n - mean Ebar, A_min - A_t, H_t - H_max]
  std::vector<uint8_t> had_active;    // (E) last step had at least one active user
  std::vector<uint8_t> acted;         // (E, N) active flags of the slot just stepped

  // ---- scratch (sized once)
  std::vector<double> share;          // (N) bandwidth share of this env's users
  std::vector<std::pair<double, int>> order;  // (N) (arrival time, user)
  mutable std::vector<double> search_edge;    // (edge_block) greedy_share's trial copy of the queue

  Impl(const Scenario& s, int num_envs, int num_users, uint64_t seed);

  void reset_env(int e);
  void step_env(int e, const float* actions);
  void next_slot(int e);           // mobility, channel, new tasks
  void write_obs(int e, float* out) const;
  void write_task_features(size_t i, double bw_share, float* o) const;  // kObsLocalTime.. of one user
  // Candidate shares of the per-slot searches for user i's task: c / (count - 1) for c < count,
  // i.e. every whole-prompt split, or baselines.search_grid points when x is fluid.
  int search_candidates(size_t i) const {
    return scenario.workload.round_to_prompts ? prompts[i] + 1 : scenario.baselines.search_grid;
  }
  // The offload share of least latency for user i's task against the slot-start edge queue and
  // device backlog at bandwidth share bw_share: greedy-latency's choice when every user decides
  // at once (baselines.sequential_in_slot false). Candidates as in the baselines' search.
  double greedy_share(size_t i, double bw_share) const;

  // ---- the slot model, shared by step() and full-knowledge baselines
  // Effective share after rounding to whole prompts (when the scenario says so).
  double effective_x(int i, double x) const;
  // Outcome of user i offloading share x with bandwidth share `bw_share` against the edge
  // block `edge_env` (1 + ... doubles of this env, modified: the sequences are admitted).
  UserOutcome serve(int i, double x, double bw_share, double* edge_env, double arrival_offset = 0) const;
  // Local share and uplink of user i, before the edge (fills t_local_s, t_up_s, t_down_s, x).
  UserOutcome prepare(int i, double x, double bw_share) const;
  // Admits user i's edge sequences arriving at o.t_up_s; completes the outcome. The local share
  // starts after `local_backlog_s` of the device's earlier work (its real backlog in step()).
  void finish(int i, UserOutcome& o, double* edge_env, double local_backlog_s) const;
};

}  // namespace mecllm::mec
