#!/usr/bin/env python3
"""journeymap's PrefixSpan side by side with the `prefixspan` PyPI package on the same SPMF files.

For each (dataset, minimum support): runs `bench_patterns --mine` (CPU, 1 and 2 threads; GPU with
--gpu) and scripts/prefixspan_reference.py, checks that both return the same patterns with the same
supports, and prints a Markdown table of mining times (file reading excluded on both sides), peak
memory of each process and the speed-up.

usage: scripts/bench_prefixspan_peers.py --bench build/bench/bench_patterns [--gpu]
           [--case sign/SIGN.txt:0.3 ...] [--data ../shared/data] [--python .venv/bin/python]
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES = [
    "sign/SIGN.txt:0.4",
    "sign/SIGN.txt:0.3",
    "kosarak10k/KOSARAK10K.txt:0.005",
    "kosarak10k/KOSARAK10K.txt:0.002",
    "bms1/BMS1_spmf.txt:0.002",
    "bms1/BMS1_spmf.txt:0.001",
    "bms2/BMS2.txt:0.002",
    "fifa/FIFA.txt:0.2",
    "msnbc/MSNBC.txt:0.05",
]


def run(cmd, env=None):
    """Runs cmd, returns (stdout, stderr, peak RSS MiB of that child alone)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), stderr))
    return stdout, stderr, usage.ru_maxrss / 1024.0


def seconds_from(stderr):
    for token in stderr.split():
        if token.startswith("seconds="):
            return float(token.split("=", 1)[1])
    raise ValueError("no seconds= in output: " + stderr)


def parse_patterns(text):
    out = {}
    for line in text.splitlines():
        support, items = line.split("\t")
        out[items] = int(support)
    return out


def count_sequences(path):
    with open(path) as f:
        return sum(1 for line in f if line.strip() and line[0] not in "#%@")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", required=True, help="path to the bench_patterns binary")
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--python", default=os.path.join(HERE, "..", ".venv", "bin", "python"))
    parser.add_argument("--case", action="append", help="file:min_support (relative to --data)")
    parser.add_argument("--gpu", action="store_true", help="also time the GPU backend")
    args = parser.parse_args()

    print("| dataset | minsup | min count | patterns | journeymap 1 thr (s) | 2 thr (s) |%s prefixspan (s) "
          "| speed-up (1 thr) | peak MiB ours / peer | identical |" % (" GPU (s) |" if args.gpu else ""))
    print("|---|---|---|---|---|---|%s---|---|---|---|" % ("---|" if args.gpu else ""))
    for case in args.case or DEFAULT_CASES:
        rel, minsup = case.rsplit(":", 1)
        path = os.path.join(args.data, rel)
        if not os.path.exists(path):
            continue
        min_count = math.ceil(float(minsup) * count_sequences(path))
        with tempfile.TemporaryDirectory() as tmp:
            ours_out = os.path.join(tmp, "ours.txt")
            _, err1, ours_peak = run([args.bench, "--mine", path, minsup, "cpu", "1", ours_out])
            _, err2, _ = run([args.bench, "--mine", path, minsup, "cpu", "2", "-"])
            gpu_cell = ""
            if args.gpu:
                _, err3, _ = run([args.bench, "--mine", path, minsup, "gpu", "1", "-"])
                gpu_cell = " %.3f |" % seconds_from(err3)
            env = dict(os.environ, JM_REFERENCE_TIMING="1")
            peer_out, peer_err, peer_peak = run(
                [args.python, os.path.join(HERE, "prefixspan_reference.py"), path, str(min_count)], env)
            with open(ours_out) as f:
                ours = parse_patterns(f.read())
        peer = parse_patterns(peer_out)
        t1, t2, tp = seconds_from(err1), seconds_from(err2), seconds_from(peer_err)
        print("| %s | %s | %d | %d | %.3f | %.3f |%s %.3f | %.0fx | %.0f / %.0f | %s |" % (
            rel.split("/")[0], minsup, min_count, len(ours), t1, t2, gpu_cell, tp, tp / max(t1, 1e-6),
            ours_peak, peer_peak, "yes" if ours == peer else "NO"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
