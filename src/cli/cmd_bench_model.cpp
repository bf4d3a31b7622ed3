// mecllm bench model -m MODEL [--threads 1,2] [--reps 5] [--pp 512] [--tg 128] [--roofline]
//                    [--type q8_0] [--kv-type f16] [--ref-loop PATH] [--out DIR]
//   Prompt processing and generation tokens/s (mean +- sd), the roofline share of the measured
//   memory bandwidth, and F32 against the plain C reference loop, in one run.
#include <fmt/format.h>

#include <sstream>

#include "cli/bench_registry.h"
#include "cli/runtime_flags.h"
#include "common/errors.h"
#include "common/rundir.h"
#include "runtime/bench_model.h"

namespace {

using namespace mecllm::runtime;

std::vector<int> parse_threads(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 1) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw mecllm::InputError(fmt::format("--threads = '{}': '{}' is not a thread count >= 1", s, item));
    }
  }
  return out;
}

void setup(CLI::App& app) {
  struct Args {
    std::string threads = "1", type, kv_type = "f32", out;
    BenchModelOptions opt;
  };
  auto a = std::make_shared<Args>();
  app.add_option("-m,--model", a->opt.model, "model file")->required();
  app.add_option("--threads", a->threads, "comma-separated thread counts")->capture_default_str();
  app.add_option("--reps", a->opt.reps, "repetitions per test")->capture_default_str();
  app.add_option("--pp", a->opt.n_prompt, "prompt tokens of the pp test")->capture_default_str();
  app.add_option("--tg", a->opt.n_gen, "generated tokens of the tg test")->capture_default_str();
  app.add_flag("--roofline", a->opt.roofline, "measure memory bandwidth and the share generation reaches");
  app.add_option("--type", a->type, "re-quantise weights at load: f16, q8_0, q4_0, q4_k");
  app.add_option("--kv-type", a->kv_type, "KV cache type: f32 or f16")->capture_default_str();
  app.add_option("--ref-loop", a->opt.ref_loop, "ref_llama2c_loop binary (default: beside mecllm)");
  app.add_option("--out", a->out, "directory for bench_model.json");
  app.callback([a] {
    a->opt.threads = parse_threads(a->threads);
    if (!a->type.empty()) a->opt.weight_type = mecllm::cli::parse_quant_type("--type", a->type);
    a->opt.kv_type = mecllm::cli::parse_quant_type("--kv-type", a->kv_type);
    const BenchModelResult r = bench_model(a->opt);
    fmt::print("bench model: {} ({}, {} kernels), {:.1f} MB read per generated token\n", r.model, r.weight_type, r.simd,
               static_cast<double>(r.bytes_per_token) / 1e6);
    for (const auto& n : r.notes) fmt::print("note: {}\n", n);
    fmt::print("{:>8} {:>8} {:>12} {:>10}\n", "threads", "test", "t/s", "sd");
    for (const auto& s : r.samples) fmt::print("{:>8} {:>8} {:>12.2f} {:>10.2f}\n", s.threads, s.test, s.mean_tps, s.sd_tps);
    for (const auto& f : r.roofline) {
      fmt::print("roofline threads {}: streaming bandwidth {:.2f} GB/s (before tg {:.2f}, after tg {:.2f}), "
                 "generation reads {:.2f} GB/s = {:.1f}% of it\n",
                 f.threads, f.bandwidth_gbs, f.bandwidth_before_gbs, f.bandwidth_after_gbs, f.achieved_gbs, 100 * f.share);
    }
    for (const auto& f : r.reference) {
      fmt::print("reference threads {}: ref_llama2c_loop {:.2f} +- {:.2f} t/s; mecllm tg / reference = {:.2f}x\n",
                 f.threads, f.ref_tps, f.ref_sd, f.ratio);
    }
    if (!a->out.empty()) {
      mecllm::RunDir dir(a->out);
      dir.write_json("bench_model.json", r.to_json());
      fmt::print("wrote {}\n", dir.file("bench_model.json").string());
    }
  });
}

const mecllm::cli::BenchRegistrar reg{"model", "CPU runtime speed: pp/tg tokens/s, roofline, reference loop", &setup};

}  // namespace
