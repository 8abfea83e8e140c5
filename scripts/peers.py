#!/usr/bin/env python3
"""The peer pipeline: journeymap's `run`, redone with the tools an analyst would otherwise use.

On one events file (generated, or given in the generator's CSV format) this script runs
`journeymap run --device cpu`, then repeats its analyses with the usual Python stack, each stage
timed on its own, and checks that the results agree where they must:

  stage      peer                                                   must agree with ours
  ingest     DuckDB read_csv into a typed table                     -
  journeys   DuckDB window SQL (same cut rules and outcome cut),    journey and event counts, the
             CSR into numpy                                         multiset of (converted, touchpoints)
  patterns   `prefixspan` package, converted support by callback   every pattern, support, converted support
  features   DuckDB GROUP BY + PIVOT (the analyst's own table)      - (informational: common columns)
  segments   scikit-learn KMeans for k = k_min..k_max + silhouette  ARI >= 0.999 from our k-means++ start
  flows      DuckDB transition counts and path variants             every transition count, variant counts
  model      XGBoost (Python, hist) on our feature matrix           holdout ROC-AUC within 0.01 (whole-journey
                                                                    training; a loose sanity check when ours
                                                                    also trains on prefixes)
  anomalies  scikit-learn IsolationForest + MLPRegressor autoencoder - (informational: Spearman, top-k overlap)

Segments, model and anomalies read OUR stored feature matrix (/features/matrix), so that their
results are comparable with ours; the peer's own feature table is timed but not used downstream.
The default configuration is scripts/demo.toml without prefix training (`prefix_max_events = 0`:
ours then trains on the whole windows of the training journeys, the rows the peer trains on) and
without saving the model file.

    .venv/bin/python scripts/peers.py --journeys 200000
    .venv/bin/python scripts/peers.py --input data/events.csv --skip patterns --out out/peers.json

Prints a side-by-side table (stage | ours s | peer s | peer/ours | check) and writes every number
and check to --out (JSON). Exit status 1 when a must-agree check fails, else 0.
"""
import argparse
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
import tomllib
import warnings
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["ingest", "journeys", "patterns", "features", "segments", "flows", "model", "anomalies"]
# Peer stages that read the peer's journeys (skipping journeys skips them too).
NEEDS_JOURNEYS = {"patterns", "features", "flows"}
# Rows of the table: ours' stages in pipeline order; "write" and "attribution" have no peer.
TABLE_ROWS = ["ingest", "journeys", "write", "patterns", "features", "segments", "flows", "attribution", "model",
              "anomalies"]
NOTES = {
    "ingest": "DuckDB read_csv, typed columns",
    "journeys": "DuckDB window SQL, CSR fetched into numpy",
    "write": "ours only: HDF5 output",
    "patterns": "prefixspan (pure Python), converted support by callback",
    "features": "DuckDB GROUP BY + PIVOT; downstream peers use OUR /features/matrix",
    "segments": "sklearn KMeans n_init=restarts per k + silhouette_score(sample)",
    "flows": "DuckDB transitions + variants (ours also: Sankey, funnel, heatmaps)",
    "attribution": "ours only",
    "model": "xgboost hist on our matrix; prefix training off (no peer equivalent)",
    "anomalies": "sklearn IsolationForest + MLPRegressor AE, same trimming (ours also: metric alerts)",
}

# Demo configuration (scripts/demo.toml) minus what the peer cannot mirror: no prefix training, no
# model file. The feature matrix must be stored: the downstream peers read it.
DEFAULT_CONFIG = """\
# scripts/peers.py: scripts/demo.toml without prefix training (no peer equivalent) or model file.
[input]
format = "csv"
on_error = "fail"

[journeys]
session_gap_seconds = 172800

[features]
store_matrix = true

[model]
prefix_max_events = 0
"""

# Robust autoencoder training of ours (JourneyAnomalyOptions in include/journeymap/anomalies.hpp;
# not configurable from the TOML): two short trainings drop journeys above median + 6 x 1.4826 x MAD.
TRIM_ROUNDS, TRIM_EPOCHS, TRIM_K = 2, 3, 6.0
# Isolation forest rows per tree (IsolationForestOptions::sample_size; not configurable either).
FOREST_SAMPLE = 256
# Holdout ROC-AUC gap allowed when ours trains on prefixes as well (peer_model: different training rows).
LOOSE_AUC_TOLERANCE = 0.05


@dataclasses.dataclass
class Check:
    name: str
    status: str          # pass | fail | info | missing
    detail: str
    must_agree: bool = True

    def failed(self):
        return self.must_agree and self.status in ("fail", "missing")


@dataclasses.dataclass
class StageResult:
    seconds: float = None            # peer time; None when skipped
    skipped: str = ""                # why, when skipped
    info: dict = dataclasses.field(default_factory=dict)


class Stopwatch:
    """with Stopwatch() as sw: ...; sw.seconds"""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# ----------------------------------------------------------------------------------------- setup

def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--journeys", type=int, help="generate this many journeys with `journeymap generate`")
    data.add_argument("--input", type=Path, help="events CSV in the generator's format")
    p.add_argument("--seed", type=int, default=20260105, help="generator seed (default: scripts/demo.sh's)")
    p.add_argument("--config", type=Path, help="TOML for our run (default: demo.toml without prefix models)")
    p.add_argument("--journeymap", type=Path, default=ROOT / "build" / "journeymap", help="the CLI binary")
    p.add_argument("--work", type=Path, default=ROOT / "out" / "peers", help="folder for data and our result")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "peers.json", help="JSON with all numbers")
    p.add_argument("--threads", type=int, default=0, help="threads for both sides (0 = all cores)")
    p.add_argument("--skip", action="append", default=[], choices=STAGES, help="peer stage to leave out (repeat)")
    p.add_argument("--ours-h5", type=Path, help="reuse this result of ours instead of running (no wall time)")
    args = p.parse_args()
    args.threads = args.threads or os.cpu_count()
    return args


def prepare_data(args):
    """The events CSV: given, or generated once per (journeys, seed) into the work folder."""
    if args.input:
        return args.input.resolve()
    csv = args.work / f"events_{args.journeys}_{args.seed}.csv"
    if not csv.exists():
        run_checked([str(args.journeymap), "generate", "--journeys", str(args.journeys), "--seed", str(args.seed),
                     "--out", str(csv)])
    return csv


def run_checked(cmd):
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return done


def run_ours(args, csv, config):
    """Runs our pipeline on the CPU; returns the result path and the process wall time."""
    if args.ours_h5:
        return args.ours_h5, None
    out = args.work / "ours.h5"
    cmd = [str(args.journeymap), "run", "--config", str(config), "--input", str(csv), "--out", str(out),
           "--device", "cpu", "--threads", str(args.threads), "--quiet"]
    start = time.perf_counter()
    run_checked(cmd)
    return out, time.perf_counter() - start


