#include "compress/distill.h"

#include <cmath>
#include <fstream>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/plot.h"
#include "common/progress.h"
#include "common/rng.h"
#include "common/rundir.h"
#include "compress/calib.h"
#include "compress/dense_model.h"
#include "llm/train_util.h"
#include "llm/transformer_torch.h"

namespace mecllm::compress {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------- helpers
llm::Transformer load_module(const runtime::ModelFile& f, const torch::Device& device) {
  llm::Transformer m(f.config());
  m->load_from(f);
  m->to(device);
  return m;
}

// Windows (B, T + 1) drawn at uniform offsets of the stream.
torch::Tensor draw_batch(const std::vector<int32_t>& stream, int B, int T, Rng& rng) {
  std::vector<int64_t> ids(static_cast<size_t>(B) * (T + 1));
  const uint64_t span = stream.size() - T;  // stream.size() >= T + 1
  for (int b = 0; b < B; ++b) {
    const uint64_t off = rng.below(span);
    for (int t = 0; t <= T; ++t) ids[static_cast<size_t>(b) * (T + 1) + t] = stream[off + t];
  }
  return torch::tensor(ids, torch::kInt64).view({B, T + 1});
}

// Mean per-token KL(p_T || p_S) at temperature tau over logits (B, T, V).
torch::Tensor kl_loss(const torch::Tensor& t_logits, const torch::Tensor& s_logits, double tau) {
  auto lt = torch::log_softmax(t_logits / tau, -1);
  auto ls = torch::log_softmax(s_logits / tau, -1);
  return (lt.exp() * (lt - ls)).sum(-1).mean();
}

// Text sampled from the teacher (temperature 1) from BOS, for the data mix.
std::vector<int32_t> sample_teacher(llm::Transformer& teacher, int n_docs, int T, int bos, int eos, Rng& rng,
                                    const torch::Device& device) {
  torch::NoGradGuard ng;
  std::vector<int32_t> out;
  Progress bar("teacher samples", n_docs, "docs");
  for (int d = 0; d < n_docs; ++d) {
    std::vector<int64_t> ids = {bos};
    while (static_cast<int>(ids.size()) < T) {
      auto logits = teacher->forward(torch::tensor(ids, torch::kInt64).view({1, -1}).to(device));
      auto p = torch::softmax(logits[0][-1].to(torch::kCPU).to(torch::kFloat64), -1);
      const double* pp = p.data_ptr<double>();
      double u = rng.uniform(), acc = 0;
      int64_t next = p.size(0) - 1;
      for (int64_t i = 0; i < p.size(0); ++i)
        if ((acc += pp[i]) > u) {
          next = i;
          break;
        }
      ids.push_back(next);
      if (next == eos) break;
    }
    out.insert(out.end(), ids.begin(), ids.end());
    bar.update(d + 1);
  }
  bar.finish();
  return out;
}

struct History {
  std::vector<double> step, total, kl, ce;
};

// Modules in a distill checkpoint: the student and, with a narrower student, the hidden projection.
std::vector<std::pair<std::string, torch::nn::Module*>> checkpoint_modules(llm::Transformer& student,
                                                                           torch::nn::Linear& proj) {
  std::vector<std::pair<std::string, torch::nn::Module*>> m = {{"model/", student.ptr().get()}};
  if (proj) m.emplace_back("proj/", proj.ptr().get());
  return m;
}

void save_checkpoint(const fs::path& path, llm::Transformer& student, torch::nn::Linear& proj,
                     torch::optim::Optimizer& opt, int step, const Rng& rng, double kl_before) {
  llm::save_training_checkpoint(path, checkpoint_modules(student, proj), opt, rng, {{step}, {kl_before}});
}

int load_checkpoint(const fs::path& path, llm::Transformer& student, torch::nn::Linear& proj,
                    torch::optim::Optimizer& opt, Rng& rng, double& kl_before, const torch::Device& device) {
  const auto st =
      llm::load_training_checkpoint(path, checkpoint_modules(student, proj), opt, rng, 1, 1, device, "distill");
  kl_before = st.doubles[0];
  return static_cast<int>(st.ints[0]);
}

// Metrics lines logged after the checkpoint by a killed run are dropped, so a resumed run's
// metrics.jsonl equals an uninterrupted one's; the kept lines rebuild the loss history.
History truncate_metrics(const fs::path& path, int step) {
  History h;
  llm::truncate_metrics(path, step, [&](const nlohmann::json& j) {
    if (!j.contains("losses/total")) return;
    h.step.push_back(j["step"].get<double>());
    h.total.push_back(j["losses/total"].get<double>());
    h.kl.push_back(j["losses/kl"].get<double>());
    h.ce.push_back(j["losses/ce"].get<double>());
  });
  return h;
}

double heldout_kl(llm::Transformer& teacher, llm::Transformer& student, const std::vector<std::vector<int32_t>>& windows,
                  const torch::Device& device) {
  torch::NoGradGuard ng;
  student->eval();
  double sum = 0;
  for (const auto& w : windows) {
    auto x = torch::tensor(std::vector<int64_t>(w.begin(), w.end()), torch::kInt64).view({1, -1}).to(device);
    sum += kl_loss(teacher->forward(x), student->forward(x), 1.0).item<double>();
  }
  student->train();
  return sum / windows.size();
}

}  // namespace

