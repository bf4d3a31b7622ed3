#include <gtest/gtest.h>

#include <vector>

#include "common/rng.h"
#include "mec/edge_queue.h"

namespace mecllm::mec {
namespace {

// Feeds a single-slot server (b_max = 1, no prefill) with Poisson arrivals at rate lambda and
// returns the mean wait in queue. Clocks are shifted slot by slot as in the environment.
template <class ServiceTokens>
double simulate_mean_wait(double lambda, double s_per_tok, ServiceTokens service_tokens, int n_jobs) {
  EdgeTiming t{0.0, s_per_tok, 0.05, 1};
  std::vector<double> block(edge_block_size(1), 0.0);
  Rng rng(2024);
  double now = 0, slot_start = 0, wait = 0;
  const double slot = 1.0;
  for (int j = 0; j < n_jobs; ++j) {
    now += rng.exponential(lambda);
    while (now - slot_start >= slot) {  // advance the server clock slot by slot
      edge_shift(block.data(), 1, slot);
      slot_start += slot;
    }
    double arrival = now - slot_start;
    EdgeAdmission a = edge_admit(block.data(), t, arrival, 0.0, service_tokens(rng));
    wait += a.decode_start - arrival;
  }
  return wait / n_jobs;
}

TEST(EdgeQueue, poisson_fed_deterministic_service_matches_md1_mean_wait) {
  // M/D/1: Wq = rho / (2 mu (1 - rho)). Service 100 tokens at 0.005 s/token = 0.5 s, lambda 1.4/s.
  const double lambda = 1.4, service = 0.5, rho = lambda * service, mu = 1.0 / service;
  double expected = rho / (2.0 * mu * (1.0 - rho));
  double measured = simulate_mean_wait(lambda, 0.005, [](Rng&) { return 100.0; }, 400000);
  EXPECT_NEAR(measured / expected, 1.0, 0.03) << "measured " << measured << " expected " << expected;
}

TEST(EdgeQueue, poisson_fed_exponential_service_matches_mm1_mean_wait) {
  // M/M/1: Wq = rho / (mu - lambda). Mean service 0.5 s, lambda 1.2/s.
  const double lambda = 1.2, service = 0.5, mu = 1.0 / service, rho = lambda * service;
  double expected = rho / (mu - lambda);
  double measured = simulate_mean_wait(lambda, 0.005, [](Rng& r) { return r.exponential(1.0 / 100.0); }, 400000);
  EXPECT_NEAR(measured / expected, 1.0, 0.04) << "measured " << measured << " expected " << expected;
}

TEST(EdgeQueue, full_batch_slows_each_sequence_by_kappa) {
  EdgeTiming t{0.001, 0.01, 0.05, 4};
  std::vector<double> block(edge_block_size(4), 0.0);
  // Four sequences arrive together: prefill 10 tokens = 0.01 s, then decode 100 tokens each.
  for (int k = 0; k < 4; ++k) {
    EdgeAdmission a = edge_admit(block.data(), t, 0.0, 10.0, 100.0);
    EXPECT_EQ(a.batch, k + 1);
    EXPECT_NEAR(a.decode_start, 0.01, 1e-12);
    EXPECT_NEAR(a.done, 0.01 + 100 * 0.01 * (1 + 0.05 * k), 1e-12);
  }
  // A fifth waits for the first slot to free up.
  EdgeAdmission a = edge_admit(block.data(), t, 0.0, 10.0, 100.0);
  EXPECT_NEAR(a.decode_start, 0.01 + 1.0, 1e-12);
}

TEST(EdgeQueue, later_request_backfills_the_gap_before_a_slow_upload) {
  EdgeTiming t{0.0, 0.01, 0.0, 1};
  std::vector<double> block(edge_block_size(1), 0.0);
  // A slow upload reserves the only slot from t = 10 s; a request decided after it but arriving
  // at t = 1 s (1 s of work) is served in the idle gap instead of waiting until 11 s.
  EdgeAdmission slow = edge_admit(block.data(), t, 10.0, 0.0, 100.0);
  EXPECT_NEAR(slow.done, 11.0, 1e-12);
  EdgeAdmission quick = edge_admit(block.data(), t, 1.0, 0.0, 100.0);
  EXPECT_NEAR(quick.decode_start, 1.0, 1e-12);
  EXPECT_NEAR(quick.done, 2.0, 1e-12);
  // One that does not fit in what is left of the gap (2 s .. 10 s) waits for the reservation.
  EdgeAdmission big = edge_admit(block.data(), t, 2.0, 0.0, 900.0);
  EXPECT_NEAR(big.decode_start, 11.0, 1e-12);
}

TEST(EdgeQueue, backlog_carries_over_slots) {
  EdgeTiming t{0.0, 0.01, 0.0, 1};
  std::vector<double> block(edge_block_size(1), 0.0);
  edge_admit(block.data(), t, 0.0, 0.0, 250.0);  // 2.5 s of work
  EXPECT_NEAR(edge_backlog_s(block.data(), 1), 2.5, 1e-12);
  edge_shift(block.data(), 1, 1.0);
  EXPECT_NEAR(edge_backlog_s(block.data(), 1), 1.5, 1e-12);
  EXPECT_EQ(edge_busy_slots(block.data(), 1), 1);
  edge_shift(block.data(), 1, 2.0);
  EXPECT_EQ(edge_backlog_s(block.data(), 1), 0.0);
  EXPECT_EQ(edge_busy_slots(block.data(), 1), 0);
}

}  // namespace
}  // namespace mecllm::mec
