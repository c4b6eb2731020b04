/**
 * @file
 * @brief Chapter 15 exercises: the averaged gradient of ranks that score different numbers of
 *        tokens, the ring all-reduce simulated in one process, and the largest run the step-time
 *        model allows. The ring over real processes (15.3) is in exercises_mpi.hpp.
 *
 * Shapes: N ranks, n floats per buffer (split into N chunks by shard_counts), P parameters.
 * Each function has a stub in ex_15_M.cpp that throws "not implemented"; replace its body, then run
 * `ctest --test-dir build/release -L exercises -R ch15` until every test passes. 15.1 is a few
 * lines; 15.3, the ring over MPI, asks the most. The library functions named in each comment
 * (gptbook/dist/ring.hpp, communicator.hpp) compute the same thing: read them only after trying.
 */
#pragma once

#include "gptbook/core/tensor.hpp"
#include "gptbook/dist/ring.hpp"

#include <cstddef>
#include <vector>

namespace gptbook::exercises {

/**
 * @brief Exercise 15.1: the gradient of the mean loss over every scored token of every rank,
 * eq. (15.2), when the ranks score different numbers of tokens (the data-parallel engine's 1/N
 * loss scaling, make_data_parallel_engine, is the case of equal n_r):
 * @f[ g = \sum_r \frac{n_r}{\sum_q n_q} g_r @f]
 * A rank with n_r = 0 scored nothing: its g_r is a mean over no tokens (0/0) and contributes
 * nothing, whatever it holds.
 * @param[in] rank_grads    (N) gradients of P floats each; rank_grads[r] is the mean over rank r's tokens
 * @param[in] scored_tokens (N) n_r, the tokens rank r scored
 * @return (P) g
 * Throws gptbook::Error for no ranks, N gradients with a different number of counts, gradients of
 * different sizes, or no scored token at all.
 */
Vec average_gradients(const std::vector<Vec>& rank_grads, const std::vector<size_t>& scored_tokens);

/**
 * @brief Exercise 15.2: the ring all-reduce, simulated in one process (compare
 * ring_allreduce_simulated): every buffer ends holding the sum of all of them. The buffers split
 * into N chunks as shard_counts(n, N) splits them (the first n mod N chunks one longer; some are
 * empty when n < N). Reduce-scatter, N-1 steps s = 0 .. N-2: rank r sends chunk (r - s) mod N to
 * rank r+1 (mod N), which adds it to its own. All-gather, N-1 more steps: rank r sends chunk
 * (r + 1 - s) mod N, which it now holds summed, and rank r+1 copies it. The messages of one step
 * are all sent at once, from the buffers as they were before the step. Each rank sends
 * 2(N-1) chunks, about 2n floats whatever N is: eq. (15.3).
 * @param[in,out] buffers (N) buffers of n floats each, one per rank; N >= 1
 * Throws gptbook::Error for no buffers or buffers of different lengths.
 */
void ring_allreduce(std::vector<std::vector<float>>& buffers);

/**
 * @brief Exercise 15.4: the most ranks a run can use before the all-reduce costs too much, from
 * eqs. (15.3) and (15.4) (compare step_seconds; write the equations yourself): the largest N in
 * 1 .. 4096 whose weak-scaling efficiency compute_s / t(N) is at least `efficiency`, where
 * @f[ t(N) = t_c + \max\left(0,\ \frac{2(N-1)}{N} \frac{S}{\beta} + 2(N-1)\alpha - t_o\right) @f]
 * with t_c = cost.compute_s, S = cost.gradient_bytes, t_o = cost.overlappable_s, beta the bandwidth
 * and alpha the latency. N = 1 sends nothing, so the answer is at least 1.
 * @param[in] cost       one rank's step: compute seconds, gradient bytes, seconds that can hide them
 * @param[in] bandwidth  beta, bytes per second on one link, > 0
 * @param[in] latency    alpha, seconds per message, >= 0
 * @param[in] efficiency the smallest acceptable compute_s / t(N), in (0, 1]
 * @return N
 * Throws gptbook::Error for an efficiency outside (0, 1], a bandwidth <= 0, a latency < 0 or a
 * compute time <= 0.
 */
int max_efficient_ranks(const StepCost& cost, double bandwidth, double latency, double efficiency);

} // namespace gptbook::exercises
