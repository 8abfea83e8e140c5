#!/usr/bin/env python3
"""Test of scripts/peers.py: the peer pipeline must agree with journeymap.

1. Hand-made events that exercise every journey rule (ties in file order, a gap exactly at and just
   past session_gap_seconds, outcomes ending journeys, duplicate events and a duplicate conversion
   with drop_duplicates, the max_length cap) and the outcome cut (an outcome by conversion flag, by
   `[input] conversion_touchpoint` and by `[outcome.events]` with a label other than the positive one;
   events exactly 1 s and 2 s before and after an outcome; a journey left empty; the latest of two
   outcomes bounding the next journey's head; `after = "end"`): the peer's SQL journeys, patterns and
   flows must equal ours.
2. A small generated dataset with the default configuration: every must-agree check passes.

usage: peers_test.py --journeymap build/journeymap --out DIR
Exits 77 (CTest: skipped) when the project's Python lacks duckdb, xgboost, scikit-learn or prefixspan.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE.parent.parent / "scripts" / "peers.py"

# File order is not time order; within a customer, equal timestamps keep file order (A) unless
# drop_duplicates orders them by touchpoint id (B: product_view appears in the file before category).
EVENTS = """\
customer_id,timestamp,touchpoint,channel,value,conversion
A,2026-01-05T00:00:20Z,home,app,0,0
C,2026-01-05T02:00:00Z,home,web,0,0
A,2026-01-05T00:00:00Z,product_view,web,0,0
A,2026-01-05T00:00:00Z,search,web,0,0
A,2026-01-05T00:00:10Z,purchase,web,25.5,1
A,2026-01-05T00:01:21Z,search,app,0,0
A,2026-01-05T00:02:21Z,add_to_cart,app,0,0
B,2026-01-05T01:00:00Z,category,app,0,0
B,2026-01-05T01:00:00Z,product_view,web,0,0
B,2026-01-05T01:00:00Z,product_view,web,0,0
B,2026-01-05T01:00:30Z,search,web,0,0
C,2026-01-05T02:00:10Z,category,web,0,0
C,2026-01-05T02:00:20Z,product_view,web,0,0
C,2026-01-05T02:00:30Z,add_to_cart,web,0,0
C,2026-01-05T02:00:40Z,checkout,web,0,0
C,2026-01-05T02:00:50Z,purchase,web,40,1
D,2026-01-05T03:00:00Z,checkout,web,0,0
D,2026-01-05T03:00:05Z,purchase,web,10,1
D,2026-01-05T03:00:05Z,purchase,web,10,1
D,2026-01-05T03:00:30Z,home,email,0,0
E,2026-01-05T04:00:00Z,home,email,0,0
F,2026-01-05T05:00:00Z,home,web,0,0
F,2026-01-05T05:00:09Z,checkout,web,0,0
F,2026-01-05T05:00:10Z,purchase,web,30,0
F,2026-01-05T05:00:11Z,confirmation,email,0,0
F,2026-01-05T05:00:12Z,search,web,0,0
G,2026-01-05T06:00:00Z,home,app,0,0
G,2026-01-05T06:00:30Z,cancel,app,0,0
G,2026-01-05T06:00:31Z,purchase,app,5,1
G,2026-01-05T06:00:32Z,home,app,0,0
G,2026-01-05T06:00:40Z,search,app,0,0
H,2026-01-05T07:00:00Z,purchase,web,12,1
"""

CONFIG = """\
[input]
format = "csv"
conversion_touchpoint = "purchase"
[journeys]
session_gap_seconds = 60
drop_duplicates = true
max_length = 3
[outcome.events]
cancel = "cancelled"
[patterns]
min_support = 1
max_length = 3
[segments]
enabled = false
[model]
enabled = false
[anomalies]
enabled = false
"""


def run_peers(args, work, *extra):
    out = work / "peers.json"
    cmd = [sys.executable, str(PEERS), "--journeymap", args.journeymap, "--work", str(work), "--out", str(out),
           *extra]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    print(done.stdout[-6000:], done.stderr[-3000:], sep="\n")
    report = json.loads(out.read_text()) if out.exists() else None
    return done.returncode, report


def passed(report, stage):
    checks = report["checks"].get(stage, [])
    return bool(checks) and all(c["status"] == "pass" for c in checks if c["must_agree"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--journeymap", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    for module in ("duckdb", "xgboost", "sklearn", "prefixspan", "h5py", "scipy"):
        if importlib.util.find_spec(module) is None:
            print(f"SKIP: {module} is not installed in {sys.executable} (scripts/setup.sh)")
            return 77
    out = Path(args.out)
    failures = []

    # 1. Every journey rule and the outcome cut, on hand-made events; then with after = "end" and no
    # same-instant tolerance.
    # Default [outcome]: A: [product_view search](converted) [home] [search add_to_cart];
    # B: [product_view category search]; C: capped to [add_to_cart checkout purchase], cut to
    # [add_to_cart checkout](converted); D: [checkout](converted) [home]; E: [home]; F: [home](converted:
    # checkout 1 s before and confirmation 1 s after the purchase are cut) [search]; G: [home](cancelled,
    # not converted), the purchase 1 s after the cancel leaves an empty journey, home 1 s after that
    # purchase is cut: [search]; H: only an outcome, no journey.
    # after = "end", same_instant_seconds = 0: A: [product_view search]; B and C as above;
    # D: [checkout]; E: [home]; F: [home checkout](converted); G: [home]; H: none.
    cases = [("rules", CONFIG, {"n_journeys": 12, "n_events": 17}),
             ("rules_end", CONFIG + '[outcome]\nafter = "end"\nsame_instant_seconds = 0\n',
              {"n_journeys": 7, "n_events": 12})]
    for name, config, counts in cases:
        rules = out / name
        rules.mkdir(parents=True, exist_ok=True)
        (rules / "events.csv").write_text(EVENTS)
        (rules / "rules.toml").write_text(config)
        status, report = run_peers(args, rules, "--input", str(rules / "events.csv"), "--config",
                                   str(rules / "rules.toml"))
        if status != 0 or report is None:
            failures.append(f"hand-made events ({name}): peers.py exited {status}")
            continue
        info = report["stages"]["journeys"]["info"]
        expected = {**counts, "input_events": 32, "duplicates_dropped": 2, "events_truncated": 3}
        if {k: info[k] for k in expected} != expected:
            failures.append(f"hand-made events ({name}): journey counts {info}, expected {expected}")
        for stage in ("journeys", "patterns", "flows"):
            if not passed(report, stage):
                failures.append(f"hand-made events ({name}): {stage} checks {report['checks'].get(stage)}")

    # 2. The default configuration on generated data: every must-agree check.
    generated = out / "generated"
    generated.mkdir(parents=True, exist_ok=True)
    status, report = run_peers(args, generated, "--journeys", "3000", "--seed", "7")
    if status != 0 or report is None or report["failed"]:
        failures.append(f"generated data: peers.py exited {status}, failed checks "
                        f"{report['failed'] if report else 'no report'}")
    else:
        for stage in ("journeys", "patterns", "segments", "flows", "model"):
            if not passed(report, stage):
                failures.append(f"generated data: {stage} checks {report['checks'].get(stage)}")

    for failure in failures:
        print("FAILED:", failure)
    print("OK" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
