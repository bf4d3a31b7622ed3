# Included into the configure of scripts/device_cuda_check.sh (CMAKE_PROJECT_INCLUDE): at the end
# of the top-level CMakeLists, defines as empty the CUDA helper targets that LibTorch's CMake
# config may reference without creating them when the toolkit lacks them (CUDA 12.9+ dropped
# nvToolsExt; NVTX3 is header-only and unused by mecllm), so generation does not fail on them.
function(mecllm_stub_missing_cuda_targets)
  foreach(t CUDA::nvToolsExt CUDA::nvtx3 torch::nvtoolsext torch::nvtx3)
    if(NOT TARGET ${t})
      add_library(${t} INTERFACE IMPORTED GLOBAL)
      message(STATUS "device check: stub target ${t}")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL mecllm_stub_missing_cuda_targets)
