// PPO, PPO-Lagrangian and WM-PPO in one loop that reads like CleanRL's ppo_continuous_action.py:
// seed -> env -> agent + Adam -> preallocated rollout storage -> per iteration: anneal, collect,
// (world model), GAE, flatten, epochs x minibatches, log, checkpoint. Every detail is a switch in
// RlConfig (rl_config.h); docs/rl.md lists them.
#include "rl/ppo.h"


#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/rng.h"
#include "common/rundir.h"
#include "rl/agent.h"
#include "rl/exported_policy.h"
#include "rl/flat_adam.h"
#include "rl/gae.h"
#include "rl/lagrange.h"
#include "rl/ppo_state.h"
#include "rl/ppo_update.h"
#include "rl/running_stats.h"
#include "rl/train.h"
#include "rl/wm_ppo.h"

namespace mecllm::rl {
namespace {

// 2: the optimisers' state is FlatAdam's (m, v, step) instead of torch::optim::Adam's.
constexpr int64_t kCheckpointVersion = 2;


constexpr double kLog2Pi = 1.8378770664093453;

torch::Tensor bytes_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
  return t;
}
std::string tensor_bytes(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<size_t>(c.numel()));
}

}  // namespace

TrainResult train_ppo(const RlConfig& cfg_in, TrainEnv& env, const TrainOptions& opt) {
  // ======================================================================= TRY NOT TO MODIFY: setup
  RlConfig cfg = cfg_in;
  PpoArgs& args = cfg.ppo;
  const Algo algo = cfg.algorithm();
  const bool constrained = cfg.constrained(), use_wm = cfg.world_model();
  const int E = env.num_envs(), N = env.num_users(), D = env.obs_dim(), K = env.act_dim(), C = env.num_costs();
  MECLLM_CHECK(C == static_cast<int>(cfg.lagrange.cost_scale.size()), "env has {} costs, cost_scale {}", C,
               cfg.lagrange.cost_scale.size());
  args.finalize(N);
  const int64_t T = args.num_steps, A = int64_t{E} * N, B = args.batch_size, V = 1 + C;
  torch::set_num_threads(args.torch_threads);
  limit_blas_threads(args.torch_threads);
  keep_large_allocations_in_heap();
  // The second thread of the update and value-expansion splits (rl.ppo.worker_threads).
  std::unique_ptr<Worker> worker;
  if (args.worker_threads == 2) worker = std::make_unique<Worker>();
  torch::manual_seed(opt.seed);
  Rng rng(opt.seed, /*stream=*/0x5050);

  RunDir dir(opt.out_dir);
  const auto ckpt_path = dir.file("checkpoint.pt");
  if (!opt.resume && std::filesystem::exists(ckpt_path))
    throw_input_error(ckpt_path.string(), "a run already exists here; pass --resume to continue it or choose another --out");
  if (opt.resume && !std::filesystem::exists(ckpt_path))
    throw_input_error(ckpt_path.string(), "no checkpoint to resume from");
  if (!opt.resume) {
    TrainConfig echo{cfg};
    dir.write_config(opt.config_yaml.empty() ? config::to_yaml(echo) : opt.config_yaml);
    std::filesystem::remove(dir.file("metrics.jsonl"));
  }

  env.reset();
  Agent agent(D, K, C, args);
  FlatAdam optimizer(agent->parameters(), args.learning_rate, args.adam_eps);
  RunningMeanStd obs_rms(D);
  RewardScaler reward_scaler(static_cast<int>(A), args.gamma);  // one discounted return per agent
  LagrangeSettings ls{cfg.lagrange.lr, cfg.lagrange.init, cfg.lagrange.max_lambda, cfg.lagrange.pid,
                      cfg.lagrange.kp, cfg.lagrange.ki, cfg.lagrange.kd};
  LagrangeMultipliers lagrange(C, ls);
  std::unique_ptr<WorldModel> world;
  if (use_wm) world = std::make_unique<WorldModel>(D, K, C, cfg);

  LoopState st;
  st.ep_return.assign(E, 0.0);
  st.prev_done.assign(A, 1);
  auto next_obs = torch::zeros({A, D});  // normalised observation the agent acts on next
  std::vector<float> raw_obs_norm(static_cast<size_t>(A * D));
  auto normalize_into = [&](std::span<const float> raw, float* out) {
    if (args.norm_obs) {
      obs_rms.normalize(raw, std::span<float>(out, raw.size()), args.obs_clip);
    } else {
      std::copy(raw.begin(), raw.end(), out);
    }
  };
  auto observe_env = [&]() {
    if (args.norm_obs) obs_rms.update(env.observations());
    normalize_into(env.observations(), next_obs.data_ptr<float>());
  };

  // ---------------------------------------------------------------- checkpoint: save / load
  auto save_checkpoint = [&]() {
    torch::serialize::OutputArchive ar, agent_ar, optim_ar;
    agent->save(agent_ar);
    optimizer.save(optim_ar);
    ar.write("agent", agent_ar);
    ar.write("optim", optim_ar);
    if (world) {
      torch::serialize::OutputArchive wm_ar;
      world->save(wm_ar);
      ar.write("world", wm_ar);
    }
    auto rs = rng.state();
    nlohmann::json j;
    j["version"] = kCheckpointVersion;
    j["dims"] = {E, N, D, K, C, T};
    j["algo"] = algo_name(algo);
    j["iteration"] = st.iteration;
    j["global_step"] = st.global_step;
    j["wall_s"] = st.wall_s;
    j["ep_return"] = st.ep_return;
    j["prev_done"] = st.prev_done;
    j["window"] = {st.window_return_sum, st.window_episodes};
    j["last_ret"] = std::isfinite(st.last_episodic_return) ? nlohmann::json(st.last_episodic_return) : nlohmann::json();
    j["curve"] = curve_to_json(st.curve);
    j["rng"] = {rs.s[0], rs.s[1], rs.s[2], rs.s[3], rs.spare, rs.has_spare};
    j["obs_rms"] = {obs_rms.mean(), obs_rms.var(), obs_rms.count()};
    j["ret_rms"] = {reward_scaler.stats().mean(), reward_scaler.stats().var(), reward_scaler.stats().count(),
                    reward_scaler.returns()};
    j["lagrange"] = lagrange.state();
    ar.write("state", bytes_tensor(j.dump()));
    ar.write("env", bytes_tensor(env.save_state()));
    ar.write("next_obs", next_obs);
    auto tmp = ckpt_path;
    tmp += ".tmp";
    ar.save_to(tmp.string());
    std::filesystem::rename(tmp, ckpt_path);
  };

  auto load_checkpoint = [&]() {
    const std::string src = ckpt_path.string();
    torch::serialize::InputArchive ar, agent_ar, optim_ar;
    nlohmann::json j;
    torch::Tensor env_bytes, state_bytes;
    try {
      ar.load_from(src);
      ar.read("state", state_bytes);
      j = nlohmann::json::parse(tensor_bytes(state_bytes));
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw_input_error(src, "not a readable mecllm checkpoint (corrupt or truncated): {}", what.substr(0, what.find('\n')));
    }
    try {
      if (j.at("version").get<int64_t>() != kCheckpointVersion)
        throw_input_error(src, "checkpoint version {}, this build reads {}", j.at("version").dump(), kCheckpointVersion);
      auto dims = j.at("dims").get<std::vector<int64_t>>();
      std::vector<int64_t> want{E, N, D, K, C, T};
      if (dims != want)
        throw_input_error(src, "checkpoint was made for [envs, users, obs_dim, act_dim, costs, num_steps] = {}, this run has {}",
                          nlohmann::json(dims).dump(), nlohmann::json(want).dump());
      if (j.at("algo").get<std::string>() != algo_name(algo))
        throw_input_error(src, "checkpoint was trained with --algo {}, this run asks for {}", j.at("algo").get<std::string>(),
                          algo_name(algo));
      ar.read("agent", agent_ar);
      agent->load(agent_ar);
      optimizer.rebind();  // load replaced the parameters' storage
      ar.read("optim", optim_ar);
      optimizer.load(optim_ar);
      if (world) {
        torch::serialize::InputArchive wm_ar;
        ar.read("world", wm_ar);
        world->load(wm_ar);
      }
      st.iteration = j.at("iteration").get<int64_t>();
      st.global_step = j.at("global_step").get<int64_t>();
      st.wall_s = j.at("wall_s").get<double>();
      st.ep_return = j.at("ep_return").get<std::vector<double>>();
      st.prev_done = j.at("prev_done").get<std::vector<uint8_t>>();
      st.window_return_sum = j.at("window")[0].get<double>();
      st.window_episodes = j.at("window")[1].get<int64_t>();
      st.last_episodic_return =
          j.at("last_ret").is_null() ? std::numeric_limits<double>::quiet_NaN() : j.at("last_ret").get<double>();
      st.curve = curve_from_json(j.at("curve"));
      Rng::State rs{};
      for (int i = 0; i < 4; ++i) rs.s[i] = j.at("rng")[i].get<uint64_t>();
      rs.spare = j.at("rng")[4].get<double>();
      rs.has_spare = j.at("rng")[5].get<bool>();
      rng.set_state(rs);
      obs_rms.set(j.at("obs_rms")[0].get<std::vector<double>>(), j.at("obs_rms")[1].get<std::vector<double>>(),
                  j.at("obs_rms")[2].get<double>());
      reward_scaler.stats().set(j.at("ret_rms")[0].get<std::vector<double>>(), j.at("ret_rms")[1].get<std::vector<double>>(),
                                j.at("ret_rms")[2].get<double>());
      reward_scaler.returns() = j.at("ret_rms")[3].get<std::vector<double>>();
      auto lst = j.at("lagrange").get<std::vector<double>>();
      if (lst.size() != static_cast<size_t>(3 * C)) throw_input_error(src, "'lagrange' has {} values, expected {}", lst.size(), 3 * C);
      lagrange.set_state(lst);
      if (st.ep_return.size() != static_cast<size_t>(E) || st.prev_done.size() != static_cast<size_t>(A) ||
          obs_rms.mean().size() != static_cast<size_t>(D))
        throw_input_error(src, "episode/normaliser state does not match {} envs x {} users x obs_dim {}", E, N, D);
      ar.read("env", env_bytes);
      env.load_state(tensor_bytes(env_bytes), src);
      torch::Tensor no;
      ar.read("next_obs", no);
      if (no.sizes() != next_obs.sizes()) throw_input_error(src, "'next_obs' has shape [{}], expected [{}, {}]", fmt::join(no.sizes().vec(), ", "), A, D);
      next_obs.copy_(no);
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw_input_error(src, "checkpoint content does not fit this run: {}", what.substr(0, what.find('\n')));
    }
    truncate_metrics(dir.file("metrics.jsonl"), st.global_step);
    log_info("resumed {} at iteration {} (step {})", src, st.iteration, st.global_step);
  };

  if (opt.resume) {
    load_checkpoint();
  } else {
    observe_env();
  }

  auto export_policy = [&]() {
    PolicyWeights w;
    agent->export_actor(w);
    w.algo = algo_name(algo);
    w.scenario = opt.scenario_name;
    w.trained_users = N;
    w.norm_obs = args.norm_obs;
    w.obs_mean = obs_rms.mean();
    w.obs_var = obs_rms.var();
    w.obs_clip = args.obs_clip;
    save_policy(w, dir.file("policy.json"));
  };

  // ======================================================================= storage, allocated once
  auto obs = torch::zeros({T, A, D});        // normalised observations
  auto us = torch::zeros({T, A, K});         // pre-sigmoid actions u
  auto logprobs = torch::zeros({T, A});      // log pi_old(u)
  auto rewards = torch::zeros({T, A});       // agent reward (team reward, scaled when norm_reward)
  auto costs = torch::zeros({T, A, C});      // scaled costs (cost_scale)
  auto values = torch::zeros({T, A, V});     // critic output [reward value, cost values]
  auto final_values = torch::zeros({T, A, V});
  auto active = torch::zeros({T, A});        // 1 where the user had a task
  auto firsts = torch::zeros({T, A});        // 1 where obs[t] starts an episode (world model)
  std::vector<uint8_t> terms(static_cast<size_t>(T * A)), truncs(static_cast<size_t>(T * A));
  std::vector<float> actions_x(static_cast<size_t>(A * K));
  std::vector<float> final_raw(static_cast<size_t>(A * D));
  auto final_obs = torch::zeros({A, D});
  std::vector<double> raw_cost_sum(C), raw_cost_cnt(C);
  std::vector<float> adv_ch(static_cast<size_t>(V * T * A)), ret_ch(static_cast<size_t>(V * T * A));
  std::vector<float> ch_rew(static_cast<size_t>(T * A)), ch_val(static_cast<size_t>(T * A)),
      ch_fval(static_cast<size_t>(T * A)), ch_next(static_cast<size_t>(A));
  auto advantages = torch::zeros({T, A});
  auto returns = torch::zeros({T, A, V});
  const std::vector<double>& cost_scale = cfg.lagrange.cost_scale;

  TrainResult result;
  PhaseTimes phases;
  Progress progress(std::string("train ") + algo_name(algo), args.num_iterations * E * T, "steps");
  const auto t_start = SteadyClock::now();
  const int64_t step_at_start = st.global_step;
  const double wall_before = st.wall_s;

  for (int64_t iteration = st.iteration + 1; iteration <= args.num_iterations; ++iteration) {
    if (opt.stop_after_iterations >= 0 && st.iteration >= opt.stop_after_iterations) break;
    // ------------------------------------------------------------------- ALGO LOGIC: anneal
    const double frac = args.anneal_lr ? 1.0 - (iteration - 1.0) / args.num_iterations : 1.0;
    const double lrnow = frac * args.learning_rate;
    optimizer.set_lr(lrnow);

    // ------------------------------------------------------------------- ALGO LOGIC: rollout
    std::fill(raw_cost_sum.begin(), raw_cost_sum.end(), 0.0);
    std::fill(raw_cost_cnt.begin(), raw_cost_cnt.end(), 0.0);
    double reward_sum = 0;
    const double act_before = phases.act;
    std::vector<float> stdv(K), logstd(K);
    auto t_phase = SteadyClock::now();
    {
      auto ls_t = agent->actor_logstd.detach();
      for (int k = 0; k < K; ++k) logstd[k] = ls_t[k].item<float>(), stdv[k] = std::exp(logstd[k]);
    }
    for (int64_t step = 0; step < T; ++step) {
      st.global_step += E;
      obs[step].copy_(next_obs);
      float* first_p = firsts[step].data_ptr<float>();
      for (int64_t a = 0; a < A; ++a) first_p[a] = st.prev_done[a];
      {
        // The task flags of the observation acted on (active() shows the next slot after step()).
        const auto env_act = env.active();
        float* act_p = active[step].data_ptr<float>();
        for (int64_t a = 0; a < A; ++a) act_p[a] = env_act[a];
      }
      torch::Tensor mu, v;
      auto t_act = SteadyClock::now();
      {
        torch::NoGradGuard ng;
        mu = agent->mean(next_obs).contiguous();
        v = agent->value(next_obs);
      }
      values[step].copy_(v);
      // Sample u ~ N(mu, sigma) with the project's Rng, x = sigmoid(u), log-prob on u.
      const float* mu_p = mu.data_ptr<float>();
      float* u_p = us[step].data_ptr<float>();
      float* lp_p = logprobs[step].data_ptr<float>();
      for (int64_t a = 0; a < A; ++a) {
        float lp = 0;
        for (int k = 0; k < K; ++k) {
          const int64_t i = a * K + k;
          const float n = static_cast<float>(rng.normal());
          const float u = mu_p[i] + stdv[k] * n;
          u_p[i] = u;
          lp += -0.5f * n * n - logstd[k] - 0.5f * static_cast<float>(kLog2Pi);
          actions_x[static_cast<size_t>(i)] = 1.0f / (1.0f + std::exp(-u));
        }
        lp_p[a] = lp;
      }
      phases.act += seconds_since(t_act);
      env.step(actions_x);

      // TRY NOT TO MODIFY: record rewards, costs and episode boundaries per agent.
      auto env_r = env.rewards();
      auto env_ur = env.user_rewards();
      auto env_c = env.costs();
      auto env_term = env.terminated();
      auto env_trunc = env.truncated();
      float* r_p = rewards[step].data_ptr<float>();
      float* c_p = costs[step].data_ptr<float>();
      const float* act_p = active[step].data_ptr<float>();
      // Agent reward: the user's own latency term, optionally mixed with the team mean.
      const float w_team = static_cast<float>(args.team_reward_weight);
      for (int64_t a = 0; a < A; ++a) r_p[a] = (1.0f - w_team) * env_ur[a] + w_team * env_r[a / N];
      if (args.norm_reward) {
        std::vector<uint8_t> done(static_cast<size_t>(A));
        for (int64_t a = 0; a < A; ++a) done[a] = env_term[a / N] || env_trunc[a / N];
        reward_scaler.update(std::span<const float>(r_p, static_cast<size_t>(A)), done);
        const float scale = static_cast<float>(reward_scaler.scale()), clip = static_cast<float>(args.reward_clip);
        for (int64_t a = 0; a < A; ++a) r_p[a] = std::clamp(r_p[a] * scale, -clip, clip);
      }
      bool any_trunc = false;
      for (int e = 0; e < E; ++e) {
        reward_sum += env_r[e];
        st.ep_return[e] += env_r[e];
        const bool done = env_term[e] || env_trunc[e];
        any_trunc |= env_trunc[e] && !env_term[e];
        if (done) {
          st.window_return_sum += st.ep_return[e];
          st.window_episodes += 1;
          st.ep_return[e] = 0;
        }
        for (int n = 0; n < N; ++n) {
          const int64_t a = int64_t{e} * N + n;
          terms[step * A + a] = env_term[e];
          truncs[step * A + a] = env_trunc[e] && !env_term[e];
          st.prev_done[a] = done;
          for (int c = 0; c < C; ++c) {
            const float raw = env_c[a * C + c];
            c_p[a * C + c] = static_cast<float>(raw * cost_scale[c]);
            // Energy budgets are per slot for every user; quality constraints average over tasks.
            if (c == 0 || act_p[a] > 0) raw_cost_sum[c] += raw, raw_cost_cnt[c] += 1;
          }
        }
      }
      if (any_trunc) {
        // Truncation is not termination: bootstrap from V(pre-reset observation).
        normalize_into(env.final_observations(), final_obs.data_ptr<float>());
        torch::NoGradGuard ng;
        final_values[step].copy_(agent->value(final_obs));
      }
      observe_env();
    }
    torch::Tensor next_value;
    {
      torch::NoGradGuard ng;
      next_value = agent->value(next_obs).contiguous();  // (A, V)
    }
    {
      const double rollout_s = seconds_since(t_phase);
      // env = the rollout minus the acting (observation bookkeeping and normalisation included).
      phases.env += rollout_s - (phases.act - act_before);
    }

    std::vector<double> mean_raw_cost(C), mean_scaled_cost(C);
    for (int c = 0; c < C; ++c) {
      mean_raw_cost[c] = raw_cost_sum[c] / std::max(1.0, raw_cost_cnt[c]);
      mean_scaled_cost[c] = mean_raw_cost[c] * cost_scale[c];
    }
    const std::vector<double> lambdas(lagrange.values().begin(), lagrange.values().end());

    // ------------------------------------------------------------------- ALGO LOGIC: world model
    std::map<std::string, double> wm_losses;
    ModelRollout model_rollout;
    t_phase = SteadyClock::now();
    if (world) {
      model_rollout = {obs.clone(), torch::sigmoid(us), rewards.clone(), costs.clone(), torch::ones({T, A}), firsts.clone()};
      {
        float* cont_p = model_rollout.cont.data_ptr<float>();
        for (int64_t i = 0; i < T * A; ++i) cont_p[i] = terms[static_cast<size_t>(i)] ? 0.0f : 1.0f;
      }
      world->add_rollout(model_rollout);
      wm_losses = world->train(rng, worker.get());
    }
    phases.model_train += seconds_since(t_phase);
    t_phase = SteadyClock::now();

    // ------------------------------------------------------------------- ALGO LOGIC: GAE per channel
    const int used_channels = constrained ? V : 1;
    auto values_c = values.contiguous();
    auto fvalues_c = final_values.contiguous();
    const float* val_p = values_c.data_ptr<float>();
    const float* fval_p = fvalues_c.data_ptr<float>();
    const float* nv_p = next_value.data_ptr<float>();
    const float* rew_p = rewards.data_ptr<float>();
    const float* cost_p = costs.data_ptr<float>();
    for (int ch = 0; ch < used_channels; ++ch) {
      for (int64_t i = 0; i < T * A; ++i) {
        ch_rew[i] = ch == 0 ? rew_p[i] : cost_p[i * C + ch - 1];
        ch_val[i] = val_p[i * V + ch];
        ch_fval[i] = fval_p[i * V + ch];
      }
      for (int64_t a = 0; a < A; ++a) ch_next[a] = nv_p[a * V + ch];
      GaeInput in{static_cast<int>(T), static_cast<int>(A), ch_rew, ch_val, terms, truncs, ch_fval, ch_next,
                  args.gamma, args.gae_lambda};
      compute_gae(in, std::span<float>(adv_ch).subspan(ch * T * A, T * A),
                  std::span<float>(ret_ch).subspan(ch * T * A, T * A));
    }
    {
      float* adv_p = advantages.data_ptr<float>();
      float* ret_p = returns.data_ptr<float>();
      double lam_sum = 0;
      for (int c = 0; c < C; ++c) lam_sum += lambdas[c];
      for (int64_t i = 0; i < T * A; ++i) {
        double adv = adv_ch[i];
        // PPO-Lagrangian (Ray et al. 2019): reward advantage minus lambda-weighted cost
        // advantages, divided by 1 + sum(lambda) to keep the scale as lambda grows.
        if (constrained) {
          for (int c = 0; c < C; ++c) adv -= lambdas[c] * adv_ch[(c + 1) * T * A + i];
          adv /= 1.0 + lam_sum;
        }
        adv_p[i] = static_cast<float>(adv);
        for (int ch = 0; ch < V; ++ch) ret_p[i * V + ch] = ch < used_channels ? ret_ch[ch * T * A + i] : val_p[i * V + ch];
      }
    }

    phases.gae += seconds_since(t_phase);

    // ------------------------------------------------------------------- ALGO LOGIC: model-based targets
    t_phase = SteadyClock::now();
    ImaginedBatch imagined;
    bool mve_used = false;
    // The value targets are gated by the model's reward error (wm-ppo.md); imagination only
    // waits for the warm-up, its advantages being clipped and weighted by eta.
    const bool use_mve = world && cfg.wm.value_targets && world->gate_open();
    const bool use_img = world && cfg.wm.imagination && world->warm();
    if (use_mve || use_img) {
      torch::NoGradGuard ng;
      RssmState post = world->observe_rollout(model_rollout, rng, worker.get());
      auto obs_flat = obs.view({B, D});
      if (use_mve) {
        auto mve = world->mve_targets(post, obs_flat, agent, rng, worker.get()).view({T, A});
        auto ret0 = returns.select(2, 0);
        ret0.copy_((1.0 - cfg.wm.mve_weight) * ret0 + cfg.wm.mve_weight * mve);
        mve_used = true;
      }
      if (use_img) {
        // Branch from the decision samples (users with a task: elsewhere the action changes
        // nothing), capped at img_ratio imagined per real decision sample.
        std::vector<int64_t> starts;
        const float* act_p = active.data_ptr<float>();
        for (int64_t i = 0; i < B; ++i)
          if (!args.mask_inactive || act_p[i] > 0) starts.push_back(i);
        const int64_t count = static_cast<int64_t>(cfg.wm.img_ratio * starts.size()) / cfg.wm.img_horizon;
        if (count > 0) imagined = world->imagine(post, obs_flat, agent, lambdas, std::move(starts), count, rng);
      }
    }

    phases.model_use += seconds_since(t_phase);

    // ------------------------------------------------------------------- ALGO LOGIC: optimise
    t_phase = SteadyClock::now();
    auto b_returns = returns.view({B, V});
    auto b_values = values.view({B, V});
    const int64_t M = imagined.size();
    UpdateBatch ub{obs.view({B, D}), us.view({B, K}), logprobs.view({B}), advantages.view({B}),
                   b_returns, b_values, active.data_ptr<float>(), M > 0 ? &imagined : nullptr, used_channels};
    const UpdateStats us_ = ppo_update(args, cfg.wm, agent, optimizer, ub, rng, worker.get());
    const double pg_sum = us_.pg_sum, v_sum = us_.v_sum, ent_sum = us_.ent_sum, kl_sum = us_.kl_sum,
                 clip_sum = us_.clip_sum, img_sum = us_.img_sum;
    const int64_t n_mb = us_.n_mb;
    phases.update += seconds_since(t_phase);
    phases.update_forward += us_.forward_s;
    phases.update_backward += us_.backward_s;
    phases.update_optim += us_.optim_s;

    // ------------------------------------------------------------------- ALGO LOGIC: dual ascent
    if (constrained) lagrange.update(mean_scaled_cost);

    // ------------------------------------------------------------------- TRY NOT TO MODIFY: logging
    t_phase = SteadyClock::now();
    st.iteration = iteration;
    const double elapsed = mecllm::seconds_since(t_start);
    st.wall_s = wall_before + elapsed;
    const double sps = (st.global_step - step_at_start) / std::max(1e-9, elapsed);
    double explained_var;
    {
      auto y_pred = b_values.select(1, 0), y_true = b_returns.select(1, 0);
      auto var_y = y_true.var().item<double>();
      explained_var = var_y == 0 ? std::nan("") : 1 - (y_true - y_pred).var().item<double>() / var_y;
    }
    if (st.window_episodes > 0) {
      st.last_episodic_return = st.window_return_sum / st.window_episodes;
      st.window_return_sum = 0, st.window_episodes = 0;
    }
    CurvePoint pt;
    pt.step = st.global_step;
    pt.wall_s = st.wall_s;
    pt.episodic_return = st.last_episodic_return;
    pt.mean_reward = reward_sum / (double(T) * E);
    pt.costs = mean_raw_cost;
    pt.lambdas = lambdas;
    st.curve.push_back(pt);
    nlohmann::json m;
    m["charts/episodic_return"] = std::isfinite(pt.episodic_return) ? nlohmann::json(pt.episodic_return) : nlohmann::json();
    m["charts/mean_reward"] = pt.mean_reward;
    m["charts/learning_rate"] = lrnow;
    m["charts/SPS"] = sps;
    m["charts/wall_s"] = st.wall_s;
    static const char* kCostNames[] = {"energy", "accuracy", "hallucination"};
    for (int c = 0; c < C; ++c) {
      const std::string nm = c < 3 ? kCostNames[c] : std::to_string(c);
      m["costs/" + nm] = mean_raw_cost[c];
      m["lambda/" + nm] = lambdas[c];
    }
    const double nmb = std::max<int64_t>(1, n_mb);
    m["losses/policy_loss"] = pg_sum / nmb;
    m["losses/value_loss"] = v_sum / nmb;
    m["losses/entropy"] = ent_sum / nmb;
    m["losses/approx_kl"] = kl_sum / nmb;
    m["losses/clipfrac"] = clip_sum / nmb;
    m["losses/explained_variance"] = std::isfinite(explained_var) ? nlohmann::json(explained_var) : nlohmann::json();
    if (world) {
      for (const auto& [k, v] : wm_losses) m["world/" + k] = v;
      m["world/reward_error"] = world->reward_error();
      m["world/mve_used"] = mve_used;
      m["world/imagined"] = M;
      if (M > 0) m["losses/imagined_policy_loss"] = img_sum / nmb;
    }
    dir.log_metrics(st.global_step, m);
    std::string status = fmt::format("ret {:.3f} r/slot {:.4f} c[", pt.episodic_return, pt.mean_reward);
    for (int c = 0; c < C; ++c) status += fmt::format("{}{:.3g}", c ? " " : "", mean_raw_cost[c]);
    status += "]";
    if (constrained) {
      status += " lam[";
      for (int c = 0; c < C; ++c) status += fmt::format("{}{:.3g}", c ? " " : "", lagrange.values()[c]);
      status += "]";
    }
    status += fmt::format(" {:.0f} sps", sps);
    if (opt.show_progress) progress.update(st.global_step, status);

    // ------------------------------------------------------------------- checkpoint
    const bool last = iteration == args.num_iterations ||
                      (opt.stop_after_iterations >= 0 && iteration >= opt.stop_after_iterations);
    if (iteration % args.checkpoint_every == 0 || last) {
      save_checkpoint();
      export_policy();
    }
    phases.log += seconds_since(t_phase);
  }
  if (opt.show_progress) progress.finish();

  result.global_step = st.global_step;
  result.iterations = st.iteration;
  result.finished = st.iteration >= args.num_iterations;
  result.wall_s = st.wall_s;
  const double el = mecllm::seconds_since(t_start);
  result.steps_per_s = (st.global_step - step_at_start) / std::max(1e-9, el);
  result.decisions_per_s = result.steps_per_s * N;
  result.curve = st.curve;
  result.phases = phases;
  if (st.iteration > 0 && !std::filesystem::exists(dir.file("policy.json"))) export_policy();
  result.policy_path = dir.file("policy.json");
  write_curve_artifacts(dir.path(), result.curve, std::string(algo_name(algo)));
  return result;
}

}  // namespace mecllm::rl
