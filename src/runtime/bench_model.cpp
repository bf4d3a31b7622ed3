#include "runtime/bench_model.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "common/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/stats.h"
#include "runtime/kernels.h"
#include "runtime/threadpool.h"
#include "runtime/transformer.h"

namespace mecllm::runtime {

namespace {


BenchSample summarize(int threads, const std::string& test, int n, std::vector<double> tps) {
  BenchSample s;
  s.threads = threads;
  s.test = test;
  s.n_tokens = n;
  s.mean_tps = stats::mean(tps);
  double var = 0;
  for (double v : tps) var += (v - s.mean_tps) * (v - s.mean_tps);
  s.sd_tps = tps.size() > 1 ? std::sqrt(var / static_cast<double>(tps.size() - 1)) : 0.0;
  s.tps = std::move(tps);
  return s;
}

std::string default_ref_loop() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const auto p = exe.parent_path() / "ref_llama2c_loop";
  return std::filesystem::exists(p) ? p.string() : "";
}

// Runs the reference loop once; tokens/s parsed from its one output line.
double run_ref_loop(const std::string& exe, const std::string& model, int n_tokens, int threads) {
  const std::string cmd = fmt::format("OMP_NUM_THREADS={} '{}' '{}' {} 2>&1", threads, exe, model, n_tokens);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw InputError(fmt::format("{}: cannot run the reference loop", exe));
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  const int status = pclose(pipe);
  const auto at = out.find("tok_per_s=");
  if (status != 0 || at == std::string::npos) {
    throw InputError(fmt::format("{}: the reference loop failed on {}: {}", exe, model, out));
  }
  return std::stod(out.substr(at + 10));
}

}  // namespace

BandwidthProbe::BandwidthProbe(size_t bytes, int n_threads)
    : buf_(bytes / sizeof(float) / 2 * 2), pool_(std::make_unique<ThreadPool>(n_threads)) {
  for (size_t i = 0; i < buf_.size(); ++i) buf_[i] = static_cast<float>(i & 1023) * 1e-3f;  // touch every page
}

BandwidthProbe::~BandwidthProbe() = default;

double BandwidthProbe::measure(int reps) {
  const VecDotFn dot = kernels().vec_dot[quant_type_index(QuantType::F32)];
  const int64_t half = static_cast<int64_t>(buf_.size() / 2);
  const int n_threads = pool_->size();
  std::vector<double> sink(static_cast<size_t>(n_threads), 0.0);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = SteadyClock::now();
    pool_->run([&](int t, int nt) {
      int64_t b, e;
      ThreadPool::split(half, t, nt, &b, &e);
      sink[static_cast<size_t>(t)] += dot(buf_.data() + b, buf_.data() + half + b, e - b);  // two streams
    });
    best = std::max(best, static_cast<double>(buf_.size() * sizeof(float)) / seconds_since(t0) / 1e9);
  }
  if (sink[0] == -1.0) log_info("bandwidth sink {}", sink[0]);  // keeps the reads observable
  return best;
}

double measure_read_bandwidth(size_t bytes, int n_threads, int reps) { return BandwidthProbe(bytes, n_threads).measure(reps); }

nlohmann::json BenchModelResult::to_json() const {
  nlohmann::json j = {{"model", model}, {"weight_type", weight_type}, {"simd", simd}, {"bytes_per_token", bytes_per_token}};
  for (const auto& s : samples) {
    j["samples"].push_back({{"threads", s.threads}, {"test", s.test}, {"n_tokens", s.n_tokens},
                            {"mean_tps", s.mean_tps}, {"sd_tps", s.sd_tps}, {"tps", s.tps}});
  }
  for (const auto& r : roofline) {
    j["roofline"].push_back({{"threads", r.threads}, {"bandwidth_gbs", r.bandwidth_gbs},
                             {"bandwidth_before_gbs", r.bandwidth_before_gbs},
                             {"bandwidth_after_gbs", r.bandwidth_after_gbs}, {"achieved_gbs", r.achieved_gbs},
                             {"share", r.share}});
  }
  for (const auto& r : reference) {
    j["reference"].push_back({{"threads", r.threads}, {"ref_tps", r.ref_tps}, {"ref_sd", r.ref_sd}, {"ratio", r.ratio}});
  }
  j["notes"] = notes;
  return j;
}

