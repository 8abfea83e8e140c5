# Flows, funnels, friction heatmaps, attribution, and the HTML report command.
target_sources(journeymap_core PRIVATE
  host/flows/flows.cpp
  host/flows/flows_cpu.cpp
  host/flows/flow_tally.cpp
  host/flows/attribution.cpp
  host/flows/compare.cpp
  host/flows/breakdowns.cpp
  host/flows/breakdowns_output.cpp
  host/cli/command_flows.cpp
  host/cli/command_report.cpp)
if(JM_WITH_CUDA)
  target_sources(journeymap_core PRIVATE cuda/flows/flows_cuda.cu)
else()
  target_sources(journeymap_core PRIVATE host/flows/flows_no_cuda.cpp)
endif()
# The subcommands register themselves on a CLI11 app (header-only).
target_link_libraries(journeymap_core PRIVATE CLI11::CLI11)
# `journeymap report` runs scripts/report.py with the project's .venv python from this source tree
# (overridable at run time with JM_REPORT_SCRIPT / JM_PYTHON).
set_property(SOURCE host/cli/command_report.cpp APPEND PROPERTY COMPILE_DEFINITIONS
  JM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
