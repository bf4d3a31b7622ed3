// Every setting of the learned offloading agents (PPO, PPO-Lagrangian, RSSM, WM-PPO), declared with
// its default in code; configs/rl/*.yaml presets and --set flags only override (see common/config.h).
// The YAML root is `rl:`, so a flag reads `--set rl.ppo.clip_coef=0.1`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"

namespace mecllm::rl {

enum class Algo { ppo, ppo_lag, wm_ppo };
// Parses "ppo" | "ppo-lag" | "wm-ppo"; throws InputError naming `where` and the value otherwise.
Algo parse_algo(const std::string& name, const std::string& where);
const char* algo_name(Algo a);

// PPO, CleanRL's ppo_continuous_action.py settings unless noted.
struct PpoArgs {
  int num_envs = 8;                  // parallel environments (each with N users)
  int num_steps = 64;                // slots per environment per rollout
  int64_t total_steps = 200000;      // environment slots to train for, summed over num_envs
  double learning_rate = 3e-4;       // Adam step size
  double adam_eps = 1e-5;            // Adam epsilon (CleanRL)
  bool anneal_lr = true;             // linear learning-rate decay to 0
  double gamma = 0.99;               // discount
  double gae_lambda = 0.95;          // GAE lambda
  int num_minibatches = 4;           // minibatches per epoch
  int update_epochs = 10;            // epochs over each rollout
  bool norm_adv = true;              // normalise advantages per minibatch
  double clip_coef = 0.2;            // surrogate clipping epsilon
  bool clip_vloss = true;            // clip the value loss like the policy ratio
  double ent_coef = 0.0;             // entropy bonus weight
  double vf_coef = 0.5;              // value loss weight
  double max_grad_norm = 0.5;        // global gradient-norm clip
  double target_kl = -1;             // stop the epochs once approx-KL exceeds this (<= 0: off)
  int hidden = 64;                   // units per hidden layer (actor and critic)
  int layers = 2;                    // hidden layers
  bool ortho_init = true;            // orthogonal init (sqrt 2 hidden, 0.01 policy head, 1.0 value)
  double policy_head_gain = 0.01;    // orthogonal gain of the action-mean layer
  double value_head_gain = 1.0;      // orthogonal gain of the value layer
  double init_log_std = -0.5;        // initial log standard deviation of the pre-sigmoid Gaussian
  bool norm_obs = true;              // running mean/variance observation normalisation
  double obs_clip = 10;              // clip of normalised observations
  bool norm_reward = false;          // divide rewards by the running std of the discounted return
  double reward_clip = 10;           // clip of scaled rewards
  bool mask_inactive = true;         // leave users without a task out of the policy loss
  double team_reward_weight = 0.0;   // agent reward = (1-w) own -T_n/T_ref + w team mean (0: own only)
  int torch_threads = 1;             // intra-op threads (1 keeps runs bit-reproducible)
  int worker_threads = 1;            // 2: split each update minibatch's critic rows and the model value
                                     // expansion over a second thread (deterministic for a given value)
  int checkpoint_every = 5;          // iterations between checkpoints (and always at the end)

  // Derived by finalize(num_users).
  int64_t batch_size = 0;            // num_steps * num_envs * num_users samples per rollout
  int64_t minibatch_size = 0;
  int64_t num_iterations = 0;        // total_steps / (num_envs * num_steps), at least 1

  void finalize(int num_users);

