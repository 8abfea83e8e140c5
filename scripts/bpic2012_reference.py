#!/usr/bin/env python3
"""Outcome prediction on BPI Challenge 2012: the Teinemaa et al. (ACM TKDD 2019) protocol.

Reference implementation (pandas + xgboost, CPU) of the tasks bpic2012_accepted / _declined /
_cancelled of the benchmark code irhete/predictive-monitoring-benchmark, method "single_agg"
(one classifier for all prefixes, aggregation encoding), classifier XGBoost. Independent check
for our engine's numbers; it imports nothing from the project.

Protocol as in the benchmark code (file names below are in that repository):
- preprocessing/preprocess_logs_bpic2012.py
  * Activity = concept:name + "-" + lifecycle:transition (36 classes); SCHEDULE/START/COMPLETE
    events are all kept.
  * Resource forward-filled within the case (time order), still missing -> "missing".
  * label: the case's last O_* event (time order) must be O_ACCEPTED / O_CANCELLED / O_DECLINED
    (-COMPLETE); other cases (last O_ event O_SENT / O_SENT_BACK, or no O_ event) are dropped.
    Positive class = that last O_ event; one labelled copy of the log per outcome.
  * traces are NOT cut: prefixes may contain the outcome events.
  * features: static num AMOUNT_REQ (trace attribute); dynamic cat Activity, Resource
    (experiments/dataset_confs.py); dynamic num hour, weekday, month, timesincemidnight (min),
    timesincelastevent (min), timesincecasestart (min), event_nr, open_cases (number of cases
    of the whole log with start <= t < end, computed before the case filter).
  * categorical levels with < 10 events in the labelled log -> "other".
- experiments/DatasetManager.py (split_data_strict, generate_prefix_data)
  * events sorted by (timestamp, Activity); cases ordered by first timestamp; first
    int(0.8 * n) cases train, rest test; train events at or after the first test event are
    dropped (train cases truncated, label kept).
  * prefixes k = min_len..max_len, a case contributes to k only if it has >= k events
    (train: after truncation). min_len 1, max_len = min(40, ceil(q90 of positive case length)).
- transformers/StaticTransformer.py + AggregateTransformer.py: static = AMOUNT_REQ of the
  first event; agg = per-level event counts of Activity and Resource, and mean/max/min/sum/std
  (pandas std, ddof 1, NaN -> 0) of each dynamic numeric column over the prefix.
- experiments/experiments.py: AUC per prefix length, and pooled AUC over all test prefixes
  (the "nr_events = -1" row); also printed here: mean of per-k AUCs weighted by #prefixes.

Variants:
  published  - the protocol above.
  leakfree   - each case cut before its first O_ACCEPTED / O_CANCELLED / O_DECLINED event,
               dropping also every event with timestamp >= (that event's time - 1 s); the label
               is still the outcome of the full case; the split and everything else unchanged.

Differences from the original, all deliberate: timestamps are ordered/differenced in UTC and
calendar features (hour, weekday, month, timesincemidnight) use the local wall clock of the log;
ties are broken by the log's own order (the original used pandas' default sort); fixed XGBoost
hyper-parameters instead of the per-task hyperopt search (see --help), max_len fixed by
--max-len (default 40, which is what the rule gives for all three published tasks).

usage: bpic2012_reference.py [--data DIR] [--tasks accepted,declined,cancelled]
                             [--variants published,leakfree] [--n-estimators 400] ...
"""
import argparse
import gzip
import json
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

OUTCOMES = {"accepted": "O_ACCEPTED-COMPLETE",
            "declined": "O_DECLINED-COMPLETE",
            "cancelled": "O_CANCELLED-COMPLETE"}
OUTCOME_NAMES = ("O_ACCEPTED", "O_CANCELLED", "O_DECLINED")
NUM_COLS = ["hour", "weekday", "month", "timesincemidnight", "timesincelastevent",
            "timesincecasestart", "event_nr", "open_cases"]
