#!/usr/bin/env python3
"""Frequent sequential patterns of an SPMF file, by the `prefixspan` PyPI package.

The independent reference the pattern tests and benchmarks compare journeymap against.
Support = number of sequences containing the pattern (the package's default key), as in SPMF.

usage: prefixspan_reference.py FILE MIN_COUNT [MAX_LENGTH]
prints one line per pattern: "<support>\t<item> <item> ..." (items as written in the file);
with JM_REFERENCE_TIMING=1 in the environment, also "seconds=<mining time>" on stderr.
"""
import os
import sys
import time

from prefixspan import PrefixSpan


def read_spmf(path):
    db = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#%@":
                continue
            db.append([int(tok) for tok in line.split() if tok not in ("-1", "-2")])
    return db


def main():
    path, min_count = sys.argv[1], int(sys.argv[2])
    max_length = int(sys.argv[3]) if len(sys.argv) > 3 and int(sys.argv[3]) > 0 else 1000000
    sys.setrecursionlimit(100000)
    ps = PrefixSpan(read_spmf(path))
    ps.minlen, ps.maxlen = 1, max_length
    start = time.perf_counter()
    results = ps.frequent(min_count)
    if os.environ.get("JM_REFERENCE_TIMING") == "1":
        sys.stderr.write("seconds=%.6f\n" % (time.perf_counter() - start))
    out = sys.stdout
    for support, pattern in results:
        out.write("%d\t%s\n" % (support, " ".join(map(str, pattern))))


if __name__ == "__main__":
    main()
