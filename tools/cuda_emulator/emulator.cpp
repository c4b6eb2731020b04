// The CUDA emulator's runtime: kernel launches (blocks of fibers), device memory, streams, events
// and errors. See include/gptbook_cuda_emulator/runtime.hpp for what it promises.
#include "gptbook_cuda_emulator/runtime.hpp"

#include <boost/context/fiber.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace gptbook_emu {

namespace {

// The limits of the device it stands in for (an H100's, where they matter to a launch).
constexpr unsigned max_threads_per_block = 1024;
constexpr size_t max_shared_default = 48 * 1024; // without cudaFuncSetAttribute
constexpr size_t max_shared_optin = 227 * 1024;  // with it
constexpr unsigned max_grid_y = 65535, max_grid_z = 65535;
constexpr size_t fiber_stack_bytes = 256 * 1024; // kernels' frames, and printf from device code
constexpr unsigned char poison_byte = 0xff;      // a float of these bytes is a NaN

} // namespace

enum class Wait { none, block_barrier, warp_barrier, done };

// A fiber that runs the block's threads one after another, from the first not yet started, until
// one of them waits at a barrier: that thread keeps the fiber, and the scheduler starts a new
// one for the rest. Threads that never wait (element-wise kernels) thus share one fiber and cost
// a function call each; each thread that waits costs a fiber.
struct Runner {
    boost::context::fiber self;      // held by the scheduler: the runner, suspended
    boost::context::fiber scheduler; // held by the runner: where to go when its thread waits
};

struct ThreadState {
    uint3 index{};
    unsigned linear = 0;
    Wait wait = Wait::none;
    unsigned mask = 0;          // the lanes a warp barrier waits for
    const char* what = nullptr; // the barrier or shuffle it waits at
    Runner* runner = nullptr;   // the fiber it runs on, once started
};

struct BlockState {
    const char* kernel = nullptr;
    uint3 index{};
    dim3 dim, grid;
    std::vector<ThreadState> threads;
    const std::function<void()>* body = nullptr;
    unsigned char* dynamic = nullptr;
    size_t dynamic_bytes = 0;
    std::set<void*> poisoned;
    std::vector<unsigned char> slots; // 2 x 8 bytes per thread: what each lane posts to a shuffle
    std::vector<unsigned> generation; // per warp: how many warp barriers it has passed
    std::deque<Runner> runners;
    std::vector<unsigned> order; // the threads in the order they run: 0, 1, ... or reversed
    unsigned next = 0;           // order[next] is the first thread not started
    std::string fault;           // an exception thrown by device code
};

namespace detail {

thread_local ThreadState* current_thread = nullptr;
thread_local BlockState* current_block = nullptr;

namespace {
const char* outside = "device code (threadIdx, __syncthreads, shuffles) used outside a kernel launch";
ThreadState& thread() {
    if (current_thread == nullptr) throw std::logic_error(outside);
    return *current_thread;
}
BlockState& block() {
    if (current_block == nullptr) throw std::logic_error(outside);
    return *current_block;
}
} // namespace

const uint3& thread_idx() { return thread().index; }
const uint3& block_idx() { return block().index; }
const dim3& block_dim() { return block().dim; }
const dim3& grid_dim() { return block().grid; }
unsigned lane_id() { return thread().linear % 32; }
// Two slots per lane, used by alternate warp barriers: a lane may post its next shuffle's value
// while another still reads this one's, so a shuffle needs one barrier, not two.
void* warp_slot(unsigned lane) {
    const unsigned warp = thread().linear / 32;
    BlockState& b = block();
    return b.slots.data() + 8 * (2 * (warp * 32 + lane) + b.generation[warp] % 2);
}

void* dynamic_shared() { return block().dynamic; }

void poison_shared(void* p, size_t bytes) {
    if (block().poisoned.insert(p).second) std::memset(p, poison_byte, bytes);
}

namespace {
void wait_at(Wait wait, unsigned mask, const char* what) {
    ThreadState& t = thread();
    t.wait = wait;
    t.mask = mask;
    t.what = what;
    t.runner->scheduler = std::move(t.runner->scheduler).resume();
}
} // namespace

void syncthreads(const char* what) { wait_at(Wait::block_barrier, 0, what); }
void warp_barrier(unsigned mask, const char* what) { wait_at(Wait::warp_barrier, mask, what); }

} // namespace detail