CAT_COLS = ["Activity", "Resource"]
FREQ_THRESHOLD = 10
TRAIN_RATIO = 0.8


def read_amount_req(xes_gz):
    amounts = {}
    with gzip.open(xes_gz, "rb") as f:
        for _, elem in ET.iterparse(f, events=("end",)):
            if elem.tag != "trace":
                continue
            cid = amt = None
            for child in elem:
                key = child.get("key")
                if key == "concept:name":
                    cid = child.get("value")
                elif key == "AMOUNT_REQ":
                    amt = child.get("value")
            amounts[cid] = float(amt) if amt is not None else np.nan
            elem.clear()
    return amounts


def load_log(data_dir):
    d = pd.read_csv(f"{data_dir}/events.csv", dtype=str, keep_default_na=False)
    d["pos"] = np.arange(len(d))
    d["ts"] = pd.to_datetime(d["timestamp"], utc=True, format="ISO8601")
    local = pd.to_datetime(d["timestamp"].str.slice(0, -6), format="ISO8601")
    d["Activity"] = d["activity"] + "-" + d["lifecycle"]
    d["Resource"] = d["resource"].replace("", np.nan)
    amounts = read_amount_req(f"{data_dir}/BPI_Challenge_2012.xes.gz")
    d["AMOUNT_REQ"] = d["case_id"].map(amounts)
    assert d["AMOUNT_REQ"].notna().all(), "AMOUNT_REQ missing for some case"

    # time order within each case, ties by log order (stable)
    d = d.sort_values(["case_id", "ts", "pos"], kind="mergesort")
    d["Resource"] = d.groupby("case_id")["Resource"].ffill().fillna("missing")
    d["timesincemidnight"] = (local.dt.hour * 60 + local.dt.minute).reindex(d.index)
    d["month"] = local.dt.month.reindex(d.index)
    d["weekday"] = local.dt.day_of_week.reindex(d.index)
    d["hour"] = local.dt.hour.reindex(d.index)
    g = d.groupby("case_id")["ts"]
    d["timesincelastevent"] = g.diff().dt.total_seconds().fillna(0) / 60.0
    d["timesincecasestart"] = (d["ts"] - g.transform("min")).dt.total_seconds() / 60.0
    d["event_nr"] = d.groupby("case_id").cumcount() + 1
    # open cases over the whole log (the original computes this before dropping cases)
    starts = np.sort(g.min().values.astype("datetime64[ns]").astype(np.int64))
    ends = np.sort(g.max().values.astype("datetime64[ns]").astype(np.int64))
    t = d["ts"].values.astype("datetime64[ns]").astype(np.int64)
    d["open_cases"] = (np.searchsorted(starts, t, side="right")
                       - np.searchsorted(ends, t, side="right"))
    for c in NUM_COLS:
        d[c] = d[c].astype(float)
    return d


def label_log(d):
    o = d[d["activity"].str.startswith("O")]
    last_o = o.groupby("case_id")["Activity"].last()  # d is in case/time order
    keep = last_o[last_o.isin(OUTCOMES.values())]
    lab = d[d["case_id"].isin(keep.index)].copy()
    lab["last_o"] = lab["case_id"].map(keep)
    for col in CAT_COLS:
        counts = lab[col].value_counts()
        lab.loc[~lab[col].isin(counts[counts >= FREQ_THRESHOLD].index), col] = "other"
    return lab


def cut_before_outcome(lab):
    is_out = lab["activity"].isin(OUTCOME_NAMES)
    first_out = lab[is_out].groupby("case_id")["ts"].min()
    limit = lab["case_id"].map(first_out) - pd.Timedelta(seconds=1)
    return lab[lab["ts"] < limit].copy()


def split_strict(data):
    data = data.sort_values(["ts", "Activity", "pos"], kind="mergesort")
    starts = data.groupby("case_id")["ts"].min().sort_values(kind="mergesort")
    n_train = int(TRAIN_RATIO * len(starts))
    train_ids = set(starts.index[:n_train])
    in_train = data["case_id"].isin(train_ids)
    train, test = data[in_train], data[~in_train]
    split_ts = test["ts"].min()
    return train[train["ts"] < split_ts], test, n_train, len(starts) - n_train


