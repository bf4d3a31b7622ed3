#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/errors.h"
#include "common/log.h"
#include "common/rundir.h"
#include "eval/energy.h"
#include "eval/eval_run.h"
#include "eval/host_probe.h"
#include "eval/runtime_model.h"
#include "eval/tasks.h"

namespace mecllm::eval {

namespace fs = std::filesystem;

void EvalConfig::validate(const config::ConfigErrors& err) const {
  static const std::vector<std::string> known{"factworld", "halueval", "mc", "truthfulqa", "perplexity"};
  auto list = config::split_list(tasks);
  err.require(!list.empty(), "tasks", "must name at least one task");
  for (const auto& t : list)
    err.require(std::find(known.begin(), known.end(), t) != known.end(), "tasks",
                "unknown task '" + t + "', expected factworld, halueval, mc, truthfulqa or perplexity");
  err.require(threads >= 0, "threads", "must be >= 0");
  err.require(max_items >= 0, "max_items", "must be >= 0");
  err.require(speed_reps >= 1, "speed_reps", "must be >= 1");
  err.require(idle_seconds > 0, "idle_seconds", "must be > 0");
  qa.validate(err.nested("qa"));
  perplexity.validate(err.nested("perplexity"));
  accessibility.validate(err.nested("accessibility"));
}

namespace {

std::string need_file(const std::string& given, const std::string& data_dir, const std::string& name,
                      const std::string& task, const std::string& flag) {
  std::string p = !given.empty() ? given : (!data_dir.empty() ? (fs::path(data_dir) / name).string() : "");
  if (p.empty())
    throw InputError("task '" + task + "' needs " + flag + " FILE" +
                     (name.empty() ? std::string() : " or --data DIR (with " + name + ")"));
  if (!fs::exists(p)) throw InputError(p + ": no such file (task '" + task + "')");
  return p;
}

template <class T>
void cap(std::vector<T>& v, int max_items) {
  if (max_items > 0 && v.size() > size_t(max_items)) v.resize(size_t(max_items));
}

void write_predictions(const RunDir& dir, const std::string& name, const std::vector<QaItem>& items,
                       const QaResult& r) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& p = r.predictions[i];
    out += nlohmann::json{{"id", p.id},
                          {"question", items[i].question},
                          {"gold", items[i].answer},
                          {"answerable", items[i].answerable},
                          {"difficulty", items[i].difficulty},
                          {"split", items[i].split},
                          {"prediction", p.prediction},
                          {"correct", p.correct},
                          {"abstained", p.abstained},
                          {"hallucinated", p.hallucinated}}
               .dump() +
           "\n";
  }
  write_file_atomic(dir.file("predictions_" + name + ".jsonl"), out);
}

}  // namespace

