# Anomaly detection: autoencoder (CPU: OpenBLAS SGEMM; GPU: cuBLAS SGEMM + fused element-wise
# kernels), isolation forest (trees on the CPU; scoring on either), metric alerts (SPC), and the `detect` subcommand.

target_sources(journeymap_core PRIVATE
  host/anomalies/autoencoder.cpp
  host/anomalies/autoencoder_cpu.cpp
  host/anomalies/isolation_forest.cpp
  host/anomalies/anomalies.cpp
  host/anomalies/metric_alerts.cpp
  host/anomalies/alert_tally.cpp
  host/anomalies/alert_calendar.cpp
  host/anomalies/anomalies_output.cpp
  host/cli/command_detect.cpp)
target_link_libraries(journeymap_core PRIVATE CLI11::CLI11)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/anomalies/autoencoder_cuda.cu cuda/anomalies/isolation_forest_cuda.cu)
  # The element-wise math is shared with the CPU twin (autoencoder_rules.hpp): no fused multiply-adds,
  # so each element rounds as on the CPU (the GEMMs still differ by cuBLAS's summation order).
  set_source_files_properties(cuda/anomalies/autoencoder_cuda.cu PROPERTIES COMPILE_OPTIONS "--fmad=false")
else()
  target_sources(journeymap_core PRIVATE host/anomalies/autoencoder_cuda_unavailable.cpp
    host/anomalies/isolation_forest_cuda_unavailable.cpp)
endif()
