#!/usr/bin/env python3
"""Side-by-side CPU autoencoder throughput: journeymap vs scikit-learn's MLPRegressor.

Both train the same network on the same kind of matrix: d = 24 -> 64 -> 16 -> 64 -> 24, ReLU hidden
layers, linear output, MSE loss, Adam (lr 1e-3), mini-batches of 256, one epoch; then score every
row by its mean squared reconstruction error. The matrix is a 4-dimensional latent structure plus
noise (the distribution bench/anomalies_bench.cpp uses; numpy draws its own sample of it).

    .venv/bin/python scripts/bench_autoencoder_peers.py --rows 1000000 \
        --journeymap-bench build/bench/bench_anomalies

Prints rows/s per epoch and the scoring rate of each, and their ratio. scikit-learn trains in
float64 (MLPRegressor has no float32 mode), journeymap in float32; both single-process.
"""
import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np


def make_rows(n, dims=24, seed=2024):
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(4, dims)) * 0.5
    latent = rng.normal(size=(n, 4))
    return (latent @ basis + 0.1 * rng.normal(size=(n, dims))).astype(np.float32)


def bench_sklearn(rows, threads):
    from sklearn.neural_network import MLPRegressor
    from sklearn import __version__ as sklearn_version
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    model = MLPRegressor(hidden_layer_sizes=(64, 16, 64), activation="relu", solver="adam", batch_size=256,
                         learning_rate_init=1e-3, alpha=0.0, max_iter=1, shuffle=True, random_state=0, tol=0.0,
                         n_iter_no_change=10**9)
    limits = threadpool_limits(limits=threads) if threadpool_limits and threads > 0 else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "maximum iterations reached" after the one epoch
            start = time.perf_counter()
            model.fit(rows, rows)
            train_s = time.perf_counter() - start
        start = time.perf_counter()
        errors = ((model.predict(rows) - rows) ** 2).mean(axis=1)
        score_s = time.perf_counter() - start
    finally:
        if limits is not None:
            limits.unregister()
    assert np.isfinite(errors).all()
    return {"library": f"scikit-learn {sklearn_version} MLPRegressor", "train_rows_per_s": len(rows) / train_s,
            "score_rows_per_s": len(rows) / score_s, "loss": float(model.loss_)}


def bench_journeymap(binary, n):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_filter=(train_epoch|score)/cpu/" + str(n) + "/"],
                         check=True, capture_output=True, text=True).stdout
    result = {"library": "journeymap (OpenBLAS)"}
    for b in json.loads(out)["benchmarks"]:
        key = "train_rows_per_s" if b["name"].startswith("train_epoch") else "score_rows_per_s"
        result[key] = b["items_per_second"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (1000000 or 10000000 to match the C++ bench)")
    parser.add_argument("--threads", type=int, default=0, help="BLAS threads for scikit-learn (0 = library default)")
    parser.add_argument("--journeymap-bench", default="", help="path of bench_anomalies to run beside it")
    args = parser.parse_args()

    rows = make_rows(args.rows)
    results = [bench_sklearn(rows, args.threads)]
    if args.journeymap_bench:
        results.append(bench_journeymap(args.journeymap_bench, args.rows))
    print(f"autoencoder 24 -> 64 -> 16 -> 64 -> 24, batch 256, Adam, one epoch over {args.rows} rows")
    print(f"{'library':45s} {'train rows/s':>14s} {'score rows/s':>14s}")
    for r in results:
        print(f"{r['library']:45s} {r['train_rows_per_s']:14,.0f} {r['score_rows_per_s']:14,.0f}")
    if len(results) == 2:
        print(f"journeymap / scikit-learn: training x{results[1]['train_rows_per_s'] / results[0]['train_rows_per_s']:.1f}, "
              f"scoring x{results[1]['score_rows_per_s'] / results[0]['score_rows_per_s']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
