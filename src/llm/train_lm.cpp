#include "llm/train_lm.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/plot.h"
#include "common/progress.h"
#include "common/rng.h"
#include "common/rundir.h"
#include "llm/train_util.h"
#include "llm/transformer_torch.h"
#include "runtime/tokenizer.h"

namespace mecllm::llm {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- data
// The training stream: every document (biography or QA line) as BOS + ids + EOS, in an order
// shuffled once by the seed. Batches are random windows of it.
std::vector<int64_t> build_stream(const fs::path& dir, const runtime::Tokenizer& tok, uint64_t seed) {
  std::vector<std::string> docs = read_lines(dir / "train_bios.txt");
  for (const auto& q : read_qa_jsonl(dir / "qa_train.jsonl")) docs.push_back(qa_document(q));
  Rng rng(seed, /*stream=*/2);
  for (size_t i = docs.size(); i > 1; --i) std::swap(docs[i - 1], docs[rng.below(i)]);
  std::vector<int64_t> stream;
  for (const auto& d : docs)
    for (int32_t id : tok.encode(d, /*add_bos=*/true, /*add_eos=*/true)) stream.push_back(id);
  return stream;
}

fs::path prepare_factworld(const TrainLmConfig& cfg, const fs::path& out_dir) {
  if (!cfg.data.factworld_dir.empty()) {
    fs::path dir = cfg.data.factworld_dir;
    if (!fs::exists(dir / "manifest.json"))
      throw_input_error(dir.string(), "data.factworld_dir: not a factworld directory (no manifest.json)");
    return dir;
  }
  fs::path dir = out_dir / "factworld";
  if (!fs::exists(dir / "manifest.json")) generate_factworld(cfg.data.world, dir);
  return dir;
}

// ---------------------------------------------------------------- checkpoints
struct LossWindow {
  double sum = 0;
  int64_t count = 0;
};

void save_checkpoint(const fs::path& path, Transformer& model, torch::optim::Optimizer& opt, int step,
                     const Rng& rng, const LossWindow& window) {
  save_training_checkpoint(path, {{"model/", model.ptr().get()}}, opt, rng, {{step, window.count}, {window.sum}});
}

int load_checkpoint(const fs::path& path, Transformer& model, torch::optim::Optimizer& opt, Rng& rng,
                    LossWindow& window, const torch::Device& device) {
  const auto st = load_training_checkpoint(path, {{"model/", model.ptr().get()}}, opt, rng, 2, 1, device, "train-lm");
  window.count = st.ints[1];
  window.sum = st.doubles[0];
  return static_cast<int>(st.ints[0]);
}

// The config must be the same as the one the checkpoint was trained with (stop_at_step aside).
void check_resume_config(const TrainLmConfig& cfg, const fs::path& saved_path) {
  TrainLmConfig saved;
  config::apply_yaml(config::load_yaml_file(saved_path.string()), saved, saved_path.string());
  TrainLmConfig now = cfg;
  saved.stop_at_step = now.stop_at_step = 0;
  if (config::to_yaml(saved) != config::to_yaml(now))
    throw_input_error(saved_path.string(),
                      "--resume with a config different from the one this run was started with (only stop_at_step "
                      "may change)");
}

// ---------------------------------------------------------------- export
runtime::GgufMetadata tokenizer_metadata(const runtime::Tokenizer& tok) {
  runtime::GgufMetadata md;
  const auto& v = tok.vocab();
  std::vector<int32_t> types;
  for (auto t : v.types) types.push_back(static_cast<int32_t>(t));
  md.set("general.name", runtime::GgufValue::of_string("mecllm factworld"));
  md.set("tokenizer.ggml.model", runtime::GgufValue::of_string("llama"));
  md.set("tokenizer.ggml.tokens", runtime::GgufValue::of_strings(v.tokens));
  md.set("tokenizer.ggml.scores", runtime::GgufValue::of_f32s(v.scores));
  md.set("tokenizer.ggml.token_type", runtime::GgufValue::of_i32s(types));
  md.set("tokenizer.ggml.bos_token_id", runtime::GgufValue::of_u32(static_cast<uint32_t>(tok.bos_id())));
  md.set("tokenizer.ggml.eos_token_id", runtime::GgufValue::of_u32(static_cast<uint32_t>(tok.eos_id())));
  md.set("tokenizer.ggml.unknown_token_id", runtime::GgufValue::of_u32(0));
  return md;
}

void plot_loss(const fs::path& run_dir) {
  PlotSeries s{"train loss", {}, {}, {}};
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("losses/train")) continue;
    s.x.push_back(j["step"].get<double>());
    s.y.push_back(j["losses/train"].get<double>());
  }
  PlotSpec spec{"train-lm: training loss", "step", "cross-entropy (nats/token)", false, true, false, {s}};
  plot_lines(spec, run_dir / "loss");
}

}  // namespace