ModelCard run_eval(const EvalConfig& cfg, const EvalInputs& in, const fs::path& out_dir, const std::string& config_echo) {
  // Check every input before the slow parts, so a typo fails in a second.
  auto tasks = config::split_list(cfg.tasks);
  auto has = [&](const char* t) { return std::find(tasks.begin(), tasks.end(), t) != tasks.end(); };
  std::vector<std::string> fw_files;
  if (has("factworld")) {
    if (!in.factworld_files.empty()) fw_files = config::split_list(in.factworld_files);
    else
      for (const char* n : {"qa_heldout.jsonl", "qa_unanswerable.jsonl"})
        fw_files.push_back(need_file("", in.data_dir, n, "factworld", "--factworld"));
    for (const auto& f : fw_files)
      if (!fs::exists(f)) throw InputError(f + ": no such file (task 'factworld')");
  }
  std::string halueval_file = has("halueval") ? need_file(in.halueval_file, "", "", "halueval", "--halueval") : "";
  std::string mc_file = has("mc") ? need_file(in.mc_file, "", "", "mc", "--mc") : "";
  std::string tqa_file = has("truthfulqa") ? need_file(in.truthfulqa_file, "", "", "truthfulqa", "--truthfulqa") : "";
  std::string text_file = has("perplexity") ? need_file(in.text_file, in.data_dir, "text_heldout.txt", "perplexity", "--text") : "";
  std::vector<DeviceClass> devices = load_device_classes(cfg.devices);

  RunDir dir(out_dir);
  dir.write_config(config_echo);

  int threads = cfg.threads > 0 ? cfg.threads : std::max(1, int(std::thread::hardware_concurrency()));
  log_info("eval: loading {} ({} threads)", in.model_path, threads);
  RuntimeModel model({in.model_path, in.tokenizer_path, threads, cfg.weight_type});

  ModelCard card;
  card.model_path = in.model_path;
  card.arch_summary = model.arch_summary();
  card.footprint = model.footprint();
  card.file_bytes = fs::is_directory(in.model_path) ? card.footprint.weight_bytes : double(fs::file_size(in.model_path));
  card.accessibility_config = cfg.accessibility;

  // ---- host: measure the machine, then the model's speed (and energy) on it
  RaplReader rapl;
  double idle_w = 0.0;
  for (auto& d : devices) {
    if (!d.measure_on_host) continue;
    log_info("eval: measuring host bandwidth and compute");
    d = measure_host(d, threads);
    if (rapl.available()) {
      idle_w = measure_idle_power_w(rapl, cfg.idle_seconds);
      d.idle_power_w = idle_w;
      d.idle_power_source = fmt::format("measured on this machine: RAPL {} over {:.1f} s idle", rapl.describe(), cfg.idle_seconds);
    }
  }
  const DeviceClass* host = nullptr;
  for (const auto& d : devices)
    if (d.measure_on_host) host = &d;
  const auto& ac = cfg.accessibility;
  HostSpeed speed;
  double fallback_power = host ? host->active_power_w : 35.0;
  EnergyFigure energy = measure_energy(rapl, idle_w, fallback_power, [&] {
    speed = model.measure_speed(ac.prompt_tokens, ac.output_tokens, cfg.speed_reps, cfg.seed);
  });
  // The meter saw speed_reps queries; one query's share is its time over the whole.
  double all_s = energy.seconds;
  double one_s = speed.prefill_s + speed.decode_s;
  energy.joules *= all_s > 0 ? one_s / all_s : 1.0;
  energy.seconds = one_s;
  card.host_energy_per_query = energy;
  std::string speed_how = fmt::format("best of {} queries of {} prompt + {} generated tokens", cfg.speed_reps,
                                      speed.prompt_tokens, speed.output_tokens);
  card.host_prefill_tok_s = Figure{speed.prefill_tok_s(), "tok/s", Provenance::measured, speed_how};
  card.host_decode_tok_s = Figure{speed.decode_tok_s(), "tok/s", Provenance::measured, speed_how};
  if (host) {
    for (auto& d : devices)
      if (d.measure_on_host && rapl.available() && one_s > 0) {
        d.active_power_w = std::max(d.idle_power_w, energy.joules / one_s + idle_w);
        d.active_power_source = "measured on this machine: RAPL during the reference query";
      }
    card.calibration = calibrate_roofline(card.footprint, *host, speed.decode_tok_s(), speed.prefill_tok_s(),
                                          speed.prompt_tokens + speed.output_tokens / 2.0, model.kv_elem_bytes());
  } else {
    log_warn("eval: no measure_on_host device selected: roofline uses default efficiencies (estimated)");
  }
  card.accessibility = assess_accessibility(card.footprint, devices, card.calibration, cfg.accessibility);

  // ---- tasks
  if (has("factworld")) {
    std::vector<QaItem> items;
    for (const auto& f : fw_files) {
      auto part = load_factworld_jsonl(f);
      cap(part, cfg.max_items);  // per file, so a cap keeps both held-out and unanswerable items
      items.insert(items.end(), part.begin(), part.end());
    }
    card.factworld = score_qa(model, items, cfg.qa, true);
    write_predictions(dir, "factworld", items, *card.factworld);
  }
  if (has("halueval")) {
    auto items = load_halueval_qa(halueval_file);
    cap(items, cfg.max_items);
    card.halueval = score_qa(model, items, cfg.qa, true);
    write_predictions(dir, "halueval", items, *card.halueval);
  }
  if (has("mc")) {
    auto items = load_mc_jsonl(mc_file);
    cap(items, cfg.max_items);
    card.mc = score_mc(model, items, cfg.mc, true);
  }
  if (has("truthfulqa")) {
    auto items = load_truthfulqa_mc(tqa_file);
    cap(items, cfg.max_items);
    card.truthfulqa = score_truthfulqa(model, items, cfg.truthfulqa, true);
  }
  if (has("perplexity")) card.perplexity = score_perplexity(model, load_text(text_file), cfg.perplexity, text_file, true);

  write_model_card(card, dir.path());
  dir.write_json("summary.json", card.to_json());
  return card;
}

}  // namespace mecllm::eval
