jm_add_test(test_prefixspan patterns/test_prefixspan.cpp)
jm_add_test(test_prefixspan_datasets patterns/test_prefixspan_datasets.cpp)
# The independent reference for the public datasets: the `prefixspan` PyPI package in the project venv.
target_compile_definitions(test_prefixspan_datasets PRIVATE
  JM_PYTHON="${PROJECT_SOURCE_DIR}/.venv/bin/python"
  JM_REFERENCE_SCRIPT="${PROJECT_SOURCE_DIR}/scripts/prefixspan_reference.py")
jm_add_test(test_pattern_contrast patterns/test_pattern_contrast.cpp)
target_link_libraries(test_pattern_contrast PRIVATE CLI11::CLI11)
jm_add_test(test_pattern_update patterns/test_pattern_update.cpp)
jm_add_test(test_batched_mining patterns/test_batched_mining.cpp)
jm_add_test(test_pattern_collector patterns/test_pattern_collector.cpp)
