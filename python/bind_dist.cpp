// Data parallelism from Python (chapter 15): the ring all-reduce simulated step by step on plain
// arrays, the model of its time and of a data-parallel step's, and how a buffer is split in shards.
// Shapes: N ranks, n floats per buffer (N chunks of shard_counts(n, N)); S = 4n bytes.
#include "bindings.hpp"

#include "gptbook/core/error.hpp"
#include "gptbook/dist/communicator.hpp"
#include "gptbook/dist/ring.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <vector>

namespace gptbook::python {

namespace py = pybind11;

namespace {

/// N buffers from Python: a list of 1-D arrays, or the rows of an (N, n) array; float32 copies.
std::vector<std::vector<float>> buffers_from_python(const py::handle& obj) {
    const py::module_ np = py::module_::import("numpy");
    std::vector<std::vector<float>> buffers;
    for (const py::handle item : obj) {
        const py::array arr = np.attr("asarray")(item);
        const std::string what = "ring_allreduce_simulated: buffers[" + std::to_string(buffers.size()) + "]";
        GPTBOOK_CHECK(arr.ndim() == 1, what << " has " << arr.ndim() << " dimensions, expected a 1-D (n,) array");
        const char kind = arr.dtype().kind();
        GPTBOOK_CHECK(kind == 'f' || kind == 'i' || kind == 'u',
                      what << " has dtype " << py::str(arr.dtype()).cast<std::string>() << ", expected floats");
        const auto f32 = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(arr);
        buffers.emplace_back(f32.data(), f32.data() + f32.size());
    }
    return buffers;
}

/// The N buffers as one (N, n) array, row r = rank r's buffer.
py::array_t<float> stacked(const std::vector<std::vector<float>>& buffers) {
    const size_t N = buffers.size(), n = N ? buffers[0].size() : 0;
    py::array_t<float> out({N, n}); // (N, n)
    for (size_t r = 0; r < N; ++r) std::copy(buffers[r].begin(), buffers[r].end(), out.mutable_data(r, 0));
    return out;
}

} // namespace

void bind_dist(py::module_& m) {
    m.def(
        "ring_allreduce_simulated",
        [](const py::iterable& buffers) {
            std::vector<std::vector<float>> bufs = buffers_from_python(buffers);
            py::list steps;
            ring_allreduce_simulated(bufs, [&](const char* phase, int step, const std::vector<RingTransfer>& sent,
                                               const std::vector<std::vector<float>>& after) {
                py::list messages;
                for (const RingTransfer& t : sent) messages.append(py::make_tuple(t.from, t.to, t.chunk));
                steps.append(py::dict(py::arg("phase") = phase, py::arg("step") = step, py::arg("sent") = messages,
                                      py::arg("buffers") = stacked(after)));
            });
            return py::dict(py::arg("result") = stacked(bufs), py::arg("steps") = steps);
        },
        py::arg("buffers"),
        "ring_allreduce_simulated(buffers) -> dict: sums N buffers the way N ranks in a ring do, in one\n"
        "process. buffers: N 1-D arrays of n floats each (a list, or the rows of an (N, n) array), rank r's\n"
        "gradient in buffers[r]; each is split into N chunks of shard_counts(n, N) floats (empty ones when\n"
        "n < N). Returns result (N, n), every rank's buffer at the end (each row is the sum), and steps, the\n"
        "2(N-1) steps in order, each a dict: phase ('reduce-scatter', then 'all-gather'), step (0 .. N-2 in\n"
        "its phase), sent (N tuples (from, to, chunk): rank `from` sends chunk `chunk` to to = from + 1 mod\n"
        "N) and buffers (N, n) as they are after the step. Each rank sends 2(N-1) chunks: 2(N-1)/N S bytes\n"
        "for an S-byte buffer (eq. 15.3).");
    m.def(
        "ring_allreduce_seconds",
        [](double bytes, int N, double bandwidth, double latency) {
            GPTBOOK_CHECK(bytes >= 0, "ring_allreduce_seconds: bytes is " << bytes << ", expected a size >= 0");
            return ring_allreduce_seconds(bytes, N, bandwidth, latency);
        },
        py::arg("bytes"), py::arg("N"), py::arg("bandwidth"), py::arg("latency"),
        "ring_allreduce_seconds(bytes, N, bandwidth, latency) -> float: the seconds a ring all-reduce of a\n"
        "buffer of S = bytes takes on N ranks (eq. 15.3): 2(N-1)/N S / bandwidth + 2(N-1) latency; 0 for\n"
        "N = 1. bandwidth in bytes per second one link carries each way (Gbit/s x 1e9 / 8), latency in\n"
        "seconds per message.");
    m.def(
        "step_seconds",
        [](double compute_s, double gradient_bytes, double overlappable_s, int N, double bandwidth, double latency) {
            GPTBOOK_CHECK(compute_s >= 0 && gradient_bytes >= 0 && overlappable_s >= 0 && overlappable_s <= compute_s,
                          "step_seconds: compute_s " << compute_s << " s, gradient_bytes " << gradient_bytes
                                                     << ", overlappable_s " << overlappable_s
                                                     << " s; expected sizes and times >= 0 and overlappable_s <= "
                                                        "compute_s (the backward pass is part of the compute)");
            StepCost cost;
            cost.compute_s = compute_s;
            cost.gradient_bytes = gradient_bytes;
            cost.overlappable_s = overlappable_s;
            return step_seconds(cost, N, bandwidth, latency);
        },
        py::arg("compute_s"), py::arg("gradient_bytes"), py::arg("overlappable_s"), py::arg("N"), py::arg("bandwidth"),
        py::arg("latency"),
        "step_seconds(compute_s, gradient_bytes, overlappable_s, N, bandwidth, latency) -> float: a\n"
        "data-parallel step's seconds on N ranks (eq. 15.4): compute_s + max(0, allreduce - overlappable_s),\n"
        "allreduce = ring_allreduce_seconds(gradient_bytes, N, bandwidth, latency). compute_s: one rank's\n"
        "forward, backward and update over its own batch; gradient_bytes: S, 4 bytes per parameter;\n"
        "overlappable_s: the part of compute_s the all-reduce can hide behind (the backward pass), 0 for no\n"
        "overlap. Each rank keeps its batch, so N ranks do N times one rank's work: weak scaling.");
    m.def(
        "shard_counts",
        [](long long n, int N) {
            GPTBOOK_CHECK(n >= 0, "shard_counts: n is " << n << ", expected a number of floats >= 0");
            return shard_counts(static_cast<size_t>(n), N);
        },
        py::arg("n"), py::arg("N"),
        "shard_counts(n, N) -> list[int]: n floats split into N shards (the ring's chunks, ZeRO-1's shards\n"
        "of the optimizer state), as even as can be: the first n mod N get one more. N sizes summing to n;\n"
        "shard r starts at the sum of those before it.");
}

} // namespace gptbook::python
