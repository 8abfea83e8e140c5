# Runs across processes: the process group (MPI's world, or a group of one) and the customer owner
# hash (xxHash, header-only).
find_path(JM_XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
target_include_directories(journeymap_core PRIVATE ${JM_XXHASH_INCLUDE_DIR})
target_sources(journeymap_core PRIVATE host/distributed/process_group.cpp host/distributed/customer_share.cpp
                                      host/distributed/distributed_input.cpp host/distributed/tallies_across.cpp
                                      host/distributed/journey_records.cpp
                                      host/distributed/records_to_first.cpp)
if(JM_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
  target_sources(journeymap_core PRIVATE host/distributed/process_group_mpi.cpp)
  target_link_libraries(journeymap_core PRIVATE MPI::MPI_CXX)
else()
  target_sources(journeymap_core PRIVATE host/distributed/process_group_without_mpi.cpp)
endif()