class Ours:
    """Our result file: stage times, effective configuration and the arrays the checks compare."""

    def __init__(self, path):
        self.path = path
        self.f = h5py.File(path, "r")
        meta = self.f["meta"]
        self.stage_seconds = dict(zip(meta["stage_names"].asstr()[:], meta["stage_seconds"][:].tolist()))
        self.config = tomllib.loads(meta["config_toml"].asstr()[()])
        self.touchpoints = self.f["vocab/touchpoints"].asstr()[:]
        self.backend = meta.attrs["backend"]

    def has(self, name):
        return name in self.f

    def __getitem__(self, name):
        return self.f[name]

    def strings(self, name):
        return self.f[name].asstr()[:]


def versions():
    from importlib import metadata
    packages = ["duckdb", "numpy", "scikit-learn", "xgboost-cpu", "prefixspan", "h5py", "scipy"]
    return {"python": platform.python_version(), **{p: metadata.version(p) for p in packages}}


# ---------------------------------------------------------------------------------------- ingest

def outcome_events(cfg):
    """Touchpoint -> outcome label: `[outcome.events]`, plus `[input] conversion_touchpoint` as
    "converted" unless listed there (effective_outcome in host/config/run_config.cpp)."""
    events = dict(cfg.get("outcome", {}).get("events", {}))
    shorthand = cfg["input"].get("conversion_touchpoint")
    if shorthand and shorthand not in events:
        events[shorthand] = "converted"
    return events


def peer_ingest(con, csv, cfg):
    """Typed columns as an analyst declares them; timestamps parsed (ISO 8601, or epoch with
    timestamp_format = epoch_s / epoch_ms). rowid keeps the file order (insertion order is
    preserved), which ties at equal timestamps fall back on, as in ours. `outcome` is the outcome
    label of an outcome event (NULL for the others; mark_outcome_events in host/journeys/outcome.cpp):
    the label of its touchpoint in [outcome.events], else "converted" when the conversion column
    flags it; `conversion` says whether it is one."""
    cols = cfg["input"]["columns"]
    time_format = cfg["input"].get("timestamp_format", "auto")
    time_type = "BIGINT" if time_format in ("epoch_s", "epoch_ms") else "TIMESTAMPTZ"
    types = {cols["customer"]: "VARCHAR", cols["timestamp"]: time_type, cols["touchpoint"]: "VARCHAR",
             cols["channel"]: "VARCHAR", cols["value"]: "FLOAT", cols["conversion"]: "BOOLEAN"}
    if time_format == "epoch_s":
        ts = f'"{cols["timestamp"]}" * 1000'
    elif time_format == "epoch_ms":
        ts = f'"{cols["timestamp"]}"'
    else:
        ts = f'epoch_ms("{cols["timestamp"]}")'
    params = {"path": str(csv), "delim": cfg["input"].get("delimiter", ",")}
    by_touchpoint = ""
    for i, (touchpoint, label) in enumerate(outcome_events(cfg).items()):
        by_touchpoint += f' WHEN "{cols["touchpoint"]}" = $outcome_touchpoint{i} THEN $outcome_label{i}'
        params.update({f"outcome_touchpoint{i}": touchpoint, f"outcome_label{i}": label})
    outcome = f"""CASE{by_touchpoint} WHEN coalesce("{cols['conversion']}", false) THEN 'converted' END"""
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    sql = f"""
        CREATE OR REPLACE TABLE events AS
        SELECT "{cols['customer']}" AS customer, {ts} AS ts_ms, "{cols['touchpoint']}" AS touchpoint,
               "{cols['channel']}" AS channel, coalesce("{cols['value']}", 0)::FLOAT AS value,
               {outcome} AS outcome, ({outcome}) IS NOT NULL AS conversion
        FROM read_csv($path, header = true, delim = $delim, columns = {columns})"""
    result = StageResult()
    with Stopwatch() as sw:
        con.execute(sql, params)
        rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
    result.seconds = sw.seconds
    result.info["rows"] = rows
    return result


# -------------------------------------------------------------------------------------- journeys

def journeys_sql(opts, outcome):
    """Journey building in SQL with the rules of host/journeys/journeys_cpu.cpp and the outcome cut of
    host/journeys/outcome.cpp (cut_at_outcomes). Raw journeys: events of a customer ordered by time,
    then file order (with drop_duplicates: time, touchpoint and channel in first-appearance id order,
    outcome flag, value, then file order; an event identical to the one before it is dropped); a
    raw journey starts at a new customer, right after an outcome event and after a gap strictly longer
    than session_gap_seconds; max_length keeps its last events (so its outcome event, always its last).
    The cut: a raw journey ending with an outcome event loses it and every event logged within
    same_instant_seconds before it; the head of the customer's later raw journeys loses the events
    logged within same_instant_seconds after the customer's latest outcome (after = "end": those
    journeys are dropped); a journey left empty is dropped. Returns the statements, in order: the raw
    (capped) events, the raw journeys, the journeys' events."""
    gap_ms = int(opts["session_gap_seconds"] * 1000.0)  # truncated like the C++ cast
    cap = int(opts["max_length"])
    tolerance_ms = int(math.floor(outcome["same_instant_seconds"] * 1000.0 + 0.5))  # llround, x >= 0
    end = "true" if outcome["after"] == "end" else "false"
    if opts["drop_duplicates"]:
        keys = "ts_ms, touchpoint_rank, channel_rank, conversion, value, seq"
        source = f"""
            touchpoint_rank AS (SELECT touchpoint, row_number() OVER (ORDER BY min(rowid)) AS touchpoint_rank
                                FROM events GROUP BY touchpoint),
            channel_rank AS (SELECT channel, row_number() OVER (ORDER BY min(rowid)) AS channel_rank
                             FROM events GROUP BY channel),
            all_events AS (
                SELECT e.*, e.rowid AS seq, touchpoint_rank, channel_rank FROM events e
                JOIN touchpoint_rank USING (touchpoint) JOIN channel_rank USING (channel)),
            marked AS (
                SELECT *, coalesce(lag(ts_ms) OVER w = ts_ms AND lag(touchpoint) OVER w = touchpoint
                                   AND lag(channel) OVER w = channel
                                   AND lag(outcome) OVER w IS NOT DISTINCT FROM outcome
                                   AND lag(value) OVER w = value, false) AS duplicate
                FROM all_events WINDOW w AS (PARTITION BY customer ORDER BY {keys})),
            base AS (SELECT * EXCLUDE (duplicate) FROM marked WHERE NOT duplicate),"""
    else:
        keys = "ts_ms, seq"
        source = "base AS (SELECT *, rowid AS seq FROM events),"
    kept = f"WHERE full_length - position < {cap}" if cap > 0 else ""
    raw_events = f"""
        CREATE OR REPLACE TABLE raw_journey_events AS
        WITH {source}
        ordered AS (
            SELECT *, lag(ts_ms) OVER w AS previous_ts, lag(conversion) OVER w AS previous_conversion,
                   min(seq) OVER (PARTITION BY customer) AS customer_first_seq
            FROM base WINDOW w AS (PARTITION BY customer ORDER BY {keys})),
        numbered AS (
            SELECT *, sum(CASE WHEN previous_ts IS NULL OR previous_conversion
                                 OR ({gap_ms} > 0 AND ts_ms - previous_ts > {gap_ms}) THEN 1 ELSE 0 END)
                      OVER (PARTITION BY customer ORDER BY {keys} ROWS UNBOUNDED PRECEDING) AS journey_of_customer
            FROM ordered),
        positioned AS (
            SELECT *, row_number() OVER j AS position, count(*) OVER j AS full_length
            FROM numbered WINDOW j AS (PARTITION BY customer, journey_of_customer ORDER BY {keys}
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
        SELECT customer, customer_first_seq, journey_of_customer, position, full_length, ts_ms, touchpoint,
               channel, value, outcome, conversion
        FROM positioned {kept}"""
    raw_journeys = """
        CREATE OR REPLACE TABLE raw_journeys AS
        SELECT *, max(outcome_ms) OVER (PARTITION BY customer ORDER BY journey_of_customer
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_outcome_ms
        FROM (SELECT customer, journey_of_customer, any_value(customer_first_seq) AS customer_first_seq,
                     any_value(full_length) AS full_length, count(*) AS length, max(outcome) AS outcome,
                     max(ts_ms) FILTER (WHERE conversion) AS outcome_ms
              FROM raw_journey_events GROUP BY customer, journey_of_customer)"""
    cut = f"""
        CREATE OR REPLACE TABLE journey_events AS
        WITH cut AS (
            SELECT e.*, j.outcome AS journey_outcome, j.outcome_ms FROM raw_journey_events e
            JOIN raw_journeys j USING (customer, journey_of_customer)
            WHERE NOT e.conversion
              AND (j.outcome_ms IS NULL OR j.outcome_ms - e.ts_ms > {tolerance_ms})
              AND (j.previous_outcome_ms IS NULL OR (NOT {end} AND e.ts_ms - j.previous_outcome_ms > {tolerance_ms})))
        SELECT dense_rank() OVER (ORDER BY customer_first_seq, journey_of_customer) - 1 AS journey,
               customer, ts_ms, touchpoint, channel, value, coalesce(journey_outcome = $positive, false) AS converted,
               outcome_ms, row_number() OVER (PARTITION BY customer, journey_of_customer ORDER BY position) AS position
        FROM cut"""
    return [raw_events, raw_journeys, cut]


