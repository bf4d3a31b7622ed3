#include "rl/gae.h"

#include "common/errors.h"

namespace mecllm::rl {

void compute_gae(const GaeInput& in, std::span<float> advantages, std::span<float> returns) {
  const size_t T = static_cast<size_t>(in.num_steps), A = static_cast<size_t>(in.num_agents);
  MECLLM_CHECK(in.rewards.size() == T * A && in.values.size() == T * A && in.terminated.size() == T * A &&
               in.truncated.size() == T * A && in.final_values.size() == T * A && in.next_values.size() == A &&
               advantages.size() == T * A && returns.size() == T * A, "compute_gae: sizes do not match T={} A={}", T, A);
  const float gamma = static_cast<float>(in.gamma), lambda = static_cast<float>(in.lambda);
  for (size_t a = 0; a < A; ++a) {
    float lastgaelam = 0;
    for (size_t t = T; t-- > 0;) {
      const size_t i = t * A + a;
      // Value of the state that follows step t: the next stored observation, or (episode cut
      // by the time limit) the pre-reset observation; nothing after a true terminal.
      float next_value = (t + 1 == T) ? in.next_values[a] : in.values[i + A];
      float next_nonterminal = 1.0f;
      bool boundary = false;
      if (in.terminated[i]) {
        next_nonterminal = 0.0f, boundary = true;
      } else if (in.truncated[i]) {
        next_value = in.final_values[i], boundary = true;
      }
      const float delta = in.rewards[i] + gamma * next_nonterminal * next_value - in.values[i];
      // The recursion never crosses an episode boundary (the next stored state is a reset).
      lastgaelam = delta + (boundary ? 0.0f : gamma * lambda * lastgaelam);
      advantages[i] = lastgaelam;
      returns[i] = lastgaelam + in.values[i];
    }
  }
}

}  // namespace mecllm::rl