// ---------------------------------------------------------------- the run
nlohmann::json run_distill(const std::string& teacher_path, const std::string& student_path, const std::string& data_path,
                           const DistillConfig& cfg, const fs::path& out_dir, bool resume) {
  cfg.validate(config::ConfigErrors{"distill options", ""});
  // ---- everything that can be wrong with the inputs is checked before anything is written
  auto tfile = runtime::ModelFile::open(teacher_path);
  auto sfile = runtime::ModelFile::open(student_path);
  const auto &tc = tfile.config(), &sc = sfile.config();
  if (tc.vocab_size != sc.vocab_size)
    throw_input_error(student_path, "student vocab_size {} differs from the teacher's {} ({}): distillation needs one vocabulary",
                      sc.vocab_size, tc.vocab_size, teacher_path);
  DenseModel sdense;  // only the tokenizer keys are needed
  sdense.source = student_path;
  if (const auto* md = sfile.gguf_metadata())
    for (const auto& [k, v] : md->entries())
      if (k.starts_with("tokenizer.") || k == "general.name") sdense.extra.set(k, v);
  if (const auto* tmd = tfile.gguf_metadata()) {
    const auto* tt = tmd->find_string_array("tokenizer.ggml.tokens");
    const auto* st = sdense.extra.find_string_array("tokenizer.ggml.tokens");
    if (tt && st && *tt != *st)
      throw_input_error(student_path, "student tokenizer differs from the teacher's ({}): distillation needs one vocabulary",
                        teacher_path);
    if (!sdense.extra.contains("tokenizer.ggml.model"))
      for (const auto& [k, v] : tmd->entries())
        if (k.starts_with("tokenizer.")) sdense.extra.set(k, v);
  }
  auto tok = model_tokenizer(sdense);
  const int T = std::min({cfg.seq_len, tc.seq_len, sc.seq_len});
  std::vector<int32_t> stream = token_stream(read_documents(data_path), *tok);
  std::vector<std::vector<int32_t>> heldout;
  fs::path ho_text = fs::is_directory(data_path) ? fs::path(data_path) / "text_heldout.txt" : fs::path();
  if (!ho_text.empty() && fs::exists(ho_text)) {
    heldout = calibration_windows(ho_text.string(), *tok, cfg.heldout_sequences, T);
  } else {
    // No separate held-out text: the stream's tail is held out, never trained on.
    const size_t need = static_cast<size_t>(cfg.heldout_sequences) * T;
    if (stream.size() < need + T + 1)
      throw_input_error(data_path, "distillation data too short: {} tokens, need at least {} ({} held-out windows + one training window of {})",
                        stream.size(), need + T + 1, cfg.heldout_sequences, T);
    for (int i = 0; i < cfg.heldout_sequences; ++i)
      heldout.emplace_back(stream.end() - need + static_cast<int64_t>(i) * T, stream.end() - need + static_cast<int64_t>(i + 1) * T);
    stream.resize(stream.size() - need);
  }
  if (stream.size() < static_cast<size_t>(T) + 1)
    throw_input_error(data_path, "distillation data too short: {} tokens, need at least {}", stream.size(), T + 1);
  const fs::path ckpt = out_dir / "checkpoint.pt";
  if (resume && !fs::exists(ckpt)) throw_input_error(ckpt.string(), "--resume: no checkpoint to resume from");
  if (!resume && fs::exists(ckpt))
    throw_input_error(out_dir.string(), "already holds a distillation checkpoint: pass --resume or choose another --out");

  // ---- setup
  const torch::Device device = llm::parse_device(cfg.device);
  if (cfg.threads > 0) torch::set_num_threads(cfg.threads);
  torch::manual_seed(cfg.seed);
  RunDir run(out_dir);
  run.write_config(config::to_yaml(const_cast<DistillConfig&>(cfg)));
  auto teacher = load_module(tfile, device);
  teacher->eval();
  for (auto& p : teacher->parameters()) p.set_requires_grad(false);
  auto student = load_module(sfile, device);
  student->train();
  torch::nn::Linear proj{nullptr};
  if (cfg.hidden_loss && sc.dim != tc.dim) {
    proj = torch::nn::Linear(torch::nn::LinearOptions(sc.dim, tc.dim).bias(false));
    proj->to(device);
  }
  Rng rng(cfg.seed, 17);
  if (cfg.teacher_samples > 0 && !resume) {
    auto extra = sample_teacher(teacher, cfg.teacher_samples, T, tc.bos_id, tc.eos_id, rng, device);
    stream.insert(stream.end(), extra.begin(), extra.end());
  }
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : student->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  if (proj)
    for (auto& p : proj->parameters()) decay.push_back(p);
  auto opts = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(cfg.lr).betas({cfg.beta1, cfg.beta2}).weight_decay(wd));
  };
  std::vector<torch::Tensor> trainable = decay;
  trainable.insert(trainable.end(), no_decay.begin(), no_decay.end());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, opts(cfg.weight_decay));
  groups.emplace_back(no_decay, opts(0.0));
  torch::optim::AdamW opt(std::move(groups));

  int step = 0;
  double kl_before = 0;
  History hist;
  if (resume) {
    step = load_checkpoint(ckpt, student, proj, opt, rng, kl_before, device);
    hist = truncate_metrics(run.file("metrics.jsonl"), step);
    log_info("distill: resumed at step {} from {}", step, ckpt.string());
  } else {
    kl_before = heldout_kl(teacher, student, heldout, device);
    if (fs::exists(run.file("metrics.jsonl"))) fs::remove(run.file("metrics.jsonl"));
  }
  RunDir metrics_run(out_dir);  // reopened after truncation so appends go to the kept file

  // ---- training loop
  Progress bar("distill", cfg.steps, "steps");
  const int last = cfg.stop_at_step > 0 ? std::min(cfg.stop_at_step, cfg.steps) : cfg.steps;
  auto t0 = SteadyClock::now();
  int64_t tokens_since = 0;
  while (step < last) {
    ++step;
    const double lr = llm::warmup_cosine_lr(cfg.lr, cfg.min_lr_ratio, cfg.warmup_steps, cfg.steps, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    auto batch = draw_batch(stream, cfg.batch_size, T, rng).to(device);
    auto x = batch.slice(1, 0, T), y = batch.slice(1, 1, T + 1);
    torch::Tensor t_logits, t_hidden;
    {
      torch::NoGradGuard ng;
      t_hidden = teacher->hidden(x);
      t_logits = torch::matmul(t_hidden, (tc.tied_embeddings ? teacher->token_embd->weight : teacher->output->weight).t());
    }
    auto s_hidden = student->hidden(x);
    auto s_logits = torch::matmul(s_hidden, (sc.tied_embeddings ? student->token_embd->weight : student->output->weight).t());
    const double tau = cfg.temperature;
    auto kl = kl_loss(t_logits, s_logits, tau) * (tau * tau);
    auto ce = torch::nn::functional::cross_entropy(s_logits.reshape({-1, sc.vocab_size}), y.reshape({-1}));
    auto loss = kl + cfg.alpha_ce * ce;
    torch::Tensor hid = torch::zeros({}, s_logits.options());
    if (cfg.hidden_loss) {
      hid = torch::mse_loss(proj ? proj->forward(s_hidden) : s_hidden, t_hidden);
      loss = loss + cfg.hidden_weight * hid;
    }
    // the loss read once per step (each item() waits for the value): checked, shown, logged
    const double total = loss.item<double>(), kl_value = kl.item<double>();
    if (!std::isfinite(total)) {
      throw InputError(fmt::format("distillation diverged at step {}: loss {}; lower distill.lr", step, total));
    }
    opt.zero_grad();
    loss.backward();
    if (cfg.grad_clip > 0) torch::nn::utils::clip_grad_norm_(trainable, cfg.grad_clip);
    opt.step();
    tokens_since += static_cast<int64_t>(cfg.batch_size) * T;
    const double secs = mecllm::seconds_since(t0);
    const double tok_s = secs > 0 ? tokens_since / secs : 0.0;
    bar.update(step, fmt::format("loss {:.4f} kl {:.4f} {:.0f} tok/s", total, kl_value, tok_s));
    if (step % cfg.log_every == 0 || step == cfg.steps) {
      metrics_run.log_metrics(step, {{"losses/total", total}, {"losses/kl", kl_value},
                                     {"losses/ce", ce.item<double>()}, {"losses/hidden", hid.item<double>()},
                                     {"charts/lr", lr}, {"charts/tokens_per_s", tok_s}});
      hist.step.push_back(step);
      hist.total.push_back(total);
      hist.kl.push_back(kl_value);
      hist.ce.push_back(ce.item<double>());
    }
    if (step % cfg.checkpoint_every == 0 || step == last) save_checkpoint(ckpt, student, proj, opt, step, rng, kl_before);
  }
  bar.finish();
  nlohmann::json summary = {{"teacher", teacher_path}, {"student", student_path}, {"data", data_path}, {"step", step},
                            {"heldout_kl_before", kl_before}};
  if (step < cfg.steps) {
    summary["stopped_early"] = true;
    return summary;
  }
  summary["heldout_kl_after"] = heldout_kl(teacher, student, heldout, device);
  PlotSpec plot{"distillation loss", "step", "loss", false, true, false, {}};
  plot.series.push_back({"total", hist.step, hist.total, {}});
  plot.series.push_back({"tau^2 KL", hist.step, hist.kl, {}});
  plot.series.push_back({"CE", hist.step, hist.ce, {}});
  plot_lines(plot, out_dir / "loss");
  student->to(torch::kCPU);
  auto tensors = student->export_tensors(runtime::QuantType::F32);
  write_model((out_dir / "model.gguf").string(), sc, tensors, sdense.extra);
  summary["model"] = (out_dir / "model.gguf").string();
  run.write_json("summary.json", summary);
  return summary;
}

}  // namespace mecllm::compress