def outcome_options(cfg):
    """[outcome] with ours' defaults (a configuration stored by an older binary has none)."""
    return {"positive": "converted", "same_instant_seconds": 1.0, "after": "new_journey", "label_file": "",
            "window_days": 0.0, **cfg.get("outcome", {})}


def peer_journeys(con, cfg):
    opts, outcome = cfg["journeys"], outcome_options(cfg)
    result = StageResult()
    with Stopwatch() as sw:
        raw_events, raw_journeys, cut = journeys_sql(opts, outcome)
        con.execute(raw_events)
        con.execute(raw_journeys)
        con.execute(cut, {"positive": outcome["positive"]})
        con.execute("""
            CREATE OR REPLACE TABLE journeys AS
            SELECT journey, any_value(customer) AS customer, any_value(converted) AS converted,
                   count(*) AS length, min(ts_ms) AS start_ms, max(ts_ms) AS end_ms,
                   any_value(outcome_ms) AS outcome_ms
            FROM journey_events GROUP BY journey ORDER BY journey""")
        # Touchpoint ids of the peer: alphabetical (independent of ours; compared through names).
        con.execute("""
            CREATE OR REPLACE TABLE touchpoint_ids AS
            SELECT touchpoint, (row_number() OVER (ORDER BY touchpoint) - 1)::INTEGER AS id
            FROM (SELECT DISTINCT touchpoint FROM events)""")
        events = con.execute("""
            SELECT t.id FROM journey_events e JOIN touchpoint_ids t USING (touchpoint)
            ORDER BY e.journey, e.position""").fetchnumpy()
        per_journey = con.execute("SELECT converted, length FROM journeys ORDER BY journey").fetchnumpy()
        names = [r[0] for r in con.execute("SELECT touchpoint FROM touchpoint_ids ORDER BY id").fetchall()]
        lengths = per_journey["length"].astype(np.int64)
        journeys = {"touchpoint": events["id"].astype(np.int32),
                    "offsets": np.concatenate([[0], np.cumsum(lengths)]),
                    "converted": per_journey["converted"].astype(np.uint8),
                    "names": names}
    result.seconds = sw.seconds
    n_input = con.execute("SELECT count(*) FROM events").fetchone()[0]
    # Duplicates and the length cap are counted on the raw journeys, before the outcome cut (as ours).
    n_kept_before_cap, n_raw_events = (int(x) for x in con.execute(
        "SELECT coalesce(sum(full_length), 0), coalesce(sum(length), 0) FROM raw_journeys").fetchone())
    result.info = {"n_journeys": len(lengths), "n_events": int(lengths.sum()), "input_events": n_input,
                   "duplicates_dropped": n_input - n_kept_before_cap,
                   "events_truncated": n_kept_before_cap - n_raw_events}
    return result, journeys


def sequence_keys(touchpoint, offsets, converted):
    """One bytes key per journey: converted flag, then its touchpoint ids (int32)."""
    return [bytes([c]) + touchpoint[offsets[j]:offsets[j + 1]].tobytes() for j, c in enumerate(converted.tolist())]


def check_journeys(ours, peer, info):
    attrs = ours["journeys"].attrs
    checks = []
    counts_ours = {k: int(attrs[k]) for k in ("n_journeys", "n_events", "input_events", "duplicates_dropped",
                                               "events_truncated")}
    counts_peer = {k: info[k] for k in counts_ours}
    same = counts_ours == counts_peer
    checks.append(Check("journey and event counts", "pass" if same else "fail",
                        f"{counts_peer['n_journeys']} journeys, {counts_peer['n_events']} events"
                        if same else f"ours {counts_ours} vs peer {counts_peer}"))
    # Our ids -> the peer's ids through the names, then the multisets of (converted, sequence).
    peer_id = {name: i for i, name in enumerate(peer["names"])}
    missing = [t for t in ours.touchpoints if t not in peer_id]
    to_peer = np.array([peer_id.get(t, -1) for t in ours.touchpoints], dtype=np.int32)
    ours_tp = to_peer[ours["journeys/touchpoint"][:]] if len(to_peer) else np.zeros(0, np.int32)
    ours_offsets = ours["journeys/offsets"][:]
    ours_converted = ours["journeys/converted"][:]
    aligned = (not missing and np.array_equal(ours_offsets, peer["offsets"]) and
               np.array_equal(ours_tp, peer["touchpoint"]) and np.array_equal(ours_converted, peer["converted"]))
    if aligned:
        same_multiset = True
    else:
        same_multiset = not missing and sorted(sequence_keys(ours_tp, ours_offsets, ours_converted)) == \
            sorted(sequence_keys(peer["touchpoint"], peer["offsets"], peer["converted"]))
    detail = ("identical, journey by journey in the same order" if aligned else
              "identical as multisets (journey order differs)" if same_multiset else
              f"differ (touchpoints missing in the peer: {missing})" if missing else "differ")
    checks.append(Check("journey sequences (converted, touchpoints)", "pass" if same_multiset else "fail", detail))
    return checks, aligned


