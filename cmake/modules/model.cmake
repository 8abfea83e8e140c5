# Conversion prediction: XGBoost 3.4.1 through its C API (library from the official wheel, header from
# the same version's source archive; scripts/setup_xgboost.sh installs both into .venv/xgboost), the
# CPU/GPU feature handoff twins, metrics, persistence, monitoring and the `train` / `score` / `monitor`
# subcommands.
set(JM_XGBOOST_ROOT "${PROJECT_SOURCE_DIR}/.venv/xgboost" CACHE PATH "Folder with include/xgboost/c_api.h and lib/libxgboost.so")
# NO_DEFAULT_PATH: Debian's libxgboost-dev (1.7, CPU-only, older API) must not be picked up instead.
find_path(JM_XGBOOST_INCLUDE_DIR xgboost/c_api.h PATHS "${JM_XGBOOST_ROOT}/include" NO_DEFAULT_PATH)
find_library(JM_XGBOOST_LIBRARY NAMES xgboost PATHS "${JM_XGBOOST_ROOT}/lib" NO_DEFAULT_PATH)
set(_jm_xgboost_found OFF)
if(JM_XGBOOST_INCLUDE_DIR AND JM_XGBOOST_LIBRARY)
  set(_jm_xgboost_found ON)
endif()
# Default ON when found. A default of OFF taken because it was missing flips to ON once it appears.
if(NOT DEFINED JM_WITH_XGBOOST OR (NOT JM_WITH_XGBOOST AND JM_XGBOOST_DEFAULTED_OFF AND _jm_xgboost_found))
  set(JM_WITH_XGBOOST ${_jm_xgboost_found} CACHE BOOL "Link XGBoost for conversion prediction (scripts/setup_xgboost.sh)" FORCE)
  if(NOT _jm_xgboost_found)
    set(JM_XGBOOST_DEFAULTED_OFF ON CACHE INTERNAL "")
  else()
    set(JM_XGBOOST_DEFAULTED_OFF OFF CACHE INTERNAL "")
  endif()
endif()
if(JM_WITH_XGBOOST AND NOT _jm_xgboost_found)
  message(FATAL_ERROR "JM_WITH_XGBOOST=ON but XGBoost was not found under ${JM_XGBOOST_ROOT}: run scripts/setup_xgboost.sh")
endif()

target_sources(journeymap_core PRIVATE
  host/model/model.cpp
  host/model/boosting.cpp
  host/model/boosting_across.cpp
  host/model/journey_model.cpp
  host/model/model_cpu.cpp
  host/model/metrics.cpp
  host/model/model_output.cpp
  host/model/monitoring.cpp
  host/model/monitoring_output.cpp
  host/model/retraining.cpp
  host/model/retraining_output.cpp
  host/cli/command_train.cpp
  host/cli/command_score.cpp
  host/cli/command_monitor.cpp)
target_link_libraries(journeymap_core PRIVATE CLI11::CLI11)
if(JM_WITH_XGBOOST)
  message(STATUS "journeymap: XGBoost ${JM_XGBOOST_LIBRARY}")
  target_sources(journeymap_core PRIVATE host/model/xgboost_api.cpp)
  # Only the wrapper sees XGBoost's headers (toggling the option rebuilds one file, not the library).
  set_source_files_properties(host/model/xgboost_api.cpp PROPERTIES
    COMPILE_OPTIONS "-isystem;${JM_XGBOOST_INCLUDE_DIR}")
  # Not linked: host/model/xgboost_api.cpp opens it on first use, from where it was found here
  # (then by soname, for a relocated install), so commands without a model never load it.
  get_filename_component(_jm_xgboost_real "${JM_XGBOOST_LIBRARY}" REALPATH)
  set_property(SOURCE host/model/xgboost_api.cpp APPEND PROPERTY
    COMPILE_DEFINITIONS "JM_XGBOOST_LIBRARY_PATH=\"${_jm_xgboost_real}\"")
else()
  message(STATUS "journeymap: XGBoost not linked (conversion prediction reports how to install it)")
  target_sources(journeymap_core PRIVATE host/model/xgboost_unavailable.cpp)
endif()
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/model/model_cuda.cu)
else()
  target_sources(journeymap_core PRIVATE host/model/model_cuda_unavailable.cpp)
endif()
