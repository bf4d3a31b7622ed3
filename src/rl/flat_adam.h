// Adam and global gradient-norm clipping over one flat buffer (LibTorch; included by ppo.cpp,
// ppo_update.cpp and wm_ppo.cpp only).
//
// torch::optim::Adam and torch::nn::utils::clip_grad_norm_ loop over the parameter tensors:
// for the actor-critic (14 tensors) that is about 150 small tensor ops per minibatch, more than
// the network's own forward and backward. Here the module's parameters are made views of one
// contiguous buffer and their gradients views of a second one (autograd then accumulates into it
// in place), so a step is six whole-buffer ops and the clip three. The arithmetic is Adam's
// (Kingma & Ba; torch's order of operations: m, v, denom = sqrt(v)/sqrt(bc2) + eps,
// p -= lr/bc1 * m/denom); the clip norm is the 2-norm of the flat gradient, i.e. the same
// quantity clip_grad_norm_ computes as the norm of the per-tensor norms, up to rounding.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace mecllm::rl {

class FlatAdam {
 public:
  FlatAdam(std::vector<torch::Tensor> params, double lr, double eps, double beta1 = 0.9, double beta2 = 0.999)
      : params_(std::move(params)), lr_(lr), eps_(eps), b1_(beta1), b2_(beta2) {
    int64_t n = 0;
    for (const auto& p : params_) n += p.numel();
    flat_ = torch::zeros({n});
    grad_ = torch::zeros({n});
    m_ = torch::zeros({n});
    v_ = torch::zeros({n});
    rebind();
  }

  // Copies the parameters' current values into the flat buffer and makes them (and their
  // gradients) views of it again. Needed after anything that replaces a parameter's storage,
  // e.g. Module::load.
  void rebind() {
    torch::NoGradGuard ng;
    int64_t off = 0;
    for (auto& p : params_) {
      const int64_t k = p.numel();
      auto slot = flat_.narrow(0, off, k);
      slot.copy_(p.detach().reshape({k}));
      p.set_data(slot.view(p.sizes()));
      p.mutable_grad() = grad_.narrow(0, off, k).view(p.sizes());
      off += k;
    }
  }

  void zero_grad() { grad_.zero_(); }
  void set_lr(double lr) { lr_ = lr; }
  int64_t steps() const { return step_; }

  // Scales the gradient so its global 2-norm is at most max_norm (clip_grad_norm_'s rule).
  void clip_grad_norm(double max_norm) {
    torch::NoGradGuard ng;
    auto coef = (max_norm / (grad_.norm() + 1e-6)).clamp_max(1.0);
    grad_.mul_(coef);
  }

  void step() {
    torch::NoGradGuard ng;
    ++step_;
    const double bc1 = 1 - std::pow(b1_, static_cast<double>(step_));
    const double bc2 = 1 - std::pow(b2_, static_cast<double>(step_));
    m_.mul_(b1_).add_(grad_, 1 - b1_);
    v_.mul_(b2_).addcmul_(grad_, grad_, 1 - b2_);
    auto denom = (v_.sqrt() / std::sqrt(bc2)).add_(eps_);
    flat_.addcdiv_(m_, denom, -lr_ / bc1);
  }

  void save(torch::serialize::OutputArchive& ar) const {
    ar.write("m", m_);
    ar.write("v", v_);
    ar.write("step", torch::tensor({step_}, torch::kInt64));
  }
  // Throws (c10::Error / std::exception) when the archive does not fit.
  void load(torch::serialize::InputArchive& ar) {
    torch::Tensor m, v, s;
    ar.read("m", m);
    ar.read("v", v);
    ar.read("step", s);
    TORCH_CHECK(m.sizes() == m_.sizes() && v.sizes() == v_.sizes(), "optimizer state has ", m.numel(),
                " values, this model ", m_.numel());
    m_.copy_(m);
    v_.copy_(v);
    step_ = s.item<int64_t>();
  }

 private:
  std::vector<torch::Tensor> params_;
  torch::Tensor flat_, grad_, m_, v_;
  int64_t step_ = 0;
  double lr_, eps_, b1_, b2_;
};

}  // namespace mecllm::rl