# -------------------------------------------------------------------------------------- patterns

def min_support_count(min_support, n_journeys):
    """Ours' rule (host/patterns/patterns.cpp MinSupport): an integer is a count; a fraction f becomes
    ceil(f * n) in double arithmetic, as SPMF computes it; "x%" is a fraction."""
    if isinstance(min_support, str):
        text = min_support.strip()
        if text.endswith("%"):
            min_support = float(text[:-1]) / 100.0
        elif text.isdigit():
            min_support = int(text)
        else:
            min_support = float(text)
    if isinstance(min_support, int):
        return min_support
    return max(int(math.ceil(min_support * n_journeys)), 1)


def peer_patterns(peer, cfg):
    from prefixspan import PrefixSpan
    opts = cfg["patterns"]
    result = StageResult()
    if opts["max_gap"] != 0 or opts["top_k"] != 0:
        result.skipped = "prefixspan has no gap limit and no exact top-k with converted support"
        return result, None
    n = len(peer["converted"])
    min_count = min_support_count(opts["min_support"], n)
    found = []
    with Stopwatch() as sw:
        # The journeys as they are: the outcome cut already took the outcome events out.
        tp, offsets = peer["touchpoint"].tolist(), peer["offsets"].tolist()
        converted = peer["converted"].tolist()
        db = [tp[offsets[j]:offsets[j + 1]] for j in range(n)]
        sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
        ps = PrefixSpan(db)
        ps.minlen = opts["min_length"]
        ps.maxlen = opts["max_length"] if opts["max_length"] > 0 else 1_000_000

        # The callback sees each frequent pattern with its matches (journey, position): the converted
        # support is one pass over them, where an analyst would otherwise re-scan the database.
        def record(pattern, matches):
            found.append((tuple(pattern), len(matches), sum(converted[j] for j, _ in matches)))

        ps.frequent(min_count, callback=record)
    result.seconds = sw.seconds
    result.info = {"min_support_count": min_count, "n_patterns": len(found)}
    return result, found


def check_patterns(ours, peer, found, min_count):
    attrs = ours["patterns"].attrs
    names = peer["names"]
    offsets, items = ours["patterns/offsets"][:], ours["patterns/items"][:]
    support, converted = ours["patterns/support"][:], ours["patterns/converted_support"][:]
    ours_patterns = {tuple(ours.touchpoints[items[offsets[p]:offsets[p + 1]]]): (int(support[p]), int(converted[p]))
                     for p in range(len(support))}
    peer_patterns = {tuple(names[i] for i in pattern): (s, c) for pattern, s, c in found}
    problems = []
    if int(attrs["min_support_count"]) != min_count:
        problems.append(f"minimum count ours {int(attrs['min_support_count'])} vs peer {min_count}")
    if int(attrs["truncated"]):
        problems.append("ours is truncated at max_patterns")
    only_ours = set(ours_patterns) - set(peer_patterns)
    only_peer = set(peer_patterns) - set(ours_patterns)
    if only_ours or only_peer:
        problems.append(f"{len(only_ours)} patterns only in ours (e.g. {sorted(only_ours)[:2]}), "
                        f"{len(only_peer)} only in the peer (e.g. {sorted(only_peer)[:2]})")
    differ = [p for p in set(ours_patterns) & set(peer_patterns) if ours_patterns[p] != peer_patterns[p]]
    if differ:
        p = sorted(differ)[0]
        problems.append(f"{len(differ)} counts differ, e.g. {' > '.join(p)}: ours (support, converted) "
                        f"{ours_patterns[p]} vs peer {peer_patterns[p]}")
    detail = "; ".join(problems) if problems else \
        f"{len(ours_patterns)} patterns, support and converted support identical (min count {min_count})"
    return [Check("patterns, support, converted support", "fail" if problems else "pass", detail)]


# -------------------------------------------------------------------------------------- features

def peer_features(con, cfg):
    """The analyst's feature table: per journey, on the window ours uses (the whole journey: the
    outcome cut already took the outcome out)."""
    result = StageResult()
    with Stopwatch() as sw:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE feature_window AS
            SELECT journey, position, ts_ms, touchpoint, channel, value,
                   ts_ms - lag(ts_ms) OVER (PARTITION BY journey ORDER BY position) AS gap_ms
            FROM journey_events""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE features_scalar AS
            SELECT j.journey, coalesce(count(w.journey), 0) AS length,
                   coalesce((max(w.ts_ms) - min(w.ts_ms)) / 1000.0, 0) AS duration_seconds,
                   count(DISTINCT w.touchpoint) AS distinct_touchpoints,
                   count(DISTINCT w.channel) AS channel_count,
                   coalesce(avg(w.gap_ms) / 1000.0, 0) AS gap_mean_seconds,
                   coalesce(median(w.gap_ms) / 1000.0, 0) AS gap_median_seconds,
                   coalesce(max(w.gap_ms) / 1000.0, 0) AS gap_max_seconds,
                   coalesce((min(w.ts_ms) % 86400000) / 3600000.0, 0) AS start_hour,
                   coalesce(isodow(to_timestamp(min(w.ts_ms) / 1000)) - 1, 0) AS start_weekday,
                   coalesce(sum(w.value), 0) AS window_value,
                   row_number() OVER (PARTITION BY j.customer ORDER BY j.journey) AS customer_journey_number
            FROM journeys j LEFT JOIN feature_window w USING (journey)
            GROUP BY j.journey, j.customer""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE touchpoint_counts AS
            PIVOT (SELECT journey, 'touchpoint_share:' || touchpoint AS column_name FROM feature_window)
            ON column_name USING count(*) GROUP BY journey""")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE channel_counts AS
            PIVOT (SELECT journey, 'channel_share:' || channel AS column_name FROM feature_window)
            ON column_name USING count(*) GROUP BY journey""")
        share_columns = [c for (c,) in con.execute(
            "SELECT column_name FROM (DESCRIBE touchpoint_counts) UNION ALL "
            "SELECT column_name FROM (DESCRIBE channel_counts)").fetchall() if c != "journey"]
        shares = ", ".join(f'coalesce("{c}", 0) / greatest(s.length, 1) AS "{c}"' for c in share_columns)
        table = con.execute(f"""
            SELECT s.*, {shares} FROM features_scalar s
            LEFT JOIN touchpoint_counts USING (journey) LEFT JOIN channel_counts USING (journey)
            ORDER BY journey""").fetchnumpy()
    result.seconds = sw.seconds
    result.info["columns"] = len(table) - 1
    return result, table


