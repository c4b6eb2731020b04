// Data parallelism over the ranks of a Communicator (chapter 15). See data_parallel.hpp.
// Shapes: N ranks, P parameters, PT trainable, L layers.
#include "gptbook/train/data_parallel.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/optim/clip.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace gptbook {

namespace {

using Clock = std::chrono::steady_clock;

struct Range {
    size_t first = 0, count = 0;
};

// The gradient buckets of ZeRO-0's overlap: block l's tensors (contiguous in the layout, h.l.*),
// and what lies before the first block (wte, wpe) and after the last (ln_f, lm_head, heads).
struct Buckets {
    std::vector<Range> block; // (L)
    Range before, after;
};

Buckets buckets_of(const std::vector<ParamSpec>& layout, int L) {
    Buckets b;
    b.block.resize(L);
    std::vector<size_t> numel(L, 0);
    for (const ParamSpec& s : layout) {
        int l = -1;
        if (s.name.rfind("h.", 0) == 0) l = std::stoi(s.name.substr(2));
        if (l < 0) continue;
        Range& r = b.block[l];
        if (numel[l] == 0) r.first = s.offset;
        GPTBOOK_CHECK(s.offset == r.first + numel[l], "data parallelism: block "
                                                          << l << "'s tensors are not contiguous in "
                                                          << "the parameter layout (at " << s.name
                                                          << "); its gradient bucket needs them so");
        numel[l] += s.numel;
        r.count = numel[l];
    }
    const size_t P = parameter_count(layout);
    b.before = {0, L > 0 ? b.block[0].first : P};
    const size_t end = L > 0 ? b.block[L - 1].first + b.block[L - 1].count : P;
    b.after = {end, P - end};
    return b;
}

class DataParallelEngine final : public StepEngine {
public:
    DataParallelEngine(GPT& model, AdamWState& adam, int batch_size, Communicator& comm,
                       const DataParallelOptions& options)
        : model_(model), adam_(adam), comm_(comm), options_(options),
          buckets_(overlapping() ? buckets_of(model.layout, model.config.n_layer) : Buckets{}) {
        GPTBOOK_CHECK(options.zero == 0 || options.zero == 1,
                      "data parallelism: --zero " << options.zero << "; expected 0 (replicated optimizer state) or 1 "
                                                  << "(sharded AdamW moments)");
        GPTBOOK_CHECK(options.micro_batches >= 1,
                      "data parallelism: " << options.micro_batches << " micro-batches per step; expected >= 1");
        std::function<void(int)> hook; // each block's all-reduce, started as its backward ends
        if (overlapping()) hook = [this](int l) { block_done(l); };
        inner_ = make_cpu_step_engine(model, adam, batch_size, std::move(hook));
        if (options.zero == 1) {
            counts_ = shard_counts(model.params.n_elem, comm.size());
            shard_ = {shard_offset(counts_, comm.rank()), counts_[comm.rank()]};
            for (int r = 0; r < comm.size(); ++r)
                moment_counts_.push_back(moment_range(model.layout, shard_offset(counts_, r), counts_[r]).count);
            const MomentRange mr = moment_range(model.layout, shard_.first, shard_.count);
            moments_ = AdamWState(mr.count);         // zeros for a fresh run (the trainer made no others)
            if (mr.count > 0 && adam.m.n_elem > 0) { // a resumed run's: this rank's part of them
                moments_.m = adam.m.subvec(mr.first, mr.first + mr.count - 1);
                moments_.v = adam.v.subvec(mr.first, mr.first + mr.count - 1);
            }
            moments_.step = adam.step;
            adam.m.reset(); // this rank keeps its shard only: that is ZeRO-1's saving
            adam.v.reset();
            grad_shard_.set_size(shard_.count);
        }
    }

    void zero_grad() override {
        inner_->zero_grad();
        micro_ = 0;
    }

    void forward_backward(const Batch& batch, float loss_scale, uint64_t dropout_seed) override {
        ++micro_;
        inner_->forward_backward(batch, loss_scale, dropout_seed); // block_done() starts the blocks' sums
        if (overlapping() && micro_ == options_.micro_batches) {
            start(buckets_.after);  // ln_f and the head, done before the blocks
            start(buckets_.before); // the embeddings, done last
        }
    }

    void add_eval_loss(const Batch& batch) override { inner_->add_eval_loss(batch); }

    double take_loss() override {
        double sum = inner_->take_loss();
        const auto t0 = Clock::now();
        comm_.allreduce_sum(&sum, 1);
        comm_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
        return sum;
    }