namespace {

// ---- errors -------------------------------------------------------------------------------------

struct ErrorState {
    cudaError_t last = cudaSuccess;   // what cudaGetLastError returns (and clears)
    cudaError_t sticky = cudaSuccess; // a kernel fault: every later synchronising call reports it
    std::string why;
};
ErrorState& errors() {
    static ErrorState state;
    return state;
}

cudaError_t fail(cudaError_t error, const std::string& why) {
    record_error(error, why);
    return error;
}

// ---- fibers -------------------------------------------------------------------------------------

// Stacks for the fibers of one block, with a guard page below each, kept for later launches.
class StackPool {
public:
    unsigned char* stack(unsigned i) {
        while (stacks_.size() <= i) {
            const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
            void* p = mmap(nullptr, fiber_stack_bytes + page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
            if (p == MAP_FAILED) throw std::runtime_error("CUDA emulator: no memory for fiber stacks");
            mprotect(p, page, PROT_NONE); // an overflowing kernel stack faults instead of corrupting
            stacks_.push_back(static_cast<unsigned char*>(p) + page);
        }
        return stacks_[i];
    }

private:
    std::vector<unsigned char*> stacks_;
};

// Boost.Context's stack allocator interface over one stack of the pool (which keeps it).
struct PoolStack {
    unsigned char* base;
    boost::context::stack_context allocate() {
        boost::context::stack_context sc;
        sc.size = fiber_stack_bytes;
        sc.sp = base + fiber_stack_bytes; // stacks grow down
        return sc;
    }
    void deallocate(boost::context::stack_context&) noexcept {}
};

// A runner's life: the block's threads from the first not started, each until it returns.
boost::context::fiber runner_main(BlockState& b, Runner& r, boost::context::fiber&& scheduler) {
    r.scheduler = std::move(scheduler);
    while (b.next < b.threads.size()) {
        ThreadState& t = b.threads[b.order[b.next++]];
        t.runner = &r;
        detail::current_thread = &t;
        try {
            (*b.body)();
        } catch (const std::exception& e) { // it must not unwind past the fiber's first frame
            if (b.fault.empty()) b.fault = e.what();
        }
        t.wait = Wait::done;
    }
    return std::move(r.scheduler);
}

std::string describe(const BlockState& b) {
    std::ostringstream os;
    os << "kernel " << b.kernel << ", block (" << b.index.x << "," << b.index.y << "," << b.index.z << ")";
    return os.str();
}

// Releases the lanes waiting at a warp barrier whose every lane of the mask has arrived. Throws
// (with what went wrong) when a lane of the mask has exited or waits elsewhere.
bool release_warps(BlockState& b) {
    bool released = false;
    const unsigned n = static_cast<unsigned>(b.threads.size());
    for (unsigned warp = 0; warp * 32 < n; ++warp) {
        unsigned arrived = 0, mask = 0;
        const char* what = nullptr;
        for (unsigned lane = 0; lane < 32 && warp * 32 + lane < n; ++lane) {
            const ThreadState& t = b.threads[warp * 32 + lane];
            if (t.wait != Wait::warp_barrier) continue;
            arrived |= 1u << lane;
            if (what != nullptr && t.mask != mask) {
                std::ostringstream os;
                os << describe(b) << ": lanes of warp " << warp << " call " << what << " with different masks (0x"
                   << std::hex << mask << " and 0x" << t.mask << ")";
                throw std::runtime_error(os.str());
            }
            mask = t.mask;
            what = t.what;
        }
        if (arrived == 0) continue;
        for (unsigned lane = 0; lane < 32; ++lane) {
            if ((mask >> lane & 1u) == 0 || (arrived >> lane & 1u) != 0) continue;
            std::ostringstream os;
            os << describe(b) << ": " << what << " in warp " << warp << " names lane " << lane << " in its mask 0x"
               << std::hex << mask << std::dec << ", but that lane ";
            if (warp * 32 + lane >= n) os << "does not exist (the block has " << n << " threads)";
            else if (b.threads[warp * 32 + lane].wait == Wait::done)
                os << "has returned (an early `return` before a warp-wide reduction?)";
            else os << "waits at " << b.threads[warp * 32 + lane].what << " (divergent barriers)";
            throw std::runtime_error(os.str());
        }
        for (unsigned lane = 0; lane < 32 && warp * 32 + lane < n; ++lane)
            if (arrived >> lane & 1u) b.threads[warp * 32 + lane].wait = Wait::none;
        ++b.generation[warp];
        released = true;
    }
    return released;
}

// Runs one block: every thread until it returns or waits, then releases whatever barrier every
// thread it waits for has reached, until all have returned.
void run_block(BlockState& b, StackPool& pool) {
    const unsigned n = static_cast<unsigned>(b.threads.size());
    for (ThreadState& t : b.threads) {
        t.wait = Wait::none;
        t.runner = nullptr;
    }
    b.runners.clear();
    b.next = 0;
    std::fill(b.generation.begin(), b.generation.end(), 0u);
    for (;;) {
        for (unsigned k = 0; k < n; ++k) {
            ThreadState& t = b.threads[b.order[k]];
            if (t.wait != Wait::none) continue;
            if (t.runner == nullptr) { // not started (then b.next == k): a new runner from here on
                Runner& r = b.runners.emplace_back();
                r.self = boost::context::fiber(
                    std::allocator_arg, PoolStack{pool.stack(static_cast<unsigned>(b.runners.size() - 1))},
                    [&b, &r](boost::context::fiber&& scheduler) { return runner_main(b, r, std::move(scheduler)); });
                r.self = std::move(r.self).resume();
            } else {
                detail::current_thread = &t;
                t.runner->self = std::move(t.runner->self).resume();
            }
        }
        detail::current_thread = nullptr;
        if (!b.fault.empty()) throw std::runtime_error(describe(b) + ": " + b.fault);
        unsigned done = 0, at_block = 0;
        for (const ThreadState& t : b.threads) {
            done += t.wait == Wait::done;
            at_block += t.wait == Wait::block_barrier;
        }
        if (done == n) return;
        if (release_warps(b)) continue;
        if (at_block == n) {
            for (ThreadState& t : b.threads) t.wait = Wait::none;
            continue;
        }
        // Some threads wait at __syncthreads, and others have returned or wait at a shuffle that
        // cannot complete: undefined in CUDA (a hang, or a barrier that counts the wrong threads).
        std::ostringstream os;
        os << describe(b) << ": __syncthreads() is reached by " << at_block << " of " << n << " threads; ";
        if (done > 0) os << done << " have returned (an early `return` before a barrier?)";
        else os << "the others wait at a warp shuffle (a barrier inside a branch that not every thread takes?)";
        throw std::runtime_error(os.str());
    }
}

std::map<const void*, int>& shared_optin() {
    static std::map<const void*, int> attrs;
    return attrs;
}

} // namespace

void record_error(cudaError_t error, const std::string& why) {
    ErrorState& e = errors();
    e.last = error;
    if (error == cudaErrorLaunchFailure || error == cudaErrorIllegalAddress) e.sticky = error; // as a GPU fault
    e.why = why;
    std::fprintf(stderr, "CUDA emulator: %s\n", why.c_str());
}

void run_grid(const char* kernel_name, const void* kernel, const LaunchConfig& config,
              const std::function<void()>& body) {
    if (errors().sticky != cudaSuccess) return; // a faulted context runs nothing more
    const dim3 g = config.grid, d = config.block;
    const unsigned long long threads = 1ull * d.x * d.y * d.z;
    const auto refuse = [&](cudaError_t error, const std::string& why) { // names the launch in the message
        std::ostringstream os;
        os << "kernel " << kernel_name << "<<<(" << g.x << "," << g.y << "," << g.z << "), (" << d.x << "," << d.y
           << "," << d.z << "), " << config.shared_bytes << ">>>: " << why;
        fail(error, os.str());
    };
    if (threads == 0 || threads > max_threads_per_block || g.x == 0 || g.y == 0 || g.z == 0 || g.y > max_grid_y ||
        g.z > max_grid_z) {
        refuse(cudaErrorInvalidConfiguration, "invalid configuration (blocks of 1 to " +
                                                  std::to_string(max_threads_per_block) +
                                                  " threads, grid sizes at least 1)");
        return;
    }
    // Dynamic shared memory beyond 48 KiB needs cudaFuncSetAttribute on this kernel first.
    const auto optin = shared_optin().find(kernel);
    const size_t limit = optin == shared_optin().end() ? max_shared_default : static_cast<size_t>(optin->second);
    if (config.shared_bytes > limit) {
        refuse(cudaErrorInvalidValue, "asks for " + std::to_string(config.shared_bytes) +
                                          " bytes of dynamic shared memory; it may have " + std::to_string(limit) +
                                          (optin == shared_optin().end()
                                               ? " (more needs cudaFuncSetAttribute(MaxDynamicSharedMemorySize) first)"
                                               : ""));
        return;
    }
    static thread_local StackPool pool;
    BlockState b;
    b.kernel = kernel_name;
    b.dim = d;
    b.grid = g;
    b.body = &body;
    b.threads.resize(threads);
    b.slots.resize(16 * ((threads + 31) / 32) * 32);
    b.generation.resize((threads + 31) / 32);
    // Threads run in index order on even launches and in reverse on odd ones: both are schedules a
    // GPU may choose, so a thread that reads what another wrote without a barrier between them
    // reads the wrong value in one of the two, whichever direction it looks.
    static thread_local unsigned long long launches = 0;
    b.order.resize(threads);
    for (unsigned i = 0; i < threads; ++i) b.order[i] = launches % 2 == 0 ? i : threads - 1 - i;
    ++launches;
    std::vector<unsigned char> dynamic(config.shared_bytes + 16); // operator new aligns to 16
    b.dynamic = dynamic.data();
    b.dynamic_bytes = config.shared_bytes;
    for (unsigned i = 0; i < threads; ++i) {
        ThreadState& t = b.threads[i];
        t.linear = i;
        t.index = {i % d.x, (i / d.x) % d.y, i / (d.x * d.y)};
    }
    BlockState* outer = detail::current_block;
    detail::current_block = &b;
    try {
        for (unsigned z = 0; z < g.z; ++z)
            for (unsigned y = 0; y < g.y; ++y)
                for (unsigned x = 0; x < g.x; ++x) {
                    b.index = {x, y, z};
                    b.poisoned.clear();
                    std::memset(b.dynamic, poison_byte, b.dynamic_bytes);
                    run_block(b, pool);
                }
    } catch (const std::exception& e) {
        detail::current_block = outer;
        detail::current_thread = nullptr;
        fail(cudaErrorLaunchFailure, e.what());
        return;
    }
    detail::current_block = outer;
}

// ---- device memory ------------------------------------------------------------------------------

namespace {
// Every live cudaMalloc block (address -> bytes) and their sum, behind one lock.
struct DeviceMemory {
    std::mutex mutex;
    std::map<uintptr_t, size_t> blocks;
    size_t allocated = 0;
};
DeviceMemory& device_memory() {
    static DeviceMemory memory;
    return memory;
}
size_t total_memory() {
    return static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}
size_t allocated_bytes() {
    DeviceMemory& m = device_memory();
    const std::lock_guard lock(m.mutex);
    return m.allocated;
}
} // namespace

bool is_device_pointer(const void* ptr, size_t bytes) {
    DeviceMemory& m = device_memory();
    const std::lock_guard lock(m.mutex);
    const auto p = reinterpret_cast<uintptr_t>(ptr);
    auto it = m.blocks.upper_bound(p);
    if (it == m.blocks.begin()) return false;
    --it;
    return p >= it->first && p + bytes <= it->first + std::max<size_t>(it->second, 1);
}

} // namespace gptbook_emu

