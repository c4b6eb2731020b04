// Activation buffers kept per GPT between Python calls. See activation_cache.hpp.
// Shapes: B batch, T time, C channels, V vocabulary, N = B*T tokens.
#include "activation_cache.hpp"

#include <unordered_map>

namespace gptbook::python {

namespace py = pybind11;

namespace {

/// One model's cache: its buffers (null while lent out or after clear_cache()) and an id no
/// other entry ever gets (from 1; a lease with id 0 has no entry).
struct Entry {
    uint64_t id = 0;
    std::unique_ptr<ActivationTensors> acts;
};

/// Each model's entry, under its address, for as long as its Python object lives. Guarded by the GIL.
std::unordered_map<const GPT*, Entry>& entries() {
    static std::unordered_map<const GPT*, Entry> cache;
    return cache;
}

/// Adds an entry for `model`, removed when its Python object dies (a weakref callback, as
/// pybind11's keep_alive does).
void track(const GPT* model) {
    static uint64_t last_id = 0;
    entries()[model].id = ++last_id;
    // The Python object already bound to this address (a bound method's self): pybind11 returns
    // it rather than a new one. Were it a new one, it would die here and take the entry with it.
    const py::object self = py::cast(model, py::return_value_policy::reference);
    const py::cpp_function forget([model](py::handle weakref) {
        entries().erase(model);
        weakref.dec_ref();
    });
    py::weakref(self, forget).release(); // the callback drops this last reference
}

/// Buffers the model's config and (B, T) fit: the config is fixed for a model's lifetime, so this
/// only guards against a stale entry.
bool fits(const ActivationTensors& a, const GPTConfig& c, int B, int T) {
    // A classifier has no (V, N) logits, only (K, B) class scores.
    const arma::uword V = c.n_classes > 0 ? 0 : static_cast<arma::uword>(c.vocab_size);
    return a.B == B && a.T == T && a.h.size() == static_cast<size_t>(c.n_layer) && a.logits.n_rows == V &&
           a.cls_logits.n_rows == static_cast<arma::uword>(c.n_classes) &&
           a.encoded.n_rows == static_cast<arma::uword>(c.n_embd);
}

} // namespace

ActsLease::ActsLease(const GPT& model, int B, int T) : model_(&model), entry_(0) {
    if (!entries().contains(model_)) track(model_);
    auto it = entries().find(model_);
    if (it != entries().end()) {
        Entry& e = it->second;
        entry_ = e.id;
        if (e.acts && fits(*e.acts, model.config, B, T)) acts_ = std::move(e.acts);
        e.acts.reset(); // another shape: freed before allocating, not to hold both
    }
    if (!acts_) acts_ = std::make_unique<ActivationTensors>(model.config, B, T);
}

ActsLease::~ActsLease() {
    if (!acts_) return; // moved from
    // The last given back wins; the entry may be gone (the model's Python object died first) or
    // be another model's at the same address: then the buffers are freed.
    auto it = entries().find(model_);
    if (it != entries().end() && it->second.id == entry_) it->second.acts = std::move(acts_);
}

std::optional<std::pair<int, int>> cached_batch(const GPT& model) {
    auto it = entries().find(&model);
    if (it == entries().end() || !it->second.acts) return std::nullopt;
    return std::make_pair(it->second.acts->B, it->second.acts->T);
}

void clear_cache(const GPT& model) {
    auto it = entries().find(&model);
    if (it != entries().end()) it->second.acts.reset();
}

} // namespace gptbook::python