  template <class V>
  void visit(V& v) {
    v("num_envs", num_envs, "parallel environments, each with N users");
    v("num_steps", num_steps, "slots per environment per rollout");
    v("total_steps", total_steps, "environment slots to train for (summed over environments)");
    v("learning_rate", learning_rate, "Adam learning rate");
    v("adam_eps", adam_eps, "Adam epsilon");
    v("anneal_lr", anneal_lr, "linearly anneal the learning rate to 0");
    v("gamma", gamma, "discount factor");
    v("gae_lambda", gae_lambda, "GAE lambda");
    v("num_minibatches", num_minibatches, "minibatches per epoch");
    v("update_epochs", update_epochs, "epochs per rollout");
    v("norm_adv", norm_adv, "normalise advantages per minibatch");
    v("clip_coef", clip_coef, "surrogate clip epsilon");
    v("clip_vloss", clip_vloss, "clipped value loss");
    v("ent_coef", ent_coef, "entropy bonus coefficient");
    v("vf_coef", vf_coef, "value loss coefficient");
    v("max_grad_norm", max_grad_norm, "gradient norm clip");
    v("target_kl", target_kl, "KL early stop threshold (<= 0: off)");
    v("hidden", hidden, "hidden units per layer");
    v("layers", layers, "hidden layers");
    v("ortho_init", ortho_init, "orthogonal initialisation");
    v("policy_head_gain", policy_head_gain, "orthogonal gain of the policy head");
    v("value_head_gain", value_head_gain, "orthogonal gain of the value head");
    v("init_log_std", init_log_std, "initial log std of the pre-sigmoid Gaussian");
    v("norm_obs", norm_obs, "running observation normalisation");
    v("obs_clip", obs_clip, "clip of normalised observations");
    v("norm_reward", norm_reward, "scale rewards by the running std of the discounted return");
    v("reward_clip", reward_clip, "clip of scaled rewards");
    v("mask_inactive", mask_inactive, "exclude users without a task from the policy loss");
    v("team_reward_weight", team_reward_weight, "weight of the team mean reward in each user's reward (0: own latency only)");
    v("torch_threads", torch_threads, "LibTorch intra-op threads");
    v("worker_threads", worker_threads, "1 or 2: threads of the update minibatch and value-expansion splits");
    v("checkpoint_every", checkpoint_every, "iterations between checkpoints");
  }
  void validate(const config::ConfigErrors& err) const;
};

// PPO-Lagrangian: one multiplier per constraint (energy, accuracy, hallucination).
struct LagrangeArgs {
  double lr = 0.05;                          // plain SGD step of the dual ascent
  double init = 0.0;                         // initial multiplier value
  double max_lambda = 100;                   // upper projection bound (keeps the penalty finite)
  bool pid = false;                          // PID-Lagrangian (Stooke et al. 2020) instead of SGD
  double kp = 0.1, ki = 0.05, kd = 0.0;      // PID gains (ki plays the role of lr)
  // Multiplies each raw cost (units -> O(1) next to a task's -T/T_ref of 0.3-6): energy in J per
  // user-slot (budgets of 2-5 J), accuracy and hallucination as probabilities whose local/edge
  // difference is a few hundredths, so unscaled they would need multipliers in the hundreds.
  std::vector<double> cost_scale = {0.1, 10.0, 100.0};

  template <class V>
  void visit(V& v) {
    v("lr", lr, "dual ascent step size (plain SGD)");
    v("init", init, "initial multiplier");
    v("max_lambda", max_lambda, "upper bound of the projection");
    v("pid", pid, "use the PID-Lagrangian update");
    v("kp", kp, "PID proportional gain");
    v("ki", ki, "PID integral gain");
    v("kd", kd, "PID derivative gain");
    v("cost_scale", cost_scale, "per-constraint scale of the raw costs [energy, accuracy, hallucination]");
  }
  void validate(const config::ConfigErrors& err) const;
};

// RSSM world model (DreamerV3 layout).
struct RssmArgs {
  int deter = 128;              // GRU deterministic state units
  int hidden = 128;             // MLP units in the prior/posterior/heads
  bool discrete = true;         // categorical latents (else diagonal Gaussian)
  int groups = 8;               // categorical latent groups
  int classes = 8;              // classes per group
  int gauss_dim = 32;           // Gaussian latent size when discrete is false
  double unimix = 0.01;         // uniform mix of the categorical probabilities
  double free_nats = 1.0;       // KL free bits (nats), applied to each KL term
  double lr = 1e-3;             // Adam learning rate of the model
  double grad_clip = 100;       // gradient-norm clip of the model
  int seq_len = 16;             // training sequence length
  int batch = 32;               // sequences per gradient step
  int train_steps = 8;          // gradient steps per PPO iteration
  int buffer_rollouts = 4;      // most recent rollouts kept for model training
  // Loss scales by term name: decoder, reward, cost, cont, dyn (beta_dyn), rep (beta_rep).
  double scale_decoder = 1.0, scale_reward = 1.0, scale_cost = 1.0, scale_cont = 1.0;
  double beta_dyn = 0.5, beta_rep = 0.1;

