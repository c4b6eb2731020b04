/**
 * @file
 * @brief Activation buffers kept per GPT between Python calls, so that loss(), loss_and_grad()
 *        and next_token_distribution() do not allocate (and page-fault in) every activation of a
 *        (B, T) batch on each call, as the Trainer does not either.
 *
 * Shape legend: B batch, T time, C channels, V vocabulary, L layers, N = B*T tokens.
 *
 * Each model (by address) has at most one cached ActivationTensors, for the last (B, T) it ran. A
 * call borrows it (ActsLease) and gives it back when done; forward() hands its lease to the
 * Forward it returns, which gives the buffers back when Python frees it (its arrays are copies, so
 * nothing still points into them). A call that finds the buffers lent out (a live Forward, another
 * Python thread) or of another shape uses fresh ones, which replace them when given back. The
 * entry goes when the model's Python object does (a weak reference's callback), and each entry has
 * its own id, so a model later allocated at the same address never sees old buffers. Every
 * function here, the lease's constructor and destructor included, runs with the GIL held: the GIL
 * is what guards the cache.
 */
#pragma once

#include "gptbook/model/gpt.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <pybind11/pybind11.h>
#include <utility>

namespace gptbook::python {

/// Activation buffers borrowed from the model's cache and given back on destruction. Construct
/// it before releasing the GIL, in the same scope, so that it is destroyed after the GIL is taken
/// back.
class ActsLease {
public:
    /**
     * @brief Borrows the model's cached buffers when they are for (B, T), else allocates new ones.
     * @param[in] model the model, which must be owned or referenced by a Python object (it is,
     *                  inside a bound method); the cache entry lives as long as that object
     * @param[in] B, T  the batch, 1 <= T <= block_size (else gptbook::Error)
     */
    ActsLease(const GPT& model, int B, int T);
    ~ActsLease();
    ActsLease(ActsLease&& other) noexcept = default; ///< the moved-from lease gives nothing back
    ActsLease(const ActsLease&) = delete;
    ActsLease& operator=(const ActsLease&) = delete;
    ActsLease& operator=(ActsLease&&) = delete;

    /// The buffers: every intermediate of a (B, T) pass, contents left over from earlier calls.
    ActivationTensors& acts() { return *acts_; }
    const ActivationTensors& acts() const { return *acts_; }

private:
    const GPT* model_;                        ///< the cache entry's key
    uint64_t entry_;                          ///< the entry's id: give back only to that entry
    std::unique_ptr<ActivationTensors> acts_; ///< null once moved from
};

/// The (B, T) whose buffers `model` keeps, or nothing (none yet, cleared, or lent out).
std::optional<std::pair<int, int>> cached_batch(const GPT& model);

/// Frees the buffers `model` keeps; the next call allocates again.
void clear_cache(const GPT& model);

} // namespace gptbook::python
