# Finds the CUDA side of the build: CUDA toolkit, RMM and RAFT from the project's virtual
# environment (PyPI wheels librmm-cu13 / libraft-cu13 / rapids-logger, pinned in scripts/setup.sh).
if(NOT JM_WITH_CUDA)
  return()
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures (H200 = 90)")
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)

if(CMAKE_VERSION VERSION_LESS 3.30.4)
  message(FATAL_ERROR "JM_WITH_CUDA needs CMake >= 3.30.4 for the RAFT/RMM 26.06 packages; "
                      "run scripts/setup.sh and configure with .venv/bin/cmake, or pass -DJM_WITH_CUDA=OFF")
endif()

# The wheels install lib64/cmake/<pkg>; Debian's CMake does not search lib64 by default.
set_property(GLOBAL PROPERTY FIND_LIBRARY_USE_LIB64_PATHS TRUE)
file(GLOB _jm_site_packages "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages")
foreach(_sp IN LISTS _jm_site_packages)
  list(APPEND CMAKE_PREFIX_PATH "${_sp}/librmm" "${_sp}/libraft" "${_sp}/rapids_logger")
endforeach()

find_package(rmm 26.06 REQUIRED)
find_package(raft 26.06 REQUIRED)
# All CUDA translation units use the CCCL bundled with librmm (3.4.0) through rmm::rmm, not the
# toolkit's copy: mixing two CCCL versions in one binary breaks CUB's ABI namespaces.
