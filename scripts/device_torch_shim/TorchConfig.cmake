# A minimal stand-in for LibTorch's CMake package, used by scripts/device_cuda_check.sh only when
# LibTorch's own config fails (it insists on a CUDA toolkit layout of its liking: nvcc, NVTX3,
# cuDNN). mecllm includes no CUDA headers, so the CUDA code paths need nothing at build time but
# libtorch_cuda/libc10_cuda linked (--no-as-needed: their static initialisers register the CUDA
# backend). Inputs: MECLLM_TORCH_INCLUDE_DIR (holds torch/ and ATen/), MECLLM_TORCH_LIB_DIR,
# MECLLM_TORCH_CXX11_ABI (0/1).
foreach(v MECLLM_TORCH_INCLUDE_DIR MECLLM_TORCH_LIB_DIR MECLLM_TORCH_CXX11_ABI)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "TorchConfig (device shim): set ${v}")
  endif()
endforeach()
set(_torch_libs)
foreach(lib torch torch_cpu c10)
  find_library(MECLLM_SHIM_${lib} NAMES ${lib} PATHS ${MECLLM_TORCH_LIB_DIR} NO_DEFAULT_PATH REQUIRED)
  list(APPEND _torch_libs ${MECLLM_SHIM_${lib}})
endforeach()
foreach(lib torch_cuda c10_cuda)
  find_library(MECLLM_SHIM_${lib} NAMES ${lib} PATHS ${MECLLM_TORCH_LIB_DIR} NO_DEFAULT_PATH)
  if(MECLLM_SHIM_${lib})
    list(APPEND _torch_libs "-Wl,--no-as-needed" ${MECLLM_SHIM_${lib}} "-Wl,--as-needed")
  endif()
endforeach()
set(_torch_inc "${MECLLM_TORCH_INCLUDE_DIR};${MECLLM_TORCH_INCLUDE_DIR}/torch/csrc/api/include")
list(REMOVE_ITEM _torch_inc /usr/include)  # never -isystem the system folder (breaks #include_next)
if(NOT TARGET torch)
  add_library(torch INTERFACE IMPORTED)
  set_target_properties(torch PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_torch_inc}"
    INTERFACE_COMPILE_DEFINITIONS "_GLIBCXX_USE_CXX11_ABI=${MECLLM_TORCH_CXX11_ABI}"
    INTERFACE_LINK_LIBRARIES "${_torch_libs};Threads::Threads")
endif()
set(TORCH_LIBRARIES torch)
set(TORCH_INCLUDE_DIRS "${_torch_inc}")
set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${MECLLM_TORCH_CXX11_ABI}")
set(Torch_FOUND TRUE)
message(STATUS "Torch (device shim): ${_torch_libs}")