def compare_features(matrix, names, table):
    """Informational: the peer's columns that ours also has, journey by journey (only meaningful when the
    journeys are in the same order)."""
    identical, different = [], []
    for column in table:
        if column not in names:
            continue
        mine = matrix[:, names.index(column)].astype(np.float64)
        theirs = np.asarray(table[column], dtype=np.float64)
        (identical if np.allclose(mine, theirs, rtol=1e-5, atol=1e-5) else different).append(column)
    detail = f"{len(identical)} of {len(identical) + len(different)} common columns agree (rtol 1e-5)"
    if different:
        detail += f"; differ: {', '.join(different)}"
    return Check("common feature columns", "info", detail, must_agree=False)


# -------------------------------------------------------------------------------------- segments

def standardised(matrix, names, columns, transform, mean, scale):
    """Ours' apply_scaling (host/features/features.cpp) in double, then float32: f(x) = x, log1p(max(x, 0))
    or sqrt(max(x, 0)) by transform 0/1/2, then (f(x) - mean) / scale."""
    index = [names.index(c) for c in columns]
    x = matrix[:, index].astype(np.float64)
    for i, t in enumerate(transform):
        if t == 1:
            x[:, i] = np.log1p(np.maximum(x[:, i], 0.0))
        elif t == 2:
            x[:, i] = np.sqrt(np.maximum(x[:, i], 0.0))
    return ((x - mean.astype(np.float64)) / scale.astype(np.float64)).astype(np.float32)


def peer_segments(ours, matrix, names, cfg, threads):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    opts = cfg["segments"]
    columns = list(ours.strings("segments/columns"))
    points = standardised(matrix, names, columns, ours["segments/scaling_transform"][:],
                          ours["segments/scaling_mean"][:], ours["segments/scaling_scale"][:])
    ks = [opts["k"]] if opts["k"] > 0 else list(range(opts["k_min"], min(opts["k_max"], len(points)) + 1))
    result = StageResult()
    silhouettes = {}
    with Stopwatch() as sw:
        best = None
        for k in ks:
            km = KMeans(n_clusters=k, n_init=opts["restarts"], max_iter=opts["max_iterations"], tol=opts["tolerance"],
                        algorithm="lloyd", random_state=opts["seed"]).fit(points)
            silhouettes[k] = float(silhouette_score(points, km.labels_, sample_size=min(opts["silhouette_sample"],
                                                    len(points)), random_state=opts["seed"]))
            if best is None or silhouettes[k] > silhouettes[best]:
                best = k
    result.seconds = sw.seconds
    k_ours = int(ours["segments"].attrs["k"])
    result.info = {"k_chosen": best, "k_ours": k_ours, "silhouette_per_k": silhouettes}
    checks = [Check("k chosen by silhouette", "info", f"peer k = {best}, ours k = {k_ours}", must_agree=False)]

    # Same start, same algorithm: scikit-learn's Lloyd from our k-means++ centroids must find our segments.
    if not ours.has("segments/initial_centroids_scaled"):
        checks.append(Check("k-means from our start (ARI)", "missing",
                            "ours has no /segments/initial_centroids_scaled (binary older than that dataset)"))
        return result, checks
    init = ours["segments/initial_centroids_scaled"][:].astype(np.float32)
    with Stopwatch() as check_sw:
        same_start = KMeans(n_clusters=k_ours, init=init, n_init=1, max_iter=opts["max_iterations"],
                            tol=opts["tolerance"], algorithm="lloyd").fit(points)
        ari = adjusted_rand_score(ours["segments/label"][:], same_start.labels_)
    result.info.update({"ari_same_start": float(ari), "ari_check_seconds": check_sw.seconds,
                        "sklearn_iterations_same_start": int(same_start.n_iter_),
                        "ours_iterations": int(ours["segments"].attrs["iterations"])})
    checks.append(Check("k-means from our start (ARI >= 0.999)", "pass" if ari >= 0.999 else "fail",
                        f"ARI {ari:.6f} at k = {k_ours} (sklearn {same_start.n_iter_} iterations, "
                        f"ours {int(ours['segments'].attrs['iterations'])})"))
    return result, checks


# ----------------------------------------------------------------------------------------- flows

def peer_flows(con, cfg):
    """Transitions (start -> first touch, each consecutive pair, last touch -> conversion or exit, counted
    per occurrence) and path variants (the whole journeys: the outcome cut already took the outcome out)."""
    result = StageResult()
    with Stopwatch() as sw:
        transitions = con.execute("""
            WITH steps AS (
                SELECT touchpoint, converted,
                       lag(touchpoint) OVER w AS previous, lead(touchpoint) OVER w AS next
                FROM journey_events WINDOW w AS (PARTITION BY journey ORDER BY position))
            SELECT coalesce(previous, '(start)') AS from_state, touchpoint AS to_state, count(*) FROM steps
            GROUP BY ALL
            UNION ALL
            SELECT touchpoint, CASE WHEN converted THEN '(conversion)' ELSE '(exit)' END, count(*) FROM steps
            WHERE next IS NULL GROUP BY ALL""").fetchall()
        con.execute("""
            CREATE OR REPLACE TEMP TABLE variants AS
            SELECT path, count(*) AS journeys, sum(converted::INTEGER) AS conversions FROM (
                SELECT journey, any_value(converted) AS converted,
                       string_agg(touchpoint, ' > ' ORDER BY position) AS path
                FROM journey_events GROUP BY journey)
            GROUP BY path""")
        # What the analyst looks at: the top paths by journeys, by conversions and by abandonments.
        top = int(cfg["flows"]["top_variants"])
        for order in ("journeys", "conversions", "journeys - conversions"):
            con.execute(f"SELECT * FROM variants ORDER BY {order} DESC, path LIMIT {top}").fetchall()
        n_variants = con.execute("SELECT count(*) FROM variants").fetchone()[0]
    result.seconds = sw.seconds
    result.info = {"transitions": len(transitions), "n_distinct_variants": n_variants}
    return result, {(a, b): c for a, b, c in transitions}


