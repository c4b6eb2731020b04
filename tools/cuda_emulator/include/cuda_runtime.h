// The CUDA emulator's stand-in for the CUDA runtime header (see tools/cuda_emulator/README.md).
#pragma once
#include "gptbook_cuda_emulator/runtime.hpp"
