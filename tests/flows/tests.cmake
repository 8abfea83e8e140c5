# Flows, funnels, attribution, and the HTML report (paths relative to tests/).
jm_add_test(test_flows flows/test_flows.cpp)
jm_add_test(test_flow_tally flows/test_flow_tally.cpp)
jm_add_test(test_attribution flows/test_attribution.cpp)
jm_add_test(test_flows_generated flows/test_flows_generated.cpp)
jm_add_test(test_compare flows/test_compare.cpp)

# The report test: generate -> run -> flows -> report -> headless Chromium. The `flows` and
# `report` subcommands are hosted by a small test executable until the CLI registers them.
add_executable(flows_report_tool flows/flows_report_tool.cpp)
target_link_libraries(flows_report_tool PRIVATE journeymap_core CLI11::CLI11)
target_include_directories(flows_report_tool PRIVATE ${PROJECT_SOURCE_DIR})
add_dependencies(flows_report_tool journeymap)
add_test(NAME flows_report_chromium
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/flows/report_test.sh
          --journeymap $<TARGET_FILE:journeymap>
          --flows-tool $<TARGET_FILE:flows_report_tool>
          --out ${CMAKE_CURRENT_BINARY_DIR}/output/flows_report_chromium)
# 77: Chromium (or the project's Python with h5py/plotly) is not installed.
set_tests_properties(flows_report_chromium PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
