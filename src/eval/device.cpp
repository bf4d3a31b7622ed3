#include "eval/device.h"

#include <algorithm>
#include <filesystem>

#include "common/errors.h"

namespace mecllm::eval {

namespace fs = std::filesystem;

void DeviceClass::validate(const config::ConfigErrors& err) const {
  err.require(!name.empty(), "name", "must be a non-empty device class name");
  err.require(memory_gb > 0 || measure_on_host, "memory_gb", "must be > 0");
  err.require(usable_memory_gb > 0 || measure_on_host, "usable_memory_gb", "must be > 0");
  err.require(usable_memory_gb <= memory_gb || measure_on_host, "usable_memory_gb", "must be <= memory_gb");
  err.require(memory_bandwidth_gbs > 0 || measure_on_host, "memory_bandwidth_gbs", "must be > 0");
  err.require(peak_gflops > 0 || measure_on_host, "peak_gflops", "must be > 0");
  err.require(active_power_w > 0, "active_power_w", "must be > 0");
  err.require(idle_power_w >= 0 && idle_power_w <= active_power_w, "idle_power_w", "must be in [0, active_power_w]");
  // Sourced numbers are the point of these files: a figure without a source is rejected.
  if (!measure_on_host) {
    err.require(!memory_bandwidth_source.empty(), "memory_bandwidth_source", "must name the public source");
    err.require(!usable_memory_source.empty(), "usable_memory_source", "must name the source or assumption");
    err.require(!peak_gflops_source.empty(), "peak_gflops_source", "must name the public source");
  }
  err.require(!active_power_source.empty(), "active_power_source", "must name the public source");
  err.require(!idle_power_source.empty(), "idle_power_source", "must name the public source");
}

DeviceClass load_device_class(const std::string& name_or_path) {
  DeviceClass d;
  config::load_layers(d, {name_or_path}, {}, "devices");
  return d;
}

std::vector<std::string> list_device_classes() {
  fs::path dir = fs::path(config::config_dir()) / "devices";
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  if (ec) throw InputError(dir.string() + ": cannot list device classes: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<DeviceClass> load_device_classes(const std::string& selection) {
  std::vector<std::string> names;
  if (selection == "all") {
    names = list_device_classes();
    auto host = std::find(names.begin(), names.end(), "host");
    if (host != names.end()) std::rotate(names.begin(), host, host + 1);
  } else {
    names = config::split_list(selection);
  }
  if (names.empty()) throw InputError("--devices '" + selection + "': no device classes selected");
  std::vector<DeviceClass> out;
  for (const auto& n : names) out.push_back(load_device_class(n));
  return out;
}

}  // namespace mecllm::eval
