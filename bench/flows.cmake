# Flows, funnels and attribution throughput, CPU and GPU side by side (paths relative to bench/).
# The GPU runs go through the public entry points, so no CUDA source is needed here.
jm_add_benchmark(bench_flows flows_bench.cpp)
