"""End-to-end report test: generate -> run -> flows -> report, then render in headless Chromium.

Fails on any script error in the page, on charts that never finish drawing, on a chart library
fetched from the network, and when key numbers of the HDF5 result (recomputed here from the raw
arrays) are missing from the rendered text. Saves report.html and report.png in --out.
"""
import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n")
        raise SystemExit(f"FAILED ({done.returncode}): {' '.join(cmd)}")
    return done


def chromium(args, out_dir, timeout=120):
    profile = os.path.join(out_dir, "chromium-profile")
    base = ["chromium", "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--virtual-time-budget=20000",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


def rendered_dom(page, out_dir):
    """The page as Chromium renders it, after checking that no script failed and every chart drew."""
    dom = chromium(["--dump-dom", "file://" + page], out_dir).stdout
    assert 'data-jm-errors="' not in dom, f"script errors in {page}"
    want = re.search(r'data-jm-expected="(\d+)"', dom).group(1)
    assert f'data-jm-rendered="{want}"' in dom, f"charts did not all render in {page}"
    return dom


def section_html(dom, section_id):
    """The inside of <section id=...>, or None when the report leaves the section out."""
    found = re.search(rf'<section id="{section_id}">(.*?)</section>', dom, re.S)
    return found.group(1) if found else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--journeymap", required=True)
    p.add_argument("--flows-tool", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if shutil.which("chromium") is None:
        print("SKIP: chromium is not installed")
        return 77
    out = os.path.abspath(a.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    events, result, page, shot = (os.path.join(out, n) for n in ("events.csv", "result.h5", "report.html", "report.png"))

    run([a.journeymap, "generate", "--journeys", "4000", "--seed", "20260105", "--out", events, "--threads", "2"])
    # The generator's checkout spike is on day 60 (2026-03-06): compare it with the week before.
    run([a.journeymap, "run", "--input", events, "--out", result, "--session-gap", "172800", "--device", "cpu",
         "--threads", "2", "--quiet", "--compare-a", "2026-03-06..2026-03-07", "--compare-b", "2026-02-27..2026-03-06"])
    # A result without /flows and /attribution (`run` writes them; a copy drops them): the report
    # leaves those sections out and still renders.
    bare_result = os.path.join(out, "result_without_flows.h5")
    shutil.copyfile(result, bare_result)
    with h5py.File(bare_result, "a") as f:
        for group in ("flows", "attribution"):
            del f[group]
    bare_page = os.path.join(out, "report_without_flows.html")
    run([a.flows_tool, "report", bare_result, "-o", bare_page])
    run([a.flows_tool, "flows", result, "--device", "cpu", "--threads", "2"])
    run([a.flows_tool, "report", result, "-o", page])

    text = open(page, encoding="utf-8").read()
    # Self-contained: no external script or stylesheet (plotly.js is embedded). Chromium also runs
    # with an unreachable proxy below, so the charts can only render from what the file holds.
    assert not re.search(r"<script[^>]+src=", text), "the report loads an external script"
    assert not re.search(r"<link[^>]+href=", text), "the report loads an external stylesheet"

    dom = chromium(["--dump-dom", "file://" + page], out)
    if dom.returncode != 0:
        print(dom.stderr[-4000:])
        raise SystemExit("chromium --dump-dom failed")
    html = dom.stdout
    open(os.path.join(out, "report.dom.html"), "w", encoding="utf-8").write(html)
    errors = re.search(r'data-jm-errors="([^"]*)"', html)
    assert errors is None, f"script errors in the page: {errors.group(1) if errors else ''}"
    expected = int(re.search(r'data-jm-expected="(\d+)"', html).group(1))
    rendered = re.search(r'data-jm-rendered="(\d+)"', html)
    assert expected >= 8, f"expected at least 8 charts, the page declares {expected}"
    assert rendered is not None and int(rendered.group(1)) == expected, \
        f"charts did not all render ({rendered.group(1) if rendered else 'none'} of {expected})"
    assert html.count("main-svg") >= expected, "plotly did not draw every chart"
    # Every chart carries its title, and every section in the navigation is on the page.
    titles = html.count('class="gtitle"')
    assert titles == expected, f"{titles} chart titles drawn for {expected} charts"
    for anchor in re.findall(r'<nav>(.*?)</nav>', html, re.S)[0].split('href="#')[1:]:
        anchor = anchor.split('"')[0]
        assert f'<section id="{anchor}">' in html, f"section #{anchor} is in the navigation but not on the page"

    # Key numbers, recomputed from the raw arrays, must appear in the rendered text.
    with h5py.File(result, "r") as f:
        for group in ("flows", "attribution"):
            assert group in f, f"/{group} missing from the result"
        converted = f["journeys/converted"][()].astype(np.int64)
        n, conversions = len(converted), int(converted.sum())
        funnel_first = int(f["flows/funnel/reached"][0])
        names = [s for s in f["attribution/channel/names"].asstr()[()]]
        markov = f["attribution/channel/markov"][()]
        attributed = int(f["attribution"].attrs["conversions_attributed"])
        top_channel = names[int(np.argmax(markov))]
        top_share = markov.max() / attributed
        # The alert the report must lead with: the one that cost most conversions, else the largest |z|.
        alert_list = f["alerts/list"]
        alert_texts = ["No alerts were raised"]
        if len(alert_list["metric"]):
            metric = alert_list["metric"].asstr()[()]
            unit = alert_list["impact_unit"].asstr()[()]
            impact, z = alert_list["impact"][()], alert_list["z"][()]
            lost = np.where((unit == "conversions") & (impact > 0), impact, 0.0)
            top = max(range(len(metric)), key=lambda i: (lost[i], abs(z[i])))
            day = dt.datetime.fromtimestamp(int(alert_list["bucket_start_ms"][top]) / 1000, dt.timezone.utc).date()
            label = {"journeys": "Journeys started", "conversion_rate": "Conversion rate",
                     "median_length": "Median journey length"}.get(metric[top], metric[top])
            label = label.replace("dropoff:", "Drop-off at ").replace("volume:", "Events at ")
            alert_texts = [f"Biggest alert: {label} on {day} was ", f"{len(metric)} alert"]
        compare = f["compare"]
        a_rate, b_rate = compare["a_rate"][0], compare["b_rate"][0]
        alert_texts += [f"Period A: journeys starting on 2026-03-06 ({int(compare.attrs['a_journeys']):,})",
                        f"Journeys of period A convert at {100 * a_rate:.1f}%, those of B at {100 * b_rate:.1f}%"]
    expected_texts = [f"{n:,} journeys", f"{conversions:,} of them converted",
                      f"({100.0 * conversions / n:.1f}%)", f"{funnel_first:,} journeys",
                      f"the Markov model credits {top_channel} with {100.0 * top_share:.1f}% of conversions"]
    expected_texts += alert_texts
    for needle in expected_texts:
        assert needle in html, f"missing from the rendered report: {needle!r}"
    for title in ("How journeys flow", "Funnel and drop-off", "Friction heatmap", "attribution compared"):
        assert title in html, f"section missing: {title}"

    # Sections of later stages: a copy of the result with small groups in the layouts the report
    # reads (/segments, /model, /anomalies, /alerts) must render them without script errors.
    staged = os.path.join(out, "result_all_stages.h5")
    shutil.copyfile(result, staged)
    with h5py.File(staged, "a") as f:
        # `run` already wrote real /segments and /patterns (rendered in report.html above); they
        # are replaced here by small hand-made ones of the same layout.
        for group in ("segments", "patterns", "model", "anomalies", "alerts"):
            if group in f:
                del f[group]
        n = len(f["journeys/converted"])
        rng = np.random.default_rng(1)
        # Layouts of host/segments (label + profile/*) and host/patterns (CSR + ranked lists).
        labels = (np.arange(n) % 3).astype(np.int32)
        conv = f["journeys/converted"][()]
        f["segments/label"] = labels
        f["segments/profile/label"] = np.array([b"researchers", b"impulse buyers", b"churners"], dtype=object)
        f["segments/profile/size"] = np.bincount(labels).astype(np.int64)
        f["segments/profile/conversion_rate"] = np.bincount(labels, weights=conv) / np.bincount(labels)
        f["patterns/offsets"] = np.array([0, 3, 5], dtype=np.int64)
        # Pattern 0: the first three touchpoints of the first journey with three events or more.
        offsets, touchpoints = f["journeys/offsets"][()], f["journeys/touchpoint"][()]
        first_long = int(np.nonzero(np.diff(offsets) >= 3)[0][0])
        pattern0 = touchpoints[offsets[first_long]:offsets[first_long] + 3].tolist()
        f["patterns/items"] = np.array(pattern0 + [7, 10], dtype=np.int32)
        f["patterns/support"] = np.array([700, 170], dtype=np.int64)
        f["patterns/conversion_rate"] = np.array([0.74, 0.06])
        f["patterns/top_conversion/pattern"] = np.array([0], dtype=np.int64)
        f["patterns/top_abandonment/pattern"] = np.array([1], dtype=np.int64)
        f["patterns"].attrs["base_conversion_rate"] = 0.247
        # Drill-down: the first journey that holds pattern 0 as a subsequence and the first journey of
        # segment "churners" must be shown with their customers.
        customers = f["vocab/customers"].asstr()[()]

        def holds(j, pattern):
            steps = iter(touchpoints[offsets[j]:offsets[j + 1]].tolist())
            return all(item in steps for item in pattern)

        first_holder = next(j for j in range(n) if holds(j, pattern0))
        pattern_example = customers[f["journeys/customer"][first_holder]] + ": "
        segment_example = customers[f["journeys/customer"][int(np.nonzero(labels == 2)[0][0])]] + ": "
    with h5py.File(staged, "a") as f:  # layouts of host/model and host/anomalies
        f["model/metrics/name"] = np.array([b"roc_auc", b"log_loss"], dtype=object)
        f["model/metrics/model"] = np.array([0.871, 0.41])
        f["model/metrics/baseline"] = np.array([0.64, 0.55])
        f["model/importance/feature"] = np.array([b"length", b"has_checkout", b"hour"], dtype=object)
        f["model/importance/gain"] = np.array([0.2, 0.7, 0.1])
        f["model/prefix/k"] = np.arange(1, 6, dtype=np.int64)
        f["model/prefix/model"] = np.array([0.61, 0.7, 0.78, 0.83, 0.86])
        f["model/prefix/baseline"] = np.array([0.55, 0.58, 0.6, 0.62, 0.64])
        f["model/prefix"].attrs["metric"] = "roc_auc"
        flagged = np.zeros(n, dtype=np.uint8)
        flagged[rng.choice(n, 25, replace=False)] = 1
        f["anomalies/flagged"] = flagged
        start = int(f["journeys/start_ms"][()].min()) // 86400000 * 86400000
        # Layout of host/anomalies' metric alerts (docs/hdf5-schema.md): two series, one alert each.
        f["alerts/bucket_start_ms"] = start + 86400000 * np.arange(10, dtype=np.int64)
        f["alerts/partial"] = np.array([0] * 9 + [1], dtype=np.uint8)
        f["alerts/metrics"] = np.array([b"conversion_rate", b"journeys"], dtype=object)
        f["alerts/metric_kind"] = np.array([1, 0], dtype=np.int32)
        f["alerts/observed"] = np.vstack([0.2 + 0.05 * rng.random(10), 400 + 20 * rng.random(10)]).astype(np.float32)
        f["alerts/expected"] = np.array([[0.22] * 10, [410.0] * 10], dtype=np.float32)
        f["alerts/lower"] = np.array([[0.18] * 10, [350.0] * 10], dtype=np.float32)
        f["alerts/upper"] = np.array([[0.26] * 10, [470.0] * 10], dtype=np.float32)
        f["alerts"].attrs["mean_conversion_value"] = 50.0
        f["alerts/list/bucket"] = np.array([6, 3], dtype=np.int64)
        f["alerts/list/bucket_start_ms"] = start + 86400000 * np.array([6, 3], dtype=np.int64)
        f["alerts/list/metric"] = np.array([b"journeys", b"conversion_rate"], dtype=object)
        f["alerts/list/direction"] = np.array([b"down", b"down"], dtype=object)
        f["alerts/list/impact_unit"] = np.array([b"journeys", b"conversions"], dtype=object)
        f["alerts/list/observed"] = np.array([120.0, 0.05])
        f["alerts/list/expected"] = np.array([410.0, 0.22])
        f["alerts/list/lower"] = np.array([350.0, 0.18])
        f["alerts/list/upper"] = np.array([470.0, 0.26])
        f["alerts/list/z"] = np.array([-9.1, -6.2])
        f["alerts/list/impact"] = np.array([-290.0, 68.0])
        staged_alert_day = str(dt.datetime.fromtimestamp((start + 86400000 * 3) / 1000, dt.timezone.utc).date())
    # `flows` on a file with other stages: they are carried over, and segment labels feed the funnel.
    restaged = os.path.join(out, "result_all_stages_flows.h5")
    run([a.flows_tool, "flows", staged, "-o", restaged, "--device", "cpu"])
    with h5py.File(restaged, "r") as f:
        for group in ("segments/label", "patterns/items", "model/importance/gain", "anomalies/flagged", "alerts/list/z", "flows", "attribution"):
            assert group in f, f"/{group} lost by the flows command"
        by_segment = f["flows/funnel/reached_by_segment"]
        assert int(by_segment.attrs["rows"]) == 3
        assert by_segment[()].reshape(3, -1)[:, 0].sum() == f["flows/funnel/reached"][0]
    staged_page = os.path.join(out, "report_all_stages.html")
    run([a.flows_tool, "report", restaged, "-o", staged_page])
    for extra_page, needles in ((bare_page, ["Headline numbers"]),
                                (staged_page, ["impulse buyers", "AUC 0.871", "has_checkout",
                                               "convert at 74.0%, 3.0x the average",
                                               "25 journeys are flagged",
                                               "The strongest signal is has_checkout (70.0% of the gain; next "
                                               "journey length (events), 20.0%).",
                                               # the alert that cost conversions leads, though its |z| is smaller
                                               f"Biggest alert: Conversion rate on {staged_alert_day} was 5.0% "
                                               "against 22.0% expected (normal range 18.0% to 26.0%): about 68 "
                                               "conversions lost, worth about 3,400 in conversion value.",
                                               "2 alerts in all, on 2 metrics and 2 days",
                                               "Conversion rate: 1 alert", "Journeys started: 1 alert",
                                               "Example journeys for each pattern above", pattern_example,
                                               "Example journeys of each segment", segment_example])):
        dom2 = rendered_dom(extra_page, out)
        for needle in needles:
            assert needle in dom2, f"missing from {extra_page}: {needle!r}"
    assert "How journeys flow" not in open(bare_page, encoding="utf-8").read()

    # A tiny log: no complete path reaches the floor of 20 journeys, so the paths section says so in
    # words and draws no empty chart or table.
    tiny_events, tiny_result, tiny_page = (os.path.join(out, n) for n in ("tiny.csv", "tiny.h5", "tiny.html"))
    run([a.journeymap, "generate", "--journeys", "30", "--seed", "5", "--out", tiny_events, "--threads", "2"])
    run([a.journeymap, "run", "--input", tiny_events, "--out", tiny_result, "--device", "cpu", "--threads", "2",
         "--quiet"])
    run([a.flows_tool, "report", tiny_result, "-o", tiny_page])
    paths_section = section_html(rendered_dom(tiny_page, out), "paths")
    with h5py.File(tiny_result, "r") as f:
        most_common = int(f["flows/variants/journeys"][()].max())
    assert most_common < 20, f"the tiny log's most common path has {most_common} journeys"
    assert (f"No complete path is followed by 20 journeys or more (the most common by {most_common})"
            in paths_section), "the paths section does not say why it ranks no path"
    assert "main-svg" not in paths_section and "<table" not in paths_section, \
        "the paths section draws an empty chart or table"

    # A log without a single conversion: no sentence compares conversion rates (they would read
    # "0.0% against 0.0%" or "nanx the average").
    flat_events, flat_result, flat_page = (os.path.join(out, n) for n in ("flat.csv", "flat.h5", "flat.html"))
    with open(tiny_events, encoding="utf-8") as src, open(flat_events, "w", encoding="utf-8") as dst:
        header = src.readline()
        dst.write(header)
        flag = header.strip().split(",").index("conversion")
        for line in src:
            fields = line.rstrip("\n").split(",")
            fields[flag] = "0"
            dst.write(",".join(fields) + "\n")
    run([a.journeymap, "run", "--input", flat_events, "--out", flat_result, "--device", "cpu", "--threads", "2",
         "--quiet"])
    run([a.flows_tool, "report", flat_result, "-o", flat_page])
    flat_dom = rendered_dom(flat_page, out)
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", flat_dom, flags=re.S))
    assert not re.search(r"\b(nan|inf)x?\b", visible, re.I), "a NaN or infinity in the text of the report"
    # Patterns, proposals and attribution say in words why they rank nothing, instead of a raw dump,
    # a table of experiments worth 0.0 conversions a day or empty charts.
    for section_id, needle in (("patterns", "no pattern can lead to one"),
                               ("proposals", "No experiment is proposed"),
                               ("attribution", "No conversion was attributed"),
                               ("friction", "the heatmaps show where journeys end, not friction")):
        found = section_html(flat_dom, section_id)
        if found is not None:
            assert needle in found, f"the {section_id} section of a log without conversions: {needle!r} missing"
    flow_section = section_html(flat_dom, "sankey")
    if flow_section is not None:
        flow_text = re.sub(r"<[^>]+>", " ", flow_section)
        assert "best converting node" not in flow_text and "against 0.0% overall" not in flow_text, \
            "the flow section compares conversion rates of a log without conversions"

    shot_run = chromium([f"--screenshot={shot}", "--window-size=1400,5200", "file://" + page], out)
    assert shot_run.returncode == 0 and os.path.getsize(shot) > 50_000, "screenshot failed or is blank"
    print(f"OK: {expected} charts rendered, key numbers present; screenshot {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