nlohmann::json train_lm(const TrainLmConfig& cfg, const fs::path& out_dir, bool resume) {
  cfg.validate(config::ConfigErrors{"train-lm config", ""});
  const fs::path ckpt_path = out_dir / "checkpoint.pt";
  if (resume && !fs::exists(ckpt_path)) throw_input_error(ckpt_path.string(), "--resume: no checkpoint to resume from");
  if (!resume && fs::exists(ckpt_path))
    throw_input_error(out_dir.string(), "already holds a training checkpoint: pass --resume or choose another --out");
  if (resume) check_resume_config(cfg, out_dir / "config.yaml");
  RunDir run(out_dir);  // metrics.jsonl is opened lazily, after any truncation below
  TrainLmConfig cfg_copy = cfg;
  run.write_config(config::to_yaml(cfg_copy));

  const int threads = cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  const torch::Device device = parse_device(cfg.device);

  // ---- data
  const fs::path world_dir = prepare_factworld(cfg, out_dir);
  const fs::path tok_path = world_dir / "tokenizer.bin";
  const auto tok = runtime::load_tokenizer(tok_path.string());
  const std::vector<int64_t> stream = build_stream(world_dir, *tok, cfg.seed);
  const int64_t T = cfg.model.seq_len, B = cfg.batch_size;
  if (static_cast<int64_t>(stream.size()) < T + 2)
    throw_input_error(world_dir.string(), "training stream has {} tokens, fewer than seq_len + 2 = {}", stream.size(),
                      T + 2);
  const runtime::ModelConfig mc = cfg.model.to_model_config(tok->vocab_size());
  mc.validate("train-lm config model");
  log_info("train-lm: {} ({} parameters), {} training tokens, device {}, {} threads", mc.summary(),
           mc.parameter_count(), stream.size(), cfg.device, threads);

  // ---- model + optimiser (decay on matrices only)
  torch::manual_seed(cfg.seed);
  Transformer model(mc);
  if (!cfg.init_from.empty()) model->load_from(runtime::ModelFile::open(cfg.init_from));
  model->to(device);
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto opts = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(cfg.optim.lr)
                                                            .betas({cfg.optim.beta1, cfg.optim.beta2})
                                                            .eps(cfg.optim.eps)
                                                            .weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, opts(cfg.optim.weight_decay));
  groups.emplace_back(no_decay, opts(0.0));
  torch::optim::AdamW opt(std::move(groups));

  Rng batch_rng(cfg.seed, /*stream=*/3);
  LossWindow window;
  int step = 0;
  if (resume) {
    step = load_checkpoint(ckpt_path, model, opt, batch_rng, window, device);
    truncate_metrics(run.file("metrics.jsonl"), step);
    log_info("train-lm: resumed from {} at step {}", ckpt_path.string(), step);
  }

  // ---- loop
  const int last_step = cfg.stop_at_step > 0 ? cfg.stop_at_step : cfg.steps;
  Progress bar("train-lm", cfg.steps, "steps");
  auto window_start = SteadyClock::now();
  int64_t window_tokens = 0;
  std::vector<int64_t> batch(static_cast<size_t>(B * (T + 1)));
  model->train();
  while (step < last_step) {
    ++step;
    const double lr = warmup_cosine_lr(cfg.optim.lr, cfg.optim.min_lr_ratio, cfg.optim.warmup_steps, cfg.steps, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    for (int64_t b = 0; b < B; ++b) {
      const auto start = static_cast<int64_t>(batch_rng.below(stream.size() - static_cast<size_t>(T) - 1));
      std::copy_n(stream.begin() + start, T + 1, batch.begin() + b * (T + 1));
    }
    auto xy = torch::tensor(batch, torch::kInt64).view({B, T + 1}).to(device);
    auto x = xy.narrow(1, 0, T), y = xy.narrow(1, 1, T);
    auto logits = model->forward(x);  // (B, T, vocab)
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({B * T, mc.vocab_size}), y.reshape({B * T}));
    opt.zero_grad();
    loss.backward();
    double grad_norm = 0;
    if (cfg.optim.grad_clip > 0) grad_norm = torch::nn::utils::clip_grad_norm_(model->parameters(), cfg.optim.grad_clip);
    opt.step();

    const double loss_v = loss.item<double>();
    if (!std::isfinite(loss_v)) throw InputError(fmt::format("train-lm: loss became {} at step {} (lower optim.lr?)", loss_v, step));
    window.sum += loss_v;
    ++window.count;
    window_tokens += B * T;
    if (step % cfg.log_every == 0 || step == cfg.steps) {
      const double secs =
          mecllm::seconds_since(window_start);
      const double tok_s = secs > 0 ? window_tokens / secs : 0.0;
      run.log_metrics(step, {{"losses/train", window.sum / static_cast<double>(window.count)},
                                     {"losses/last", loss_v},
                                     {"charts/lr", lr},
                                     {"charts/grad_norm", grad_norm},
                                     {"charts/tokens_per_s", tok_s}});
      window = {};
      window_tokens = 0;
      window_start = SteadyClock::now();
    }
    bar.update(step, fmt::format("loss {:.3f} lr {:.2e}", loss_v, lr));
    if (step % cfg.checkpoint_every == 0 || step == cfg.steps || step == cfg.stop_at_step)
      save_checkpoint(ckpt_path, model, opt, step, batch_rng, window);
  }
  if (step < cfg.steps) {
    bar.finish("stopped (stop_at_step)");
    nlohmann::json s = {{"stopped_at_step", step}, {"steps", cfg.steps}};
    return s;
  }
  bar.finish();

  // ---- export, plot, evaluate
  model->eval();
  const auto md = tokenizer_metadata(*tok);
  std::string first_export;
  nlohmann::json exports = nlohmann::json::object();
  for (const auto& t : cfg.export_types) {
    const auto type = t == "f16" ? runtime::QuantType::F16 : runtime::QuantType::F32;
    const auto tensors = model->export_tensors(type);
    const auto views = runtime::views_of(tensors);
    const fs::path p = out_dir / fmt::format("model-{}.gguf", t);
    runtime::write_gguf(p.string(), mc, views, md);
    exports[t] = p.filename().string();
    if (first_export.empty()) first_export = p.string();
  }
  fs::copy_file(tok_path, out_dir / "tokenizer.bin", fs::copy_options::overwrite_existing);
  plot_loss(out_dir);

  nlohmann::json summary = {{"model", mc.summary()},
                            {"parameters", mc.parameter_count()},
                            {"train_tokens", stream.size()},
                            {"steps", cfg.steps},
                            {"exports", exports},
                            {"factworld_dir", world_dir.string()}};
  if (!first_export.empty()) {
    FactworldEvalOptions eo;
    eo.max_questions = cfg.eval_max_questions;
    eo.max_train_questions = cfg.eval_max_train_questions;
    eo.max_perplexity_lines = cfg.eval_max_questions;
    eo.device = cfg.device;
    eo.answers_path = run.file("answers.jsonl");
    summary["eval"] = evaluate_factworld(first_export, tok_path.string(), world_dir, eo);
  }
  // Final loss: last logged window.
  std::ifstream in(run.file("metrics.jsonl"));
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  if (!last.empty()) summary["final_train_loss"] = nlohmann::json::parse(last)["losses/train"];
  run.write_json("summary.json", summary);
  return summary;
}

}  // namespace mecllm::llm
