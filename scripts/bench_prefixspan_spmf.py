#!/usr/bin/env python3
"""`journeymap mine --device cpu` end to end on the public SPMF cases, against SPMF 2.66's PrefixSpan.

Runs each case (dataset @ absolute minimum count) the way a user does: one process per run, start,
file reading, mining, contrast statistics and the HDF5 file included. Prints a Markdown table of
the median wall time and the peak resident memory of journeymap beside SPMF's figures, and the
speed-up (SPMF seconds / ours).

SPMF's figures are the reference column of docs/benchmarks.md ("PrefixSpan against SPMF"): SPMF 2.66
PrefixSpan (Java, one thread, JVM start included) measured on a 2-core machine of the kind this
project builds on. SPMF is not on PyPI or Debian; with --spmf-jar (and java) the script runs it
beside journeymap instead, on the same machine, and checks that both return the same patterns;
--spmf-command does the same through another entry point (SPMF's AlgoPrefixSpan compiled from its
source with a small main, for instance).

usage: scripts/bench_prefixspan_spmf.py [--journeymap build/journeymap] [--data ../shared/data]
           [--repeat 3] [--case fifa/FIFA.txt:2045 ...] [--spmf-jar spmf.jar | --spmf-command CMD]
           [--threads 0]
"""
import argparse
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# dataset file @ absolute minimum count -> (patterns, SPMF seconds, SPMF peak MB), SPMF 2.66.
SPMF_REFERENCE = {
    "fifa/FIFA.txt:2045": (40642, 36.91, 1743),
    "msnbc/MSNBC.txt:990": (16637, 15.93, 3560),
    "leviathan/LEVIATHAN.txt:36": (529027, 15.21, 1246),
    "sign/SIGN.txt:37": (944486, 12.13, 1033),
    "bms2/BMS2.txt:39": (114216, 3.87, 1370),
    "kosarak10k/KOSARAK10K.txt:15": (272937, 4.13, 691),
    "bms1/BMS1_spmf.txt:42": (27403, 1.46, 545),
    "msnbc/MSNBC.txt:49491": (26, 1.74, 776),
    "kosarak10k/KOSARAK10K.txt:100": (392, 0.40, 76),
}


def run(cmd):
    """Runs cmd; returns (wall seconds, peak resident MiB, stdout). The peak comes from GNU time:
    the rusage of a child forked from this Python process would count Python's own pages."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "peak_kb=%M"] + cmd, stdout=out, stderr=err)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
        if proc.returncode != 0:
            sys.exit("failed: %s\n%s" % (" ".join(cmd), stderr))
        peak_kb = int(stderr.rsplit("peak_kb=", 1)[1].split()[0])
        out.seek(0)
        return seconds, peak_kb / 1024.0, out.read()


def patterns_in(result_path):
    """{pattern as 'a b c': support} from a journeymap result, with the items' SPMF names."""
    import h5py  # the project's virtual environment has it

    with h5py.File(result_path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f["/vocab/touchpoints"][()]]
        offsets, items, support = f["/patterns/offsets"][()], f["/patterns/items"][()], f["/patterns/support"][()]
    return {" ".join(names[i] for i in items[offsets[p]:offsets[p + 1]]): int(support[p]) for p in range(len(support))}


def spmf_patterns(path):
    """{pattern: support} from SPMF's output ('1 -1 2 -1 #SUP: 5')."""
    out = {}
    with open(path) as f:
        for line in f:
            body, support = line.split("#SUP:")
            out[" ".join(t for t in body.split() if t != "-1")] = int(support)
    return out


def count_sequences(path):
    with open(path) as f:
        return sum(1 for line in f if line.strip() and line[0] not in "#%@")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journeymap", default=os.path.join(HERE, "..", "build", "journeymap"))
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    parser.add_argument("--case", action="append", help="FILE:MIN_COUNT under --data (default: the reference cases)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    parser.add_argument("--threads", type=int, default=0, help="journeymap --threads (0 = all cores)")
    parser.add_argument("--spmf-jar", help="run SPMF here too (java -jar SPMF_JAR run PrefixSpan ...)")
    parser.add_argument("--spmf-command",
                        help="run SPMF here too through another entry point: a command with {input}, {min_count} "
                             "and {output} in it, e.g. 'java -cp CLASSES RunPrefixSpan {input} {min_count} {output}' "
                             "for a build of SPMF's AlgoPrefixSpan whose main calls runAlgorithm(input, output, "
                             "min_count); its output is SPMF's pattern file")
    args = parser.parse_args()

    cases = args.case or list(SPMF_REFERENCE)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for case in cases:
            file, min_count = case.rsplit(":", 1)
            path = os.path.join(args.data, file)
            result = os.path.join(work, "result.h5")
            cmd = [args.journeymap, "mine", "--input", path, "--format", "spmf", "--min-support", min_count,
                   "--device", "cpu", "--threads", str(args.threads), "--out", result, "--quiet"]
            runs = [run(cmd) for _ in range(args.repeat)]
            ours_s = statistics.median(r[0] for r in runs)
            ours_mb = max(r[1] for r in runs)
            ours = patterns_in(result)
            reference = SPMF_REFERENCE.get(case)
            spmf_s, spmf_mb, check = (reference[1], reference[2], "") if reference else (None, None, "")
            if reference and len(ours) != reference[0]:
                check = "pattern count differs from SPMF's %d" % reference[0]
            if args.spmf_jar or args.spmf_command:
                spmf_out = os.path.join(work, "spmf.txt")
                if args.spmf_command:
                    spmf_cmd = [part.format(input=path, min_count=min_count, output=spmf_out)
                                for part in shlex.split(args.spmf_command)]
                else:
                    # SPMF's jar takes a fraction; the smallest fraction whose ceil(f * n) is min_count.
                    n = count_sequences(path)
                    fraction = (int(min_count) - 0.5) / n
                    assert math.ceil(fraction * n) == int(min_count)
                    spmf_cmd = ["java", "-Xmx8g", "-jar", args.spmf_jar, "run", "PrefixSpan", path, spmf_out,
                                "%.10f%%" % (fraction * 100)]
                spmf_runs = [run(spmf_cmd) for _ in range(args.repeat)]
                spmf_s = statistics.median(r[0] for r in spmf_runs)
                spmf_mb = max(r[1] for r in spmf_runs)
                check = "same patterns" if spmf_patterns(spmf_out) == ours else "PATTERNS DIFFER"
            rows.append((case, len(ours), spmf_s, ours_s, spmf_mb, ours_mb, check))
            print("%s: %d patterns, %.2f s, %.0f MB %s" % (case, len(ours), ours_s, ours_mb, check), file=sys.stderr)

    source = "this machine" if args.spmf_jar or args.spmf_command else "reference"
    print("| dataset @ min count | patterns | SPMF s (%s) | ours s | SPMF / ours | SPMF peak MB | ours peak MB |"
          % source)
    print("|---|---|---|---|---|---|---|")
    for case, patterns, spmf_s, ours_s, spmf_mb, ours_mb, check in rows:
        file, min_count = case.rsplit(":", 1)
        name = os.path.dirname(file) or file
        ratio = "%.1fx" % (spmf_s / ours_s) if spmf_s else "-"
        print("| %s @ %s | %s | %s | %.2f | %s | %s | %.0f |%s" % (
            name, min_count, format(patterns, ","), "%.2f" % spmf_s if spmf_s else "-", ours_s, ratio,
            format(int(spmf_mb), ",") if spmf_mb else "-", ours_mb, " " + check if check else ""))


if __name__ == "__main__":
    main()