BenchModelResult bench_model(const BenchModelOptions& opt) {
  if (opt.reps < 1) throw InputError(fmt::format("bench model: reps = {}, expected >= 1", opt.reps));
  if (opt.threads.empty()) throw InputError("bench model: no thread counts given");
  if (opt.n_prompt < 1 || opt.n_gen < 1) {
    throw InputError(fmt::format("bench model: pp {} / tg {} tokens, expected >= 1", opt.n_prompt, opt.n_gen));
  }
  BenchModelResult res;
  res.model = opt.model;
  // the kernel set in use, e.g. "avx2" or "avx2 per-row vec_dot" (MECLLM_PREPARED_ACT=off)
  res.simd = std::string(simd_level_name(active_simd_level())) + (prepared_act_enabled() ? "" : " per-row vec_dot");
  const std::string ref_exe = opt.ref_loop.empty() ? default_ref_loop() : opt.ref_loop;
  for (int threads : opt.threads) {
    LoadOptions lo;
    lo.n_threads = threads;
    lo.weight_type = opt.weight_type;
    lo.kv_type = opt.kv_type;
    Transformer tr = Transformer::load(opt.model, lo);
    const int ctx = tr.context_length();
    const int pp = std::min(opt.n_prompt, ctx), tg = std::min(opt.n_gen, ctx);
    if (opt.n_prompt > ctx || opt.n_gen > ctx)
      log_warn("bench model: pp {} / tg {} exceed the model's context of {} tokens; measuring pp{} / tg{}", opt.n_prompt,
               opt.n_gen, ctx, pp, tg);
    res.weight_type = quant_type_name(tr.weight_type());
    if (tr.rows_interleaved() && !res.simd.ends_with(" rows8")) res.simd += " rows8";  // which kernels ran
    res.notes = tr.notes();
    uint64_t kv = 0;
    for (int p = 0; p < tg; ++p) kv += tr.kv_bytes_at(p);
    res.bytes_per_token = tr.weight_bytes_per_token() + kv / static_cast<uint64_t>(tg);

    Rng rng(opt.seed);
    std::vector<int32_t> prompt(static_cast<size_t>(pp));
    for (auto& t : prompt) t = static_cast<int32_t>(rng.below(static_cast<uint64_t>(tr.config().vocab_size)));
    tr.forward(prompt[0], 0);  // warm-up: pages in the weights

    // pp repetitions first, then the tg repetitions between two bandwidth readings at the same
    // thread count: the machine's bandwidth drifts (shared hosts), so the share compares the tg
    // speed with what the memory gave right around it
    std::vector<double> pp_tps, tg_tps;
    for (int r = 0; r < opt.reps; ++r) {
      const auto t0 = SteadyClock::now();
      tr.forward(prompt, 0);
      pp_tps.push_back(pp / seconds_since(t0));
      log_info("bench model: threads {} rep {}/{}: pp{} {:.1f} t/s", threads, r + 1, opt.reps, pp, pp_tps.back());
    }
    std::unique_ptr<BandwidthProbe> probe;
    BenchModelResult::Roofline rf;
    if (opt.roofline) {
      probe = std::make_unique<BandwidthProbe>(opt.bandwidth_bytes, threads);
      rf.bandwidth_before_gbs = probe->measure();
    }
    for (int r = 0; r < opt.reps; ++r) {
      const auto t0 = SteadyClock::now();
      int32_t tok = prompt[0];
      for (int p = 0; p < tg; ++p) {
        const auto logits = tr.forward(tok, p);
        tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      }
      tg_tps.push_back(tg / seconds_since(t0));
      log_info("bench model: threads {} rep {}/{}: tg{} {:.1f} t/s", threads, r + 1, opt.reps, tg, tg_tps.back());
    }
    res.samples.push_back(summarize(threads, fmt::format("pp{}", pp), pp, pp_tps));
    res.samples.push_back(summarize(threads, fmt::format("tg{}", tg), tg, tg_tps));
    const double tg_mean = res.samples.back().mean_tps;

    if (opt.roofline) {
      rf.bandwidth_after_gbs = probe->measure();
      probe.reset();
      rf.threads = threads;
      rf.bandwidth_gbs = (rf.bandwidth_before_gbs + rf.bandwidth_after_gbs) / 2;
      rf.achieved_gbs = static_cast<double>(res.bytes_per_token) * tg_mean / 1e9;
      rf.share = rf.achieved_gbs / rf.bandwidth_gbs;
      res.roofline.push_back(rf);
    }
    const bool f32_llama2c = tr.file().format() == ModelFormat::llama2c && tr.weight_type() == QuantType::F32;
    if (f32_llama2c && !ref_exe.empty()) {
      std::vector<double> ref;
      for (int r = 0; r < opt.reps; ++r) ref.push_back(run_ref_loop(ref_exe, opt.model, tg, threads));
      const BenchSample s = summarize(threads, "ref", tg, ref);
      res.reference.push_back({threads, s.mean_tps, s.sd_tps, tg_mean / s.mean_tps});
    } else if (f32_llama2c && threads == opt.threads.front()) {
      res.notes.push_back("reference loop not found (build bench/ref_llama2c_loop or pass --ref-loop)");
    }
  }
  return res;
}

}  // namespace mecllm::runtime
