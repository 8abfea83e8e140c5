# Journey features: host twin + dispatch, GPU twin (one thread per journey over feature_rules.hpp).
target_sources(journeymap_core PRIVATE
  host/features/features.cpp
  host/features/features_cpu.cpp
  host/features/feature_columns_file.cpp)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/features/features_cuda.cu)
  # No multiply-add contraction: the shared formulas round exactly like the CPU twin's.
  set_source_files_properties(cuda/features/features_cuda.cu PROPERTIES COMPILE_OPTIONS "--fmad=false")
else()
  target_sources(journeymap_core PRIVATE host/features/features_cuda_unavailable.cpp)
endif()
