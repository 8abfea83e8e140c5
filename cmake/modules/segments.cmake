# Behavioural segments: k-means driver + CPU Lloyd step (OpenBLAS SGEMM), GPU Lloyd step (cuBLAS SGEMM
# + fused arg-min / centroid-sum kernel), and the `segment` subcommand.

target_sources(journeymap_core PRIVATE
  host/segments/batched_segments.cpp
  host/segments/lloyd_step_across.cpp
  host/segments/kmeans.cpp
  host/segments/silhouette.cpp
  host/segments/kmeans_cpu.cpp
  host/segments/seeding_distances_cpu.cpp
  host/segments/segments.cpp
  host/cli/command_segment.cpp)
target_link_libraries(journeymap_core PRIVATE CLI11::CLI11)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/segments/kmeans_cuda.cu cuda/segments/seeding_cuda.cu
                                         cuda/segments/silhouette_cuda.cu)
  # No multiply-add contraction: the shared norm/distance formulas round like the CPU twin's.
  set_source_files_properties(cuda/segments/kmeans_cuda.cu cuda/segments/seeding_cuda.cu cuda/segments/silhouette_cuda.cu
                              PROPERTIES COMPILE_OPTIONS "--fmad=false")
else()
  target_sources(journeymap_core PRIVATE host/segments/kmeans_cuda_unavailable.cpp
                                         host/segments/seeding_cuda_unavailable.cpp
                                         host/segments/silhouette_cuda_unavailable.cpp)
endif()
