// The CUDA emulator's stand-in for the cuBLAS headers (see tools/cuda_emulator/README.md).
#pragma once
#include "gptbook_cuda_emulator/cublas.hpp"
