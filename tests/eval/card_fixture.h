// Model cards for the deployment-scale and variant-table tests: a footprint of a given size and
// weight width, judged on real device classes from configs/devices, with factworld results of
// a chosen accuracy.
#pragma once

#include <string>
#include <vector>

#include "eval/device.h"
#include "eval/model_card.h"

namespace mecllm::eval::testing {

inline ModelFootprint footprint_of(const std::string& name, int64_t n_params, double bytes_per_param) {
  ModelFootprint m;
  m.name = name;
  m.n_params = n_params;
  m.weight_bytes = double(n_params) * bytes_per_param;
  m.token_embd_bytes = m.weight_bytes / 10;
  m.n_layers = 2;
  m.kv_dim = 128;
  m.q_dim = 256;
  m.seq_len = 64;
  m.vocab_size = 1024;
  m.dim = 256;
  return m;
}

// `correct` of 4 answerable held-out items right, the others wrong (hallucinated).
inline ModelCard card_of(const std::string& name, int64_t n_params, double bytes_per_param, int correct) {
  ModelCard c;
  c.model_path = "/models/" + name + ".gguf";
  c.arch_summary = "llama test";
  c.footprint = footprint_of(name, n_params, bytes_per_param);
  c.file_bytes = c.footprint.weight_bytes + 1000;
  c.host_decode_tok_s = Figure{2000.0, "tok/s", Provenance::measured, "best of 3"};
  c.host_prefill_tok_s = Figure{9000.0, "tok/s", Provenance::measured, "best of 3"};
  c.calibration.bandwidth_share_raw = 2.5;  // cache-resident, as the real tiny variants are
  c.calibration.compute_share_raw = 0.4;
  std::vector<DeviceClass> devices{load_device_class("jetson-nano-4gb"), load_device_class("edge-server-h200")};
  c.accessibility = assess_accessibility(c.footprint, devices, c.calibration, c.accessibility_config);
  std::vector<QaItem> items(4);
  std::vector<QaPrediction> preds;
  for (int i = 0; i < 4; ++i) {
    items[i].difficulty = i < 2 ? "easy" : "medium";
    items[i].answer = "gold";
    items[i].split = "heldout";
    preds.push_back(judge_answer(items[i], i < correct ? "gold" : "wrong", default_abstention_phrases()));
  }
  c.factworld = aggregate_qa(items, preds, QaConfig{});
  return c;
}

}  // namespace mecllm::eval::testing
