#include "llm/train_util.h"

#include <bit>
#include <cmath>
#include <fstream>

#include "common/errors.h"
#include "common/rundir.h"

namespace mecllm::llm {

namespace fs = std::filesystem;

double warmup_cosine_lr(double lr, double min_lr_ratio, int warmup, int total, int step) {
  if (warmup > 0 && step <= warmup) return lr * step / warmup;
  const double span = std::max(1, total - warmup);
  const double progress = std::min(1.0, (step - warmup) / span);
  const double min_lr = lr * min_lr_ratio;
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
}

// The RNG state travels as 4 state words + the spare flag (ints, before the caller's) and the
// spare value (doubles, before the caller's).
void save_training_checkpoint(const fs::path& path, const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                              torch::optim::Optimizer& opt, const Rng& rng, const CheckpointState& state) {
  torch::serialize::OutputArchive ar;
  for (const auto& [prefix, m] : modules)
    for (const auto& p : m->named_parameters()) ar.write(prefix + p.key(), p.value().detach().to(torch::kCPU));
  torch::serialize::OutputArchive opt_ar;
  opt.save(opt_ar);
  ar.write("optimizer", opt_ar);
  const auto st = rng.state();
  std::vector<int64_t> ints;
  for (uint64_t w : st.s) ints.push_back(std::bit_cast<int64_t>(w));
  ints.push_back(st.has_spare ? 1 : 0);
  ints.insert(ints.end(), state.ints.begin(), state.ints.end());
  std::vector<double> doubles = {st.spare};
  doubles.insert(doubles.end(), state.doubles.begin(), state.doubles.end());
  ar.write("state/ints", torch::tensor(ints, torch::kInt64));
  ar.write("state/doubles", torch::tensor(doubles, torch::kFloat64));
  const fs::path tmp = path.string() + ".tmp";
  ar.save_to(tmp.string());
  fs::rename(tmp, path);
}

CheckpointState load_training_checkpoint(const fs::path& path,
                                         const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                                         torch::optim::Optimizer& opt, Rng& rng, size_t n_ints, size_t n_doubles,
                                         const torch::Device& device, const std::string& what) {
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(path.string(), device);
    torch::NoGradGuard no_grad;
    for (const auto& [prefix, m] : modules)
      for (auto& p : m->named_parameters()) {
        torch::Tensor t;
        ar.read(prefix + p.key(), t);
        if (!t.sizes().equals(p.value().sizes()))
          throw_input_error(path.string(), "tensor '{}' has another shape than the configured model", p.key());
        p.value().copy_(t);
      }
    torch::serialize::InputArchive opt_ar;
    ar.read("optimizer", opt_ar);
    opt.load(opt_ar);
    torch::Tensor ints, doubles;
    ar.read("state/ints", ints);
    ar.read("state/doubles", doubles);
    ints = ints.to(torch::kCPU).contiguous();
    doubles = doubles.to(torch::kCPU).contiguous();
    if (static_cast<size_t>(ints.numel()) != 5 + n_ints || static_cast<size_t>(doubles.numel()) != 1 + n_doubles)
      throw_input_error(path.string(), "state tensors have wrong sizes");
    const int64_t* iv = ints.data_ptr<int64_t>();
    const double* dv = doubles.data_ptr<double>();
    Rng::State st{};
    for (int i = 0; i < 4; ++i) st.s[i] = std::bit_cast<uint64_t>(iv[i]);
    st.has_spare = iv[4] != 0;
    st.spare = dv[0];
    rng.set_state(st);
    return {std::vector<int64_t>(iv + 5, iv + 5 + n_ints), std::vector<double>(dv + 1, dv + 1 + n_doubles)};
  } catch (const c10::Error& e) {
    throw_input_error(path.string(), "not a readable {} checkpoint ({})", what, e.what_without_backtrace());
  }
}

void truncate_metrics(const fs::path& path, int64_t step, const std::function<void(const nlohmann::json&)>& on_kept) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step") || j["step"].get<int64_t>() > step) continue;
    kept += line + "\n";
    if (on_kept) on_kept(j);
  }
  in.close();
  write_file_atomic(path, kept);
}

}  // namespace mecllm::llm
