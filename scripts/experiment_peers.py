#!/usr/bin/env python3
"""Checks `journeymap experiment` against statsmodels and scipy on the same counts, and its report section.

Writes an event log whose customers are randomly assigned to variants A, B and C (B converts more),
runs `journeymap experiment` on it, and recomputes from the counts it stored in /experiments:
the two-proportion z-test p-value (statsmodels proportions_ztest), the Wald interval of the
difference and the log-ratio interval of the relative lift (confint_proportions_2indep), and the
sample-ratio chi-square (scipy.stats.chisquare). Every number must agree to 1e-9.

Exit status 77 (a skip for ctest) when statsmodels is not installed.
"""
import argparse
import csv
import math
import os
import random
import subprocess
import sys

try:
    import h5py
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
except ImportError as missing:  # pragma: no cover - depends on the environment
    print(f"skipped: {missing}")
    sys.exit(77)


def write_log(path, customers, seed):
    rng = random.Random(seed)
    rate = {"A": 0.10, "B": 0.13, "C": 0.10}
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["customer_id", "timestamp", "touchpoint", "channel", "value", "conversion", "variant"])
        for c in range(customers):
            variant = rng.choice("ABC")
            start = 1_767_225_600 + rng.randrange(14 * 86400)  # exposures over two weeks
            out.writerow([f"c{c}", start - 5 * 86400, "home", "web", 0, 0, ""])  # before exposure
            out.writerow([f"c{c}", start, "landing", "web", 0, 0, variant])
            if rng.random() < rate[variant]:
                out.writerow([f"c{c}", start + 600, "purchase", "web", 20, 1, variant])


def close(name, ours, theirs):
    if not math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12):
        raise SystemExit(f"FAIL {name}: journeymap {ours!r}, peer {theirs!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--journeymap", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--customers", type=int, default=30000)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    log, result = os.path.join(args.out, "events.csv"), os.path.join(args.out, "experiment.h5")
    write_log(log, args.customers, seed=3)
    subprocess.run([args.journeymap, "experiment", "--input", log, "--timestamp-format", "epoch_s",
                    "--dimension", "variant", "--session-gap", "3600", "--out", result], check=True,
                   stdout=subprocess.DEVNULL)
    with h5py.File(result, "r") as f:
        g = f["experiments"]
        n, x = g["customers"][()], g["converted"][()]
        for t in range(len(g["treatment"])):
            s = t + 1  # variant 0 is the control
            _, p = proportions_ztest([x[s], x[0]], [n[s], n[0]])
            close("conversion_p", g["conversion_p"][t], p)
            low, high = confint_proportions_2indep(x[s], n[s], x[0], n[0], method="wald", compare="diff")
            close("conversion_ci_low", g["conversion_ci_low"][t], low)
            close("conversion_ci_high", g["conversion_ci_high"][t], high)
            low, high = confint_proportions_2indep(x[s], n[s], x[0], n[0], method="log", compare="ratio")
            close("relative_lift_ci_low", g["relative_lift_ci_low"][t], low - 1)
            close("relative_lift_ci_high", g["relative_lift_ci_high"][t], high - 1)
        expected = g["expected_share"][()] * n.sum()
        close("sample_ratio_p", g.attrs["sample_ratio_p"], stats.chisquare(n, expected).pvalue)
        treatments = [v.decode() if isinstance(v, bytes) else v for v in g["treatment"][()]]
        b = treatments.index("B")
        if not g["conversion_p"][b] < 0.05:
            raise SystemExit("FAIL: the planted 3-point lift of B was not found")
    # The report states the comparison in its experiment section.
    report = os.path.join(args.out, "report.html")
    subprocess.run([args.journeymap, "report", result, "-o", report], check=True, stdout=subprocess.DEVNULL)
    with open(report, encoding="utf-8") as f:
        page = f.read()
    if "Experiment: treatments against the control" not in page or "B converts" not in page:
        raise SystemExit("FAIL: the report has no experiment section")
    # `run` with the variant as a dimension: breakdowns by it, and their report section.
    run_result, config = os.path.join(args.out, "run.h5"), os.path.join(args.out, "map_only.toml")
    with open(config, "w") as f:  # the map stages only: the model and the rest are not under test here
        f.write("".join(f"[{stage}]\nenabled = false\n" for stage in ("patterns", "segments", "model", "anomalies")))
    subprocess.run([args.journeymap, "run", "--config", config, "--input", log, "--timestamp-format", "epoch_s",
                    "--dimension", "variant", "--session-gap", "3600", "--device", "cpu", "--quiet", "--out", run_result],
                   check=True, stdout=subprocess.DEVNULL)
    with h5py.File(run_result, "r") as f:
        journeys = int(f["breakdowns/0/journeys"][()].sum())
        if journeys != len(f["journeys/offsets"]) - 1:
            raise SystemExit(f"FAIL: the breakdown groups hold {journeys} journeys, not every journey")
    subprocess.run([args.journeymap, "report", run_result, "-o", report], check=True, stdout=subprocess.DEVNULL)
    with open(report, encoding="utf-8") as f:
        if "Breakdowns by dimension" not in f.read():
            raise SystemExit("FAIL: the report has no breakdowns section")
    print(f"OK: {len(n)} variants, every p-value and interval equals statsmodels/scipy; the report states them; "
          f"breakdowns cover every journey")


if __name__ == "__main__":
    main()