def encode_prefixes(data, act_levels, res_levels, max_len):
    """One row per (case, k), k = 1..min(len, max_len): static + agg encoding of the first k
    events (order: timestamp, Activity)."""
    data = data.sort_values(["case_id", "ts", "Activity", "pos"], kind="mergesort")
    k = data.groupby("case_id").cumcount().values + 1
    keep = k <= max_len
    cid = data["case_id"].values
    g = data.groupby("case_id", sort=False)
    feats = {"AMOUNT_REQ": g["AMOUNT_REQ"].transform("first").values}
    for col, levels in (("Activity", act_levels), ("Resource", res_levels)):
        vals = data[col].values
        for lev in levels:
            onehot = pd.Series((vals == lev).astype(np.float64), index=data.index)
            feats[f"{col}_{lev}"] = onehot.groupby(cid).cumsum().values
    for col in NUM_COLS:
        x = data[col].astype(float)
        x0 = x - g[col].transform("first")  # shift-invariant std, less cancellation
        s = x.groupby(cid).cumsum().values
        s0 = x0.groupby(cid).cumsum().values
        ss0 = (x0 * x0).groupby(cid).cumsum().values
        var = np.where(k > 1, (ss0 - s0 * s0 / k) / np.maximum(k - 1, 1), 0.0)
        feats[f"{col}_mean"] = s / k
        feats[f"{col}_max"] = x.groupby(cid).cummax().values
        feats[f"{col}_min"] = x.groupby(cid).cummin().values
        feats[f"{col}_sum"] = s
        feats[f"{col}_std"] = np.sqrt(np.clip(var, 0.0, None))
    X = pd.DataFrame(feats)[keep].reset_index(drop=True)
    meta = pd.DataFrame({"case_id": cid[keep], "k": k[keep],
                         "last_o": data["last_o"].values[keep]})
    return X, meta


def auc_or_nan(y, p):
    return roc_auc_score(y, p) if len(np.unique(y)) == 2 else float("nan")


def run_task(lab, task, variant, args):
    data = cut_before_outcome(lab) if variant == "leakfree" else lab
    pos_label = OUTCOMES[task]
    case_last = data.groupby("case_id")["last_o"].first()
    case_len = data.groupby("case_id").size()
    pos_len = case_len[case_last == pos_label]
    rule_max = int(min(40, np.ceil(pos_len.quantile(0.90))))
    max_len = args.max_len if args.max_len > 0 else rule_max

    train, test, n_train_cases, n_test_cases = split_strict(data)
    act_levels = sorted(train["Activity"].unique())
    res_levels = sorted(train["Resource"].unique())
    Xtr, mtr = encode_prefixes(train, act_levels, res_levels, max_len)
    Xte, mte = encode_prefixes(test, act_levels, res_levels, max_len)
    ytr = (mtr["last_o"] == pos_label).astype(int).values
    yte = (mte["last_o"] == pos_label).astype(int).values

    t0 = time.time()
    cls = xgb.XGBClassifier(objective="binary:logistic", n_estimators=args.n_estimators,
                            max_depth=args.max_depth, learning_rate=args.learning_rate,
                            subsample=args.subsample, colsample_bytree=args.colsample_bytree,
                            min_child_weight=args.min_child_weight, tree_method="hist",
                            n_jobs=args.nthread, random_state=22)
    cls.fit(Xtr.values, ytr)
    fit_s = time.time() - t0
    p = cls.predict_proba(Xte.values)[:, 1]

    per_k = []
    for kk in range(1, max_len + 1):
        m = mte["k"].values == kk
        per_k.append({"k": kk, "n": int(m.sum()), "pos_rate": float(yte[m].mean()) if m.any() else None,
                      "auc": auc_or_nan(yte[m], p[m]) if m.any() else float("nan")})
    pk = pd.DataFrame(per_k)
    ok = pk["auc"].notna()
    weighted = float((pk.loc[ok, "auc"] * pk.loc[ok, "n"]).sum() / pk.loc[ok, "n"].sum())
    n_cases = len(case_last)
    res = {
        "task": task, "variant": variant,
        "cases": n_cases, "events": int(len(data)),
        "pos_rate_cases": float((case_last == pos_label).mean()),
        "case_len_min_med_max": [int(case_len.min()), float(case_len.median()), int(case_len.max())],
        "max_len_rule": rule_max, "max_len_used": max_len,
        "train_cases": n_train_cases, "test_cases": n_test_cases,
        "train_prefixes": int(len(ytr)), "test_prefixes": int(len(yte)),
        "n_features": int(Xtr.shape[1]), "fit_seconds": round(fit_s, 1),
        "pooled_auc": float(roc_auc_score(yte, p)), "weighted_mean_auc": weighted,
        "per_k": per_k,
    }
    return res


