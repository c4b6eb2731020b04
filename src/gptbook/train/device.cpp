// The one place where the trainer learns whether this gptbook was built with CUDA.
#include "gptbook/train/device.hpp"

#include "gptbook/core/error.hpp"
#ifdef GPTBOOK_HAS_CUDA
#include "gptbook/cuda/device.hpp"
#include "gptbook/cuda/step_engine.hpp"
#endif

namespace gptbook {

void check_device(const std::string& device, const std::string& precision) {
    GPTBOOK_CHECK(device == "cpu" || device == "cuda", "--device " << device << " is unknown; expected cpu or cuda");
#ifndef GPTBOOK_HAS_CUDA
    (void)precision;
    GPTBOOK_CHECK(device == "cpu", "--device cuda: this gptbook was built without CUDA (GPTBOOK_CUDA=OFF or no toolkit "
                                       << "found); rebuild with the CUDA toolkit installed");
#else
    if (device == "cuda") {
        cuda::matmul_precision_from_string(precision);
        cuda::require_device();
    }
#endif
}

std::unique_ptr<StepEngine> make_step_engine(const std::string& device, GPT& model, AdamWState& adam, int batch_size,
                                             const std::string& precision, Communicator* comm) {
    check_device(device, precision);
#ifdef GPTBOOK_HAS_CUDA
    if (device == "cuda") return make_cuda_step_engine(model, adam, batch_size, precision, comm);
#endif
    GPTBOOK_CHECK(comm == nullptr || comm->size() == 1,
                  "make_step_engine: ranks for the CPU engine; use make_data_parallel_engine");
    return make_cpu_step_engine(model, adam, batch_size);
}

} // namespace gptbook
