# Conversion model: 100 boosting rounds at 0.1M / 1M / 10M rows, CPU and GPU, with the handoff and
# evaluation overhead as counters.
jm_add_benchmark(bench_model model_bench.cpp)