def check_flows(con, ours, transitions, info):
    states = ours.strings("flows/state_names")
    ours_transitions = {(states[a], states[b]): int(c) for a, b, c in zip(
        ours["flows/transitions/from"][:], ours["flows/transitions/to"][:], ours["flows/transitions/count"][:])}
    checks = []
    differ = sorted(k for k in set(ours_transitions) | set(transitions)
                    if ours_transitions.get(k, 0) != transitions.get(k, 0))
    checks.append(Check("transition counts", "fail" if differ else "pass",
                        f"{len(ours_transitions)} transitions identical" if not differ else
                        f"{len(differ)} differ, e.g. {differ[0]}: ours {ours_transitions.get(differ[0], 0)} "
                        f"vs peer {transitions.get(differ[0], 0)}"))
    attrs = ours["flows"].attrs
    counts = zip(ours["flows/variants/journeys"][:].tolist(), ours["flows/variants/conversions"][:].tolist())
    ours_paths = dict(zip(ours.strings("flows/variants/path"), counts))
    rows = con.execute("SELECT path, journeys, conversions FROM variants WHERE list_contains($paths, path)",
                       {"paths": list(ours_paths)}).fetchall()
    peer_paths = {p: (int(j), int(c)) for p, j, c in rows}
    problems = []
    if int(attrs["n_distinct_variants"]) != info["n_distinct_variants"]:
        problems.append(f"distinct variants ours {int(attrs['n_distinct_variants'])} "
                        f"vs peer {info['n_distinct_variants']}")
    wrong = [p for p in ours_paths if ours_paths[p] != peer_paths.get(p)]
    if wrong:
        problems.append(f"{len(wrong)} stored variants differ, e.g. '{wrong[0]}': ours (journeys, conversions) "
                        f"{ours_paths[wrong[0]]} vs peer {peer_paths.get(wrong[0])}")
    checks.append(Check("path variants (distinct count, stored variants' counts)", "fail" if problems else "pass",
                        "; ".join(problems) if problems else
                        f"{info['n_distinct_variants']} distinct; all {len(ours_paths)} stored variants identical"))
    return checks


# ----------------------------------------------------------------------------------------- model

def peer_model(ours, matrix, names, cfg, threads):
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score
    opts = cfg["model"]
    result = StageResult()
    if opts["target"] != "conversion":
        result.skipped = f"target {opts['target']!r}: the peer mirrors the conversion target only"
        return result, []
    attrs = ours["model"].attrs
    feature_names = list(ours.strings("model/feature_names"))
    absent = [c for c in feature_names if c not in names]
    if absent:
        result.skipped = f"model columns not in /features/names: {absent}"
        return result, [Check("model columns in /features", "fail", result.skipped)]
    labels = ours["journeys/converted"][:].astype(np.float32)
    customers = ours["journeys/customer"][:]
    test_rows = np.sort(ours["model/holdout/journey"][:])
    with Stopwatch() as sw:
        x = matrix[:, [names.index(c) for c in feature_names]]
        # Test rows: ours' customer holdout. The rest (no row is excluded for a conversion target):
        # early_stopping_fraction of its customers, per stratum (any conversion or none) as ours draws
        # them, stop the boosting; the others train.
        is_test = np.zeros(len(labels), bool)
        is_test[test_rows] = True
        rest_customers = np.unique(customers[~is_test])
        positive = np.zeros(customers.max() + 1, bool)
        np.logical_or.at(positive, customers[~is_test], labels[~is_test] > 0)
        rng = np.random.default_rng(int(opts["seed"]))
        early_customers = []
        for stratum in (rest_customers[~positive[rest_customers]], rest_customers[positive[rest_customers]]):
            shuffled = rng.permutation(stratum)
            early_customers.append(shuffled[:int(round(opts["early_stopping_fraction"] * len(stratum)))])
        is_early = np.isin(customers, np.concatenate(early_customers)) & ~is_test
        is_train = ~is_test & ~is_early
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist", "device": "cpu",
                  "eta": opts["learning_rate"], "max_depth": opts["max_depth"],
                  "min_child_weight": opts["min_child_weight"], "subsample": opts["subsample"],
                  "colsample_bytree": opts["colsample_bytree"], "lambda": opts["reg_lambda"],
                  "max_bin": opts["max_bin"], "seed": int(opts["seed"]) % 2147483647, "nthread": threads}
        train = xgb.DMatrix(x[is_train], label=labels[is_train], feature_names=feature_names, nthread=threads)
        early = xgb.DMatrix(x[is_early], label=labels[is_early], feature_names=feature_names, nthread=threads)
        test = xgb.DMatrix(x[test_rows], label=labels[test_rows], feature_names=feature_names, nthread=threads)
        booster = xgb.train(params, train, num_boost_round=opts["rounds"],
                            evals=[(train, "train"), (early, "early_stop")],
                            early_stopping_rounds=opts["early_stopping_rounds"] or None, verbose_eval=False)
        best = getattr(booster, "best_iteration", booster.num_boosted_rounds() - 1)
        prediction = booster.predict(test, iteration_range=(0, best + 1))
        auc = float(roc_auc_score(labels[test_rows], prediction))
    result.seconds = sw.seconds
    metric_names = list(ours.strings("model/metrics/name"))
    ours_auc = float(ours["model/metrics/model"][metric_names.index("roc_auc")])
    result.info = {"roc_auc": auc, "roc_auc_ours": ours_auc, "rounds_kept": best + 1,
                   "rounds_kept_ours": int(attrs["rounds_trained"]), "n_train": int(is_train.sum()),
                   "n_early_stop": int(is_early.sum()), "n_test": len(test_rows),
                   "n_train_ours": int(attrs["n_train"]), "n_early_stop_ours": int(attrs["n_early_stop"])}
    detail = f"peer {auc:.4f}, ours {ours_auc:.4f} ({best + 1} vs {int(attrs['rounds_trained'])} rounds)"
    # Ours' /model/metrics/model is its model on the whole windows of the test journeys ("at the
    # decision point"). Without prefix training ours fits exactly the whole windows of all training and
    # early-stopping journeys, the rows the peer fits: the AUCs must agree closely. With prefix training
    # (prefix_max_events > 0) or a customer sample (max_train_rows) ours fits one model on other rows
    # (every k-event prefix besides the whole windows), so an exact agreement would compare two
    # different models; then only a loose sanity check holds: both clearly better than chance and not
    # far apart.
    n_fit_rows = int(attrs.get("n_fit_rows", int(attrs["n_train"]) + int(attrs["n_early_stop"])))
    same_rows = (int(attrs.get("prefix_max_events", opts["prefix_max_events"])) == 0 and
                 n_fit_rows == int(attrs["n_train"]) + int(attrs["n_early_stop"]))
    result.info.update({"n_fit_rows_ours": n_fit_rows, "same_training_rows": same_rows})
    if same_rows:
        ok = abs(auc - ours_auc) <= 0.01
        return result, [Check("holdout ROC-AUC within 0.01", "pass" if ok else "fail", detail)]
    ok = min(auc, ours_auc) > 0.5 and abs(auc - ours_auc) <= LOOSE_AUC_TOLERANCE
    return result, [Check(f"holdout ROC-AUC sanity (both > 0.5, within {LOOSE_AUC_TOLERANCE}: ours also fits "
                          f"prefixes, {n_fit_rows} rows)", "pass" if ok else "fail", detail)]


