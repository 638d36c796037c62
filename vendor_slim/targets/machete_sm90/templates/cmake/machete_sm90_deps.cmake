# machete_sm90's external dependencies: the CUDA toolkit, PyTorch (C++ headers and libraries:
# Machete's upstream code is written against torch::Tensor) and Python's headers (its launcher
# includes <Python.h>; nothing links libpython). Included by CMakeLists.txt before the targets.
#
# Point CMake at PyTorch with -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
# or -DTorch_DIR=.../share/cmake/Torch.
find_package(CUDAToolkit REQUIRED)
find_package(Python REQUIRED COMPONENTS Interpreter Development.Module)

# find_package(Torch) appends its own -gencode list (from TORCH_CUDA_ARCH_LIST or the GPU it sees)
# to CMAKE_CUDA_FLAGS; that would add a plain sm_90 pass over every kernel (twice the build time,
# and sm_90 cannot hold Machete's wgmma code). This tree passes its arch itself: keep the flags.
set(_machete_sm90_cuda_flags "${CMAKE_CUDA_FLAGS}")
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "9.0a")
endif()
find_package(Torch REQUIRED)
set(CMAKE_CUDA_FLAGS "${_machete_sm90_cuda_flags}")

# What vLLM compiles Machete with (its CMakeLists.txt with CUDA >= 12: torch's COMMON_NVCC_FLAGS
# less the __CUDA_NO_HALF* defines, -DENABLE_FP8, CUTLASS_ENABLE_DIRECT_CUDA_DRIVER_CALL=1).
set(MACHETE_SM90_CUDA_OPTIONS
  -gencode=arch=compute_90a,code=sm_90a
  --expt-relaxed-constexpr
  --expt-extended-lambda)
set(MACHETE_SM90_DEFINES
  ENABLE_FP8
  CUTLASS_ENABLE_DIRECT_CUDA_DRIVER_CALL=1)