  int stoch_size() const { return discrete ? groups * classes : gauss_dim; }

  template <class V>
  void visit(V& v) {
    v("deter", deter, "GRU units");
    v("hidden", hidden, "MLP units");
    v("discrete", discrete, "categorical latents (false: Gaussian)");
    v("groups", groups, "categorical groups");
    v("classes", classes, "classes per group");
    v("gauss_dim", gauss_dim, "Gaussian latent size");
    v("unimix", unimix, "uniform mix of categorical probabilities");
    v("free_nats", free_nats, "KL free bits (nats)");
    v("lr", lr, "model learning rate");
    v("grad_clip", grad_clip, "model gradient clip");
    v("seq_len", seq_len, "training sequence length");
    v("batch", batch, "sequences per gradient step");
    v("train_steps", train_steps, "model gradient steps per PPO iteration");
    v("buffer_rollouts", buffer_rollouts, "recent rollouts kept for model training");
    v("scale_decoder", scale_decoder, "loss scale: symlog observation reconstruction");
    v("scale_reward", scale_reward, "loss scale: reward");
    v("scale_cost", scale_cost, "loss scale: cost vector");
    v("scale_cont", scale_cont, "loss scale: continuation");
    v("beta_dyn", beta_dyn, "loss scale: KL[sg(q)||p]");
    v("beta_rep", beta_rep, "loss scale: KL[q||sg(p)]");
  }
  void validate(const config::ConfigErrors& err) const;
};

// How WM-PPO uses the model; each use is a switch (ablations are one flag).
struct WmArgs {
  bool value_targets = true;     // blend H-step model value expansion into the critic target
  int mve_horizon = 3;           // H of the value expansion
  double mve_weight = 0.5;       // w: target = (1-w) R_GAE + w R_MVE
  double gate_error = 0.5;       // use MVE only while reward MSE / reward variance is below this
  bool imagination = true;       // add imagined rollouts to the policy loss
  int img_horizon = 3;           // imagined steps per branch
  double img_weight = 0.5;       // eta: weight of the imagined policy loss
  double img_ratio = 1.0;        // cap of imagined:real samples
  int warmup_iterations = 2;     // model-only training iterations before it is used

  template <class V>
  void visit(V& v) {
    v("value_targets", value_targets, "model value expansion targets");
    v("mve_horizon", mve_horizon, "value expansion horizon H");
    v("mve_weight", mve_weight, "blend weight w of the MVE target");
    v("gate_error", gate_error, "max relative reward error for MVE");
    v("imagination", imagination, "imagined rollouts in the policy loss");
    v("img_horizon", img_horizon, "imagination horizon");
    v("img_weight", img_weight, "weight eta of the imagined policy loss");
    v("img_ratio", img_ratio, "cap of imagined:real samples");
    v("warmup_iterations", warmup_iterations, "iterations before the model is used");
  }
  void validate(const config::ConfigErrors& err) const;
};

struct RlConfig {
  std::string algo = "ppo";      // ppo | ppo-lag | wm-ppo
  PpoArgs ppo;
  LagrangeArgs lagrange;
  RssmArgs rssm;
  WmArgs wm;

  Algo algorithm() const { return parse_algo(algo, "rl.algo"); }
  bool constrained() const { return algorithm() != Algo::ppo; }  // ppo-lag and wm-ppo use multipliers
  bool world_model() const { return algorithm() == Algo::wm_ppo; }

  template <class V>
  void visit(V& v) {
    v("algo", algo, "ppo | ppo-lag | wm-ppo");
    v("ppo", ppo, "PPO settings");
    v("lagrange", lagrange, "Lagrange multipliers");
    v("rssm", rssm, "world model");
    v("wm", wm, "how WM-PPO uses the model");
  }
  void validate(const config::ConfigErrors& err) const;
};

// The YAML root (`rl:`), so presets compose with other sections in one file set.
struct TrainConfig {
  RlConfig rl;
  template <class V>
  void visit(V& v) {
    v("rl", rl, "learned offloading agents");
  }
  void validate(const config::ConfigErrors& err) const { rl.validate(err.nested("rl")); }
};

}  // namespace mecllm::rl
