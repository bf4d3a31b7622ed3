// First-order Taylor head importance (Molchanov et al., *Importance Estimation for Neural Network
// Pruning*, CVPR 2019, arXiv:1906.10771): removing head h changes the loss by about
// sum |w * dL/dw| over the head's own parameters (its rows of attn_q and its columns of
// attn_output; K/V rows are shared by the KV group). Needs gradients, hence LibTorch.
#include <torch/torch.h>

#include "common/errors.h"
#include "common/progress.h"
#include "compress/prune.h"
#include "llm/transformer_torch.h"

namespace mecllm::compress {

std::vector<std::vector<double>> taylor_head_importance(const DenseModel& m,
                                                        const std::vector<std::vector<int32_t>>& calib) {
  const auto& c = m.config;
  const int L = c.n_layers, H = c.n_heads, hs = c.head_size();
  llm::Transformer model(c);
  {
    torch::NoGradGuard ng;
    for (auto& p : model->named_parameters()) {
      const auto& w = m.at(p.key());
      MECLLM_CHECK(static_cast<int64_t>(w.size()) == p.value().numel(), "tensor {} has {} values, expected {}", p.key(),
                   w.size(), p.value().numel());
      p.value().copy_(torch::from_blob(const_cast<float*>(w.data()), p.value().sizes(), torch::kFloat32));
    }
  }
  model->eval();  // no dropout anyway; gradients still flow
  std::vector<std::vector<double>> score(L, std::vector<double>(H, 0.0));
  Progress bar("taylor scores", static_cast<int64_t>(calib.size()), "seqs");
  for (size_t si = 0; si < calib.size(); ++si) {
    const auto& w = calib[si];
    if (w.size() < 2) continue;
    auto ids = torch::tensor(std::vector<int64_t>(w.begin(), w.end()), torch::kInt64).view({1, -1});
    const int64_t T = ids.size(1) - 1;
    auto logits = model->forward(ids.narrow(1, 0, T));
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({T, c.vocab_size}), ids.narrow(1, 1, T).reshape({T}));
    model->zero_grad();
    loss.backward();
    torch::NoGradGuard ng;
    for (int l = 0; l < L; ++l) {
      auto& blk = *model->blk[l]->as<llm::BlockImpl>();
      // |w * g| per element, summed over each head's q rows (h*hs..) and attn_output columns.
      auto q = (blk.attn_q->weight * blk.attn_q->weight.grad()).abs().view({H, hs, -1}).sum(std::vector<int64_t>{1, 2});
      auto o = (blk.attn_output->weight * blk.attn_output->weight.grad()).abs().view({-1, H, hs}).sum(std::vector<int64_t>{0, 2});
      auto s = (q + o).to(torch::kFloat64);
      for (int h = 0; h < H; ++h) score[l][h] += s[h].item<double>();
    }
    bar.update(static_cast<int64_t>(si + 1));
  }
  bar.finish();
  for (auto& row : score)
    for (auto& v : row) v /= static_cast<double>(std::max<size_t>(1, calib.size()));
  return score;
}

}  // namespace mecllm::compress
