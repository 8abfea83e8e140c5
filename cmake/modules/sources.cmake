# Several sources per run and identity stitching (connected components of linked ids).
target_sources(journeymap_core PRIVATE
  host/sources/identity.cpp
  host/sources/identity_cpu.cpp
  host/sources/sources.cpp
  host/sources/sources_output.cpp
  host/sources/taxonomy.cpp
  host/sources/taxonomy_output.cpp)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/sources/identity_cuda.cu)
else()
  target_sources(journeymap_core PRIVATE host/sources/identity_no_cuda.cpp)
endif()