using gptbook_emu::errors;
using gptbook_emu::fail;

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice, "cudaSetDevice: the emulator has device 0 only");
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties: the emulator has device 0 only");
    *prop = cudaDeviceProp{};
    std::snprintf(prop->name, sizeof(prop->name), "gptbook CUDA emulator (on the CPU)");
    prop->totalGlobalMem = gptbook_emu::total_memory();
    prop->sharedMemPerBlock = gptbook_emu::max_shared_default;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = static_cast<int>(gptbook_emu::max_threads_per_block);
    prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 2147483647;
    prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = 1;
    prop->memoryBusWidth = 64;
    prop->l2CacheSize = 1 << 20;
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (device != 0) return fail(cudaErrorInvalidDevice, "cudaDeviceGetAttribute: the emulator has device 0 only");
    cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = prop.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(prop.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrClockRate: *value = 0; break; // unknown: peaks computed from clocks come out as 0
    case cudaDevAttrMemoryClockRate: *value = 0; break;
    case cudaDevAttrMultiProcessorCount: *value = prop.multiProcessorCount; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = prop.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *value = prop.l2CacheSize; break;
    case cudaDevAttrComputeCapabilityMajor: *value = prop.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = prop.minor; break;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: an attribute the emulator does not know");
    }
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return errors().sticky; }
cudaError_t cudaGetLastError() {
    const cudaError_t e = errors().last;
    errors().last = errors().sticky;
    return e;
}
cudaError_t cudaPeekAtLastError() { return errors().last; }
const char* cudaGetErrorName(cudaError_t error) {
    switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidPitchValue: return "cudaErrorInvalidPitchValue";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    }
    return "cudaErrorUnknown";
}
const char* cudaGetErrorString(cudaError_t error) {
    // The emulator knows why its last error happened: it says so (a GPU would only name the code).
    if (error != cudaSuccess && error == errors().last && !errors().why.empty()) return errors().why.c_str();
    if (error != cudaSuccess && error == errors().sticky && !errors().why.empty()) return errors().why.c_str();
    return error == cudaSuccess ? "no error" : "error in the CUDA emulator";
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
    *ptr = nullptr;
    if (bytes + gptbook_emu::allocated_bytes() > gptbook_emu::total_memory())
        return fail(cudaErrorMemoryAllocation,
                    "cudaMalloc: " + std::to_string(bytes) + " bytes exceed the memory left");
    // 256-byte aligned as cudaMalloc's, and exactly `bytes` long: under AddressSanitizer (the dev
    // preset's flags) a kernel that writes one element past the end is caught.
    void* p = nullptr;
    if (posix_memalign(&p, 256, std::max<size_t>(bytes, 1)) != 0)
        return fail(cudaErrorMemoryAllocation, "cudaMalloc: out of host memory");
    std::memset(p, gptbook_emu::poison_byte, bytes); // undefined on a GPU: NaNs here, so that reading it shows
    gptbook_emu::DeviceMemory& m = gptbook_emu::device_memory();
    const std::lock_guard lock(m.mutex);
    m.blocks[reinterpret_cast<uintptr_t>(p)] = bytes;
    m.allocated += bytes;
    *ptr = p;
    return cudaSuccess;
}
cudaError_t cudaFree(void* ptr) {
    if (ptr == nullptr) return cudaSuccess;
    {
        gptbook_emu::DeviceMemory& m = gptbook_emu::device_memory();
        const std::lock_guard lock(m.mutex);
        const auto it = m.blocks.find(reinterpret_cast<uintptr_t>(ptr));
        if (it == m.blocks.end())
            return fail(cudaErrorInvalidDevicePointer, "cudaFree: the pointer did not come from cudaMalloc");
        m.allocated -= it->second;
        m.blocks.erase(it);
    }
    std::free(ptr);
    return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    *total_bytes = gptbook_emu::total_memory();
    *free_bytes = *total_bytes - std::min(*total_bytes, gptbook_emu::allocated_bytes());
    return cudaSuccess;
}
namespace {
// Whether a copy of `bytes` from src to dst goes the way `kind` says; if not, why.
std::string copy_direction_error(const char* fn, void* dst, size_t dst_bytes, const void* src, size_t src_bytes,
                                 cudaMemcpyKind kind) {
    const char* names[] = {"cudaMemcpyHostToHost", "cudaMemcpyHostToDevice", "cudaMemcpyDeviceToHost",
                           "cudaMemcpyDeviceToDevice", "cudaMemcpyDefault"};
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return std::string(fn) + ": an unknown direction";
    if (kind == cudaMemcpyDefault || kind == cudaMemcpyHostToHost) return "";
    const bool dst_device = gptbook_emu::is_device_pointer(dst, dst_bytes);
    const bool src_device = gptbook_emu::is_device_pointer(src, src_bytes);
    const bool want_dst = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    const bool want_src = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (dst_device == want_dst && src_device == want_src) return "";
    std::ostringstream os;
    os << fn << "(" << names[kind] << ", " << dst_bytes << " bytes): the destination is "
       << (dst_device ? "device" : "not device (or the copy runs past its allocation)") << " memory and the source "
       << (src_device ? "device" : "not device (or the copy runs past its allocation)") << " memory";
    return os.str();
}
} // namespace

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    if (errors().sticky != cudaSuccess) return errors().sticky;
    if (bytes == 0) return cudaSuccess;
    if (const std::string e = copy_direction_error("cudaMemcpy", dst, bytes, src, bytes, kind); !e.empty())
        return fail(cudaErrorInvalidValue, e);
    std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
    if (errors().sticky != cudaSuccess) return errors().sticky;
    if (width == 0 || height == 0) return cudaSuccess;
    if (width > dpitch || width > spitch)
        return fail(cudaErrorInvalidPitchValue, "cudaMemcpy2D: a row of " + std::to_string(width) +
                                                    " bytes is wider than a pitch (" + std::to_string(dpitch) + ", " +
                                                    std::to_string(spitch) + ")");
    const size_t dst_span = dpitch * (height - 1) + width, src_span = spitch * (height - 1) + width;
    if (const std::string e = copy_direction_error("cudaMemcpy2D", dst, dst_span, src, src_span, kind); !e.empty())
        return fail(cudaErrorInvalidValue, e);
    for (size_t row = 0; row < height; ++row)
        std::memmove(static_cast<unsigned char*>(dst) + row * dpitch,
                     static_cast<const unsigned char*>(src) + row * spitch, width);
    return cudaSuccess;
}
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy2D(dst, dpitch, src, spitch, width, height, kind);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
    if (errors().sticky != cudaSuccess) return errors().sticky;
    if (bytes == 0) return cudaSuccess;
    if (!gptbook_emu::is_device_pointer(ptr, bytes))
        return fail(cudaErrorInvalidValue, "cudaMemset(" + std::to_string(bytes) +
                                               " bytes): not device memory, or past the end of its allocation");
    std::memset(ptr, value, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) { return cudaMemset(ptr, value, bytes); }

struct CUstream_st {};
struct CUevent_st {
    std::chrono::steady_clock::time_point at;
    bool recorded = false;
};
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
    *stream = new CUstream_st;
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    delete stream;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return errors().sticky; }
cudaError_t cudaEventCreate(cudaEvent_t* event) {
    *event = new CUevent_st;
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
    delete event;
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
    event->at = std::chrono::steady_clock::now();
    event->recorded = true;
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return errors().sticky; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!start->recorded || !end->recorded)
        return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was never recorded");
    *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
    return cudaSuccess;
}
cudaError_t gptbook_emu_func_set_attribute(const void* func, cudaFuncAttribute attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
        return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: an attribute the emulator does not know");
    if (value < 0 || static_cast<size_t>(value) > gptbook_emu::max_shared_optin)
        return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: more shared memory than a block can have");
    gptbook_emu::shared_optin()[func] = value;
    return cudaSuccess;
}
