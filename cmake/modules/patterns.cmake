# Sequence mining (PrefixSpan, CPU + GPU twins) and its outcome contrast; the `mine` subcommand.
target_sources(journeymap_core PRIVATE
  host/patterns/patterns.cpp
  host/patterns/pattern_collector.cpp
  host/patterns/prefixspan_cpu.cpp
  host/patterns/sequence_index.cpp
  host/patterns/pattern_contrast.cpp
  host/patterns/pattern_support.cpp
  host/patterns/pattern_update.cpp
  host/patterns/pattern_candidates.cpp
  host/patterns/batched_mining.cpp
  host/cli/command_mine.cpp)
# CLI11 is header-only; the `mine` command registers its options on the caller's CLI::App.
target_link_libraries(journeymap_core PRIVATE CLI11::CLI11)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/patterns/prefixspan_cuda.cu)
else()
  target_sources(journeymap_core PRIVATE host/patterns/prefixspan_cuda_unavailable.cpp)
endif()
