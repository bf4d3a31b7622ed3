// Device classes: the hardware a variant may be deployed on, one YAML file per class under
// configs/devices/ (loaded with common/config.h, so unknown keys and bad values are errors).
// Every number carries a `<field>_source` string naming its public source or how it was
// measured. The class `host` has `measure_on_host: true`: its bandwidth, compute and memory
// are measured on the spot (eval/host_probe.h) and the file only gives fallback power figures.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace mecllm::eval {

struct DeviceClass {
  std::string name;         // "jetson-nano-4gb"; equals the file stem
  std::string description;  // one line: SoC, memory, power mode
  double memory_bandwidth_gbs = 0.0;  // theoretical peak DRAM bandwidth, GB/s (1e9 B/s)
  std::string memory_bandwidth_source;
  double memory_gb = 0.0;             // installed memory, GB (1e9 B)
  double usable_memory_gb = 0.0;      // what one inference process may use, GB
  std::string usable_memory_source;
  double peak_gflops = 0.0;           // peak FP32 (CPU) or dense FP16/BF16 (GPU) GFLOP/s of the engine's target
  std::string peak_gflops_source;
  double active_power_w = 0.0;        // whole-device power while running inference, W
  std::string active_power_source;
  double idle_power_w = 0.0;          // whole-device power while idle, W
  std::string idle_power_source;
  bool measure_on_host = false;       // `host`: measure bandwidth, compute, memory when loaded

  template <class V>
  void visit(V& v) {
    v("name", name, "device class name (the file stem)");
    v("description", description, "SoC, memory and power mode");
    v("memory_bandwidth_gbs", memory_bandwidth_gbs, "peak DRAM bandwidth (GB/s)");
    v("memory_bandwidth_source", memory_bandwidth_source);
    v("memory_gb", memory_gb, "installed memory (GB)");
    v("usable_memory_gb", usable_memory_gb, "memory one inference process may use (GB)");
    v("usable_memory_source", usable_memory_source);
    v("peak_gflops", peak_gflops, "peak compute of the inference engine's target (GFLOP/s)");
    v("peak_gflops_source", peak_gflops_source);
    v("active_power_w", active_power_w, "device power during inference (W)");
    v("active_power_source", active_power_source);
    v("idle_power_w", idle_power_w, "device power when idle (W)");
    v("idle_power_source", idle_power_source);
    v("measure_on_host", measure_on_host, "measure bandwidth/compute/memory on this machine");
  }
  void validate(const config::ConfigErrors& err) const;
};

// Loads one class by name ("jetson-nano-4gb", looked up in configs/devices/) or path.
// A `host` class is returned as written (call measure_host() to fill in the measurements).
DeviceClass load_device_class(const std::string& name_or_path);

// Names of every configs/devices/*.yaml, sorted.
std::vector<std::string> list_device_classes();

// "all" or a comma list ("host,jetson-nano-4gb") -> loaded classes, in the order given
// ("all": sorted, host first).
std::vector<DeviceClass> load_device_classes(const std::string& selection);

}  // namespace mecllm::eval