def print_result(r):
    print(f"\n=== bpic2012_{r['task']}  [{r['variant']}] ===")
    print(f"cases {r['cases']}  events {r['events']}  positive rate {r['pos_rate_cases']:.4f}  "
          f"case length min/med/max {r['case_len_min_med_max']}")
    print(f"train/test cases {r['train_cases']}/{r['test_cases']}  prefixes {r['train_prefixes']}/"
          f"{r['test_prefixes']}  features {r['n_features']}  max_len rule {r['max_len_rule']} "
          f"used {r['max_len_used']}  fit {r['fit_seconds']} s")
    print(f"pooled AUC {r['pooled_auc']:.4f}   per-k AUC weighted by n {r['weighted_mean_auc']:.4f}")
    print("  k     n  pos%    AUC")
    for row in r["per_k"]:
        auc = "   nan" if np.isnan(row["auc"]) else f"{row['auc']:.4f}"
        pr = "  -  " if row["pos_rate"] is None else f"{100 * row['pos_rate']:5.1f}"
        print(f"{row['k']:3d} {row['n']:5d} {pr} {auc}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/shared/data/bpic2012")
    ap.add_argument("--tasks", default="accepted,declined,cancelled")
    ap.add_argument("--variants", default="published,leakfree")
    ap.add_argument("--max-len", type=int, default=40, help="0 = the protocol's rule")
    ap.add_argument("--n-estimators", type=int, default=400)
    ap.add_argument("--max-depth", type=int, default=6)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    ap.add_argument("--subsample", type=float, default=0.8)
    ap.add_argument("--colsample-bytree", type=float, default=0.8)
    ap.add_argument("--min-child-weight", type=float, default=1)
    ap.add_argument("--nthread", type=int, default=2)
    ap.add_argument("--json", help="also write all results to this JSON file")
    args = ap.parse_args()

    t0 = time.time()
    d = load_log(args.data)
    lab = label_log(d)
    print(f"log: {d['case_id'].nunique()} cases, {len(d)} events; labelled: "
          f"{lab['case_id'].nunique()} cases, {len(lab)} events "
          f"({time.time() - t0:.1f} s)")
    print(f"xgboost: n_estimators={args.n_estimators} max_depth={args.max_depth} "
          f"learning_rate={args.learning_rate} subsample={args.subsample} "
          f"colsample_bytree={args.colsample_bytree} min_child_weight={args.min_child_weight} "
          f"tree_method=hist nthread={args.nthread} seed=22")
    results = []
    for variant in args.variants.split(","):
        for task in args.tasks.split(","):
            r = run_task(lab, task, variant, args)
            print_result(r)
            results.append(r)
    print("\nsummary: task variant cases pos_rate pooled_auc weighted_auc")
    for r in results:
        print(f"  {r['task']:9s} {r['variant']:9s} {r['cases']} {r['pos_rate_cases']:.4f} "
              f"{r['pooled_auc']:.4f} {r['weighted_mean_auc']:.4f}")
    print(f"total {time.time() - t0:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
