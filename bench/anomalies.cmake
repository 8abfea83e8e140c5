# Autoencoder training/scoring throughput (CPU and GPU through the public entry points) and the
# isolation forest; paths relative to bench/.
jm_add_benchmark(bench_anomalies anomalies_bench.cpp)