# ------------------------------------------------------------------------------------- anomalies

def feature_transform(name):
    """Ours' transform by column name (feature_transform in host/features/features.cpp)."""
    log_scaled = {"length", "duration_seconds", "distinct_touchpoints", "revisits", "channel_count",
                  "gap_mean_seconds", "gap_median_seconds", "gap_max_seconds", "recency_days",
                  "customer_journey_number"}
    if name in log_scaled:
        return 1
    if name.split(":")[0] in ("touchpoint_share", "channel_share", "bigram_share") and ":" in name:
        return 2
    return 0


def robust_limit(scores, k):
    median = np.median(scores)
    return median + k * 1.4826 * np.median(np.abs(scores - median))


def anomaly_threshold(scores, opts):
    """Ours' flagging rule (anomaly_threshold in host/anomalies/anomalies.cpp), for the peer's scores."""
    rule = opts["threshold"]
    if rule == "percentile":
        return float(np.percentile(scores, opts["percentile"]))
    if rule == "robust":
        return float(robust_limit(scores, opts["robust_k"]))
    positive = scores[scores > 0]
    if len(positive) == 0:
        return 0.0
    return float(np.exp(robust_limit(np.log(np.maximum(scores, positive.min())), opts["log_robust_k"])))


def peer_anomalies(ours, matrix, names, cfg, threads):
    from scipy.stats import spearmanr
    from sklearn.ensemble import IsolationForest
    from sklearn.neural_network import MLPRegressor
    opts = cfg["anomalies"]
    result = StageResult()
    columns = list(ours.strings("anomalies/columns"))
    rows = standardised(matrix, names, columns, [feature_transform(c) for c in columns],
                        ours["anomalies/scaling_mean"][:], ours["anomalies/scaling_scale"][:])
    n = len(rows)
    hidden = tuple(opts["hidden"])
    seed = int(opts["seed"])

    def autoencoder(train_rows, epochs):
        model = MLPRegressor(hidden_layer_sizes=hidden, activation="relu", solver="adam",
                             batch_size=opts["batch_size"], learning_rate_init=opts["learning_rate"], alpha=0.0,
                             max_iter=epochs, shuffle=True, random_state=seed, tol=0.0, n_iter_no_change=10**9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "maximum iterations reached": the epoch count is the plan
            model.fit(train_rows, train_rows)
        return model

    def reconstruction_error(model):
        return ((model.predict(rows) - rows) ** 2).mean(axis=1)

    with Stopwatch() as sw:
        forest = IsolationForest(n_estimators=opts["trees"], max_samples=min(FOREST_SAMPLE, n), random_state=seed,
                                 n_jobs=threads).fit(rows)
        forest_score = -forest.score_samples(rows)  # sklearn: lower = more abnormal; ours: higher
        rng = np.random.default_rng(seed)
        sample = rows
        if opts["max_train_rows"] > 0 and n > opts["max_train_rows"]:
            sample = rows[np.sort(rng.choice(n, opts["max_train_rows"], replace=False))]
        # Ours' robust training: short trainings drop the journeys they reconstruct worst.
        train_rows = sample
        for _ in range(TRIM_ROUNDS):
            probe = autoencoder(train_rows, TRIM_EPOCHS)
            probe_scores = ((probe.predict(sample) - sample) ** 2).mean(axis=1)
            train_rows = sample[probe_scores <= robust_limit(probe_scores, TRIM_K)]
        model = autoencoder(train_rows, opts["epochs"])
        score = reconstruction_error(model)
    result.seconds = sw.seconds

    ours_score = ours["anomalies/score"][:]
    k = int(ours["anomalies"].attrs["flagged_count"]) or 20
    top_ours = set(np.argsort(-ours_score, kind="stable")[:k].tolist())
    top_peer = set(np.argsort(-score, kind="stable")[:k].tolist())
    overlap = len(top_ours & top_peer) / k
    flagged = int((score > anomaly_threshold(score, opts)).sum())
    result.info = {"autoencoder_top_k": k, "autoencoder_top_k_overlap": overlap,
                   "autoencoder_spearman": float(spearmanr(ours_score, score).statistic),
                   "autoencoder_train_rows": len(train_rows), "autoencoder_flagged": flagged,
                   "autoencoder_flagged_ours": int(ours["anomalies"].attrs["flagged_count"])}
    checks = [Check("autoencoder top-k overlap", "info",
                    f"{overlap:.2f} of the top {k} (Spearman {result.info['autoencoder_spearman']:.3f}); "
                    f"flagged by ours' {opts['threshold']} rule: peer {flagged}, ours {k}", False)]
    if ours.has("anomalies/comparison/forest_score"):
        ours_forest = ours["anomalies/comparison/forest_score"][:]
        rho = float(spearmanr(ours_forest, forest_score).statistic)
        top_forest = len(set(np.argsort(-ours_forest, kind="stable")[:k].tolist()) &
                         set(np.argsort(-forest_score, kind="stable")[:k].tolist())) / k
        result.info.update({"forest_spearman": rho, "forest_top_k_overlap": top_forest})
        checks.append(Check("isolation forest Spearman", "info",
                            f"{rho:.3f} (top-{k} overlap {top_forest:.2f})", must_agree=False))
    return result, checks


# ---------------------------------------------------------------------------------------- report

def fmt_seconds(x):
    return "-" if x is None else f"{x:.2f}"


def model_note(cfg):
    prefix = cfg["model"]["prefix_max_events"]
    if prefix > 0:
        return f"xgboost hist on our matrix; ours also trains on prefixes k = 1..{prefix} (no peer equivalent)"
    return NOTES["model"]


def build_table(ours, results, checks_by_stage, model_note_text):
    notes = dict(NOTES, model=model_note_text)
    rows = []
    for stage in TABLE_ROWS:
        ours_s = ours.stage_seconds.get(stage)
        r = results.get(stage)
        peer_s = r.seconds if r else None
        ratio = peer_s / ours_s if peer_s is not None and ours_s else None
        stage_checks = checks_by_stage.get(stage, [])
        must = [c for c in stage_checks if c.must_agree]
        if r and r.skipped:
            check = "skipped"
        elif must:
            check = "FAIL" if any(c.failed() for c in must) else "pass"
        elif stage_checks:
            check = "info"
        else:
            check = "-"
        rows.append({"stage": stage, "ours_s": ours_s, "peer_s": peer_s, "ratio": ratio, "check": check,
                     "note": (r.skipped if r and r.skipped else notes[stage])})
    return rows


def print_table(rows, ours_wall, n_journeys, n_events, threads):
    print(f"\npeer pipeline, {n_journeys} journeys, {n_events} events, {threads} threads each side")
    header = f"{'stage':<12}{'ours CPU s':>11}{'peer s':>10}{'peer/ours':>11}  {'check':<8} note"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x"
        print(f"{r['stage']:<12}{fmt_seconds(r['ours_s']):>11}{fmt_seconds(r['peer_s']):>10}{ratio:>11}  "
              f"{r['check']:<8} {r['note']}")
    ours_total = sum(r["ours_s"] or 0.0 for r in rows)
    peer_total = sum(r["peer_s"] or 0.0 for r in rows)
    # The ratio of totals compares the stages both sides ran.
    both = [r for r in rows if r["ours_s"] and r["peer_s"] is not None]
    ours_both = sum(r["ours_s"] for r in both)
    peer_both = sum(r["peer_s"] for r in both)
    print("-" * len(header))
    print(f"{'total':<12}{ours_total:>11.2f}{peer_total:>10.2f}{'':>11}  every stage each side ran")
    if ours_both:
        print(f"{'both ran':<12}{ours_both:>11.2f}{peer_both:>10.2f}{peer_both / ours_both:>10.1f}x  "
              f"stages with a peer")
    if ours_wall is not None:
        print(f"ours wall (process, incl. commit): {ours_wall:.2f} s")
    return {"ours_total_s": ours_total, "peer_total_s": peer_total, "ours_with_peer_s": ours_both,
            "peer_with_peer_s": peer_both, "ours_wall_s": ours_wall}


def run_peer_stages(args, con, ours, cfg, csv):
    """Every peer stage in pipeline order, each followed by its checks. Returns (results, checks)."""
    skip = set(args.skip)
    if "ingest" in skip:
        skip |= {"journeys"}
    outcome = outcome_options(cfg)
    unsupported = outcome["label_file"] or outcome["window_days"] > 0
    if unsupported:
        skip |= {"journeys"}
    if "journeys" in skip:
        skip |= NEEDS_JOURNEYS
    results, checks = {}, {}

    def wanted(stage, ours_dataset=None, needs_matrix=False):
        """False (and the reason recorded) when the stage is skipped or ours has nothing to compare."""
        if stage in skip:
            if stage in args.skip:
                why = "--skip"
            elif stage == "journeys" and unsupported and "ingest" not in skip:
                why = "the peer mirrors no [outcome] label_file or window_days"
            else:
                why = "needs " + ("ingest" if stage == "journeys" else "journeys")
            results[stage] = StageResult(skipped=f"skipped ({why})")
        elif ours_dataset and not ours.has(ours_dataset):
            results[stage] = StageResult(skipped=f"ours has no /{ours_dataset} (stage off)")
        elif needs_matrix and matrix is None:
            results[stage] = StageResult(skipped="ours stored no /features/matrix ([features] store_matrix)")
        else:
            print(f"peer: {stage}", flush=True)
            return True
        return False

    # Segments, model and anomalies run on OUR feature matrix (read once, untimed).
    matrix, names = None, []
    if ours.has("features/matrix"):
        names = list(ours.strings("features/names"))
        matrix = ours["features/matrix"][:]

    aligned = False
    if wanted("ingest"):
        results["ingest"] = peer_ingest(con, csv, cfg)
    if wanted("journeys"):
        results["journeys"], peer = peer_journeys(con, cfg)
        checks["journeys"], aligned = check_journeys(ours, peer, results["journeys"].info)
    if wanted("patterns", "patterns/support"):
        results["patterns"], found = peer_patterns(peer, cfg)
        if found is not None:
            checks["patterns"] = check_patterns(ours, peer, found, results["patterns"].info["min_support_count"])
    if wanted("features"):
        results["features"], table = peer_features(con, cfg)
        if aligned and matrix is not None:
            checks["features"] = [compare_features(matrix, names, table)]
        del table
    if wanted("segments", "segments/label", needs_matrix=True):
        results["segments"], checks["segments"] = peer_segments(ours, matrix, names, cfg, args.threads)
    if wanted("flows", "flows/transitions/count"):
        results["flows"], transitions = peer_flows(con, cfg)
        checks["flows"] = check_flows(con, ours, transitions, results["flows"].info)
    if wanted("model", "model/holdout/journey", needs_matrix=True):
        results["model"], checks["model"] = peer_model(ours, matrix, names, cfg, args.threads)
    if wanted("anomalies", "anomalies/score", needs_matrix=True):
        results["anomalies"], checks["anomalies"] = peer_anomalies(ours, matrix, names, cfg, args.threads)
    return results, checks


def main():
    args = parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.ours_h5 and not args.journeymap.exists():
        sys.exit(f"{args.journeymap} not found: build first (scripts/build.sh) or pass --journeymap")
    config = args.config
    if config is None:
        config = args.work / "peers.toml"
        config.write_text(DEFAULT_CONFIG)
    csv = prepare_data(args)
    # Both sides run OpenMP/BLAS thread teams: other load on the machine skews them (XGBoost most).
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * args.threads:
        print(f"warning: load average {load_before[0]:.1f} on {os.cpu_count()} cores; timings will be skewed",
              flush=True)
    ours_path, ours_wall = run_ours(args, csv, config)
    ours = Ours(ours_path)
    cfg = ours.config  # the effective configuration of our run: both sides follow it

    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET TimeZone = 'UTC'")
    results, checks = run_peer_stages(args, con, ours, cfg, csv)

    rows = build_table(ours, results, checks, model_note(cfg))
    attrs = ours["journeys"].attrs
    totals = print_table(rows, ours_wall, int(attrs["n_journeys"]), int(attrs["n_events"]), args.threads)
    print("\nchecks:")
    for stage in STAGES:
        for c in checks.get(stage, []):
            label = c.status.upper() if c.must_agree else "info"
            print(f"  {stage:<10} {label:<7} {c.name}: {c.detail}")

    failed = [f"{stage}: {c.name}" for stage in STAGES for c in checks.get(stage, []) if c.failed()]
    report = {
        "input": str(csv), "config": str(config), "ours_result": str(ours_path), "threads": args.threads,
        "journeymap": str(args.journeymap), "backend": ours.backend, "n_journeys": int(attrs["n_journeys"]),
        "n_events": int(attrs["n_events"]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg(), "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")},
        "versions": versions(), "table": rows, "totals": totals, "ours_stage_seconds": ours.stage_seconds,
        "stages": {s: {"seconds": r.seconds, "skipped": r.skipped, "info": r.info} for s, r in results.items()},
        "checks": {s: [dataclasses.asdict(c) for c in cs] for s, cs in checks.items()},
        "failed": failed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"\nwrote {args.out}")
    if failed:
        print("MUST-AGREE CHECKS FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
