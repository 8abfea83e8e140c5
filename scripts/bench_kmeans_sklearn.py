#!/usr/bin/env python3
"""Times one Lloyd iteration of scikit-learn's KMeans (algorithm="lloyd") on the data that
bench/segments_bench.cpp uses (same shape and distribution: 32 Gaussian blobs, d = 64, k = 32, initial
centroids = the first k points), for a side-by-side comparison with

    build/bench/bench_segments --benchmark_filter=lloyd_iteration/cpu

Usage: scripts/bench_kmeans_sklearn.py [n ...]     (default: 1000000; needs numpy + scikit-learn)
The per-iteration time is the median over runs of (fit time with max_iter=ITERS, tol=0) / n_iter_,
which includes scikit-learn's final label pass, so it slightly favours neither side.
"""
import os
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info

DIMS, CLUSTERS, ITERS, RUNS = 64, 32, 5, 3


def blobs(n, seed=7):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5.0, 5.0, size=(CLUSTERS, DIMS)).astype(np.float32)
    points = centres[np.arange(n) % CLUSTERS] + rng.standard_normal((n, DIMS), dtype=np.float32)
    return np.ascontiguousarray(points, dtype=np.float32)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    threads = os.cpu_count()
    print(f"scikit-learn Lloyd iteration, d={DIMS}, k={CLUSTERS}, float32, {threads} CPU threads")
    for n in sizes:
        x = blobs(n)
        init = x[:CLUSTERS].copy()
        per_iteration = []
        for _ in range(RUNS):
            km = KMeans(n_clusters=CLUSTERS, init=init, n_init=1, max_iter=ITERS, tol=0.0, algorithm="lloyd")
            start = time.perf_counter()
            km.fit(x)
            per_iteration.append((time.perf_counter() - start) / max(km.n_iter_, 1))
        ms = 1e3 * float(np.median(per_iteration))
        print(f"n={n:>10,}  {ms:9.1f} ms/iteration  ({n / (ms / 1e3) / 1e6:.2f} M points/s)")
    blas = [f"{i.get('internal_api')} {i.get('version')} x{i.get('num_threads')}" for i in threadpool_info()]
    print("thread pools:", "; ".join(blas))


if __name__ == "__main__":
    main()
