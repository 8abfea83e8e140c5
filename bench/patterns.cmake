# PrefixSpan throughput, CPU and GPU side by side (the GPU cases register only when a device is
# visible at run time). `bench_patterns --mine ...` is the single-run mode of
# scripts/bench_prefixspan_peers.py.
jm_add_benchmark(bench_patterns patterns_bench.cpp)
get_filename_component(_jm_patterns_data "${PROJECT_SOURCE_DIR}/../shared/data" ABSOLUTE)
target_compile_definitions(bench_patterns PRIVATE JM_SHARED_DATA_DIR="${_jm_patterns_data}")