    float clip_and_update(float lr, float grad_clip, const AdamWConfig& config) override {
        const auto t0 = Clock::now();
        if (options_.zero == 0) {
            if (overlapping()) {
                for (PendingCollective& p : pending_) p.wait();
                pending_.clear();
            } else {
                comm_.allreduce_sum(model_.grads.memptr(), model_.grads.n_elem); // eq. (15.1), one message
            }
            comm_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
            return inner_->clip_and_update(lr, grad_clip, config); // the same step on every rank
        }
        // ZeRO-1: the sum of this rank's shard only, its norm's part, its update, then everyone's.
        adam_.m.reset(); // rank 0's gathered copy from the last checkpoint
        adam_.v.reset();
        comm_.reduce_scatter_sum(model_.grads.memptr(), grad_shard_.memptr(), counts_);
        double square_sum = grad_square_sum(grad_shard_.memptr(), grad_shard_.n_elem);
        comm_.allreduce_sum(&square_sum, 1);
        double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        const float norm = static_cast<float>(std::sqrt(square_sum));
        const float factor = clip_factor(norm, grad_clip); // eq. (6.19) on the whole gradient's norm
        if (factor < 1.0f) grad_shard_ *= factor;
        adamw_update_range(model_.params, grad_shard_.memptr(), moments_, model_.layout, shard_.first, shard_.count, lr,
                           config);
        adam_.step = moments_.step;
        const auto t1 = Clock::now();
        comm_.allgather(model_.params.memptr(), counts_);
        seconds += std::chrono::duration<double>(Clock::now() - t1).count();
        comm_seconds_ += seconds;
        return norm;
    }

    void copy_to_host() override {
        if (options_.zero == 0) return; // every rank holds everything
        // ZeRO-1: rank 0 gathers the moments for the checkpoint (freed again at the next step).
        const size_t PT = trainable_count(model_.layout);
        if (comm_.rank() == 0) {
            adam_.m.set_size(PT);
            adam_.v.set_size(PT);
        }
        comm_.gather_to_root(moments_.m.memptr(), adam_.m.memptr(), moment_counts_);
        comm_.gather_to_root(moments_.v.memptr(), adam_.v.memptr(), moment_counts_);
        adam_.step = moments_.step;
    }

    double communication_seconds() const override { return comm_seconds_; }

private:
    bool overlapping() const { return options_.zero == 0 && options_.overlap && comm_.size() > 1; }

    void start(const Range& r) {
        if (r.count == 0) return;
        pending_.push_back(comm_.start_allreduce_sum(model_.grads.memptr() + r.first, r.count));
    }

    // Block l's gradients are final in the last micro-batch: send them, and let the sums already
    // in flight move on (MPI progresses them only inside its calls).
    void block_done(int l) {
        if (micro_ != options_.micro_batches) return;
        start(buckets_.block[l]);
        for (PendingCollective& p : pending_) p.test();
    }

    GPT& model_;
    AdamWState& adam_;
    Communicator& comm_;
    DataParallelOptions options_;
    Buckets buckets_;
    std::unique_ptr<StepEngine> inner_;
    std::vector<PendingCollective> pending_; // ZeRO-0 with overlap: the buckets in flight
    int micro_ = 0;                          // forward_backward() calls since zero_grad()
    double comm_seconds_ = 0.0;
    // ZeRO-1
    std::vector<size_t> counts_;        // (N) each rank's shard of the P floats
    std::vector<size_t> moment_counts_; // (N) the trainable floats in each shard
    Range shard_;                       // this rank's
    AdamWState moments_;                // its moments and the step
    Vec grad_shard_;                    // the summed gradient of its shard
};

} // namespace

OptimizerMemory optimizer_memory(const std::vector<ParamSpec>& layout, int zero, int N, int rank) {
    OptimizerMemory m;
    m.moments_total = 2 * trainable_count(layout);
    if (zero == 0) {
        m.moments_per_rank = m.moments_total;
    } else {
        const std::vector<size_t> counts = shard_counts(parameter_count(layout), N);
        m.moments_per_rank = 2 * moment_range(layout, shard_offset(counts, rank), counts[rank]).count;
    }
    return m;
}

std::unique_ptr<StepEngine> make_data_parallel_engine(GPT& model, AdamWState& adam, int batch_size, Communicator& comm,
                                                      const DataParallelOptions& options) {
    return std::make_unique<DataParallelEngine>(model, adam, batch_size, comm, options);
}

} // namespace gptbook
