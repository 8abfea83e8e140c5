#!/usr/bin/env python3
"""The journeymap report: one self-contained HTML file (plotly.js embedded, works offline) built
from a result file (HDF5).

    .venv/bin/python scripts/report.py out/journeymap.h5 -o out/report.html
    journeymap report out/journeymap.h5 -o out/report.html      # the same, through the CLI

Every section reads only its own groups and is left out when they are missing, so the report grows
as stages land: headline numbers (/journeys), Sankey, paths, funnel and friction (/flows),
attribution (/attribution), patterns (/patterns), segments (/segments), model (/model), anomalies
and alerts (/anomalies, /alerts). The sentences under each chart are generated from the numbers.

Readiness for automated checks: every chart is drawn with Plotly.newPlot; when all have resolved,
<body> gets data-jm-rendered="<count>" (data-jm-expected holds the count). Script errors are
collected in the data-jm-errors attribute of <html>.
"""
import argparse
import datetime as dt
import html
import json
import math
import os
import re
import sys

import h5py
import numpy as np
import plotly
import plotly.graph_objects as go
from scipy.stats import chi2_contingency

TOUCHPOINT_COLORS = ["#2563eb", "#f97316", "#8b5cf6", "#0ea5e9", "#eab308", "#64748b", "#a855f7", "#0f766e",
                     "#b45309", "#1e3a8a"]
PALETTE = ["#2563eb", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#0ea5e9", "#eab308", "#64748b",
           "#14b8a6", "#a855f7", "#ef4444", "#84cc16"]


# ---------------------------------------------------------------- small helpers

def strings(dataset):
    return [s for s in dataset.asstr()[()]] if dataset.shape != () else [dataset.asstr()[()]]


def fmt_int(n):
    return f"{int(n):,}"


def fmt_pct(x, digits=1):
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100.0 * x:.{digits}f}%"


def fmt_duration(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def clip(text, limit):
    """`text` cut to `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def ratio(a, b):
    return float(a) / float(b) if b else float("nan")


def matrix(group, name):
    """A 2-D dataset, or a flattened int64 one with rows/cols attributes."""
    d = group[name]
    if d.ndim == 2:
        return d[()]
    return d[()].reshape(int(d.attrs["rows"]), int(d.attrs["cols"]))


def attr(obj, name, default=None):
    if name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


class Report:
    def __init__(self, f):
        self.f = f
        self.sections = []  # (anchor, title, html)
        self.figures = []   # (div id, figure)
        self.touchpoints = strings(f["vocab/touchpoints"]) if "vocab/touchpoints" in f else []
        self.channels = strings(f["vocab/channels"]) if "vocab/channels" in f else []
        self.average_rate = float("nan")
        self.examples = JourneyExamples(self)
        self.alerts = read_alerts(f)  # the headline and the Alerts section both read them

    def figure(self, fig, height=420):
        # Every chart says what it shows (tests/flows/report_test.py counts the titles drawn).
        if not fig.layout.title.text:
            raise ValueError("report charts need a title")
        div = f"jm-chart-{len(self.figures)}"
        margin = {side: getattr(fig.layout.margin, side) for side in ("l", "r", "t", "b")}
        defaults = dict(l=40, r=20, t=40, b=40)  # a figure's own margins win
        margin = {side: defaults[side] if value is None else value for side, value in margin.items()}
        fig.update_layout(height=height, margin=margin, template="plotly_white",
                          font=dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=12))
        self.figures.append((div, fig))
        return f'<div class="chart" id="{div}"></div>'

    def section(self, anchor, title, sentences, body):
        text = "".join(f"<li>{html.escape(s)}</li>" for s in sentences if s)
        self.sections.append((anchor, title, f'<ul class="insights">{text}</ul>{body}'))


# ---------------------------------------------------------------- sections

def section_headline(r):
    f = r.f
    if "journeys" not in f:
        return
    j = f["journeys"]
    offsets = j["offsets"][()]
    converted = j["converted"][()].astype(np.int64)
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    conversions = int(converted.sum())
    value = float(j["conversion_value"][()].astype(np.float64).sum()) if "conversion_value" in j else 0.0
    customers = len(np.unique(j["customer"][()])) if n else 0
    r.average_rate = ratio(conversions, n)
    start, end = j["start_ms"][()], j["end_ms"][()]
    span = ""
    if n:
        first = dt.datetime.fromtimestamp(int(start.min()) / 1000, dt.timezone.utc).date()
        last = dt.datetime.fromtimestamp(int(end.max()) / 1000, dt.timezone.utc).date()
        span = f"{first} to {last}"
    durations = (end - start) / 1000.0 if n else np.array([0.0])
    tiles = [("Journeys", fmt_int(n)), ("Customers", fmt_int(customers)), ("Events", fmt_int(offsets[-1])),
             ("Conversions", fmt_int(conversions)), ("Conversion rate", fmt_pct(r.average_rate))]
    if value > 0:  # no tile of zeros when the log carries no values
        tiles.append(("Conversion value", f"{value:,.0f}"))
    tiles += [("Median journey length", f"{float(np.median(lengths)) if n else 0:.0f} events"),
              ("Median journey duration", fmt_duration(float(np.median(durations))))]
    body = '<div class="tiles">' + "".join(
        f'<div class="tile"><div class="tile-value">{html.escape(v)}</div><div class="tile-label">{k}</div></div>'
        for k, v in tiles) + "</div>"
    sentences = [f"{fmt_int(n)} journeys from {fmt_int(customers)} customers" + (f" from {span}" if span else "")
                 + f"; {fmt_int(conversions)} of them converted ({fmt_pct(r.average_rate)})."]
    if n:
        conv_len = float(np.mean(lengths[converted == 1])) if conversions else float("nan")
        lost_len = float(np.mean(lengths[converted == 0])) if conversions < n else float("nan")
        if math.isfinite(conv_len) and math.isfinite(lost_len):
            sentences.append(f"Converting journeys average {conv_len:.1f} events against {lost_len:.1f} for "
                             f"abandoned ones.")
        if conversions and value > 0:
            sentences.append(f"The average converting journey is worth {value / conversions:,.2f}.")
    if "meta" in f and attr(f["meta"], "journey_rule", ""):
        rule = attr(f["meta"], "journey_rule")
        if "model" not in f:  # the rule names what the model predicts; say it plainly when there is none
            rule = re.sub(r"The model predicts '(.*)'\.$", r"The positive outcome is '\1'; this result holds no model.",
                          rule)
        sentences.insert(0, rule)
    alerts = r.alerts
    if alerts is not None and alerts["alerts"]:
        biggest = max(alerts["alerts"], key=alert_severity)
        sentences.append("Biggest alert: " + alert_sentence(biggest, alerts["mean_value"]).rstrip(".") +
                         f"; {fmt_int(len(alerts['alerts']))} alerts in all (see Alerts).")
    if "identity" in f:
        g = f["identity"]
        sentences.append(f"Customers are stitched from {fmt_int(attr(g, 'n_ids', 0))} ids of "
                         f"{len(strings(g['kinds']))} kinds across {len(strings(f['sources/name']))} sources; "
                         f"{fmt_int(len(strings(g['dropped_id'])))} shared ids were left out of the stitching.")
    if "taxonomy" in f:
        g = f["taxonomy"]
        unmapped = int(attr(g, "unmapped_events", 0))
        sentences.append(f"Touchpoints are level {attr(g, 'level', '?')} of the taxonomy "
                         f"{os.path.basename(str(attr(g, 'file', '')))}: {fmt_int(len(strings(g['raw_name'])))} raw "
                         f"event names became {fmt_int(attr(g, 'touchpoints', 0))} touchpoints"
                         + (f"; {fmt_int(unmapped)} events carry names no rule maps." if unmapped else "."))
    # Stages the run skipped (a model without both outcomes, a run in batches): said up front, so a
    # missing section is not mistaken for a quiet one.
    if "meta/skipped_stages" in f:
        for skipped in strings(f["meta/skipped_stages"]):
            sentences.append("Not in this result: " + skipped.rstrip(".") + ".")
    if "meta" in f:
        backend, created = attr(f["meta"], "backend", "?"), attr(f["meta"], "created_utc", "?")
        processes = int(attr(f["meta"], "processes", 1))
        across = f" across {processes} processes" if processes > 1 else ""
        sentences.append(f"Computed on the {backend.upper()} backend{across}; result written {created}.")
    r.section("headline", "Headline numbers", sentences, body)


def section_sankey(r):
    if "flows/sankey" not in r.f:
        return
    s = r.f["flows/sankey"]
    step, label = s["node_step"][()], strings(s["node_label"])
    journeys, rate = s["node_journeys"][()], s["node_conversion_rate"][()]
    src, dst, val = s["link_source"][()], s["link_target"][()], s["link_journeys"][()]
    if len(label) == 0:
        return
    steps = int(attr(r.f["flows"], "max_steps", int(step.max()) if len(step) else 0))
    outcome_nodes = ("converted", "exit", "continues")
    colors = []
    for name, rt in zip(label, rate):
        # Green and red mean converted and left: touchpoints take the palette's other colours.
        colors.append({"converted": "#10b981", "exit": "#e11d48", "continues": "#94a3b8",
                       "other": "#cbd5e1"}.get(name, TOUCHPOINT_COLORS[r.touchpoints.index(name) % len(TOUCHPOINT_COLORS)]
                                                if name in r.touchpoints else "#64748b"))
    # Outcome nodes sit in the column after the journey's last step ("exit" at column 3 = left after
    # step 3), below that column's touchpoints; plotly honours positions only with both x and y.
    max_step = int(step.max()) if len(step) else 0
    column_total = np.zeros(max_step + 1)
    for st, n in zip(step, journeys):
        column_total[st] += n
    scale = column_total.max() if len(column_total) and column_total.max() > 0 else 1.0
    order = sorted(range(len(label)), key=lambda i: (int(step[i]), label[i] in outcome_nodes,
                                                     ("continues", "converted", "exit").index(label[i])
                                                     if label[i] in outcome_nodes else 0, -journeys[i]))
    y = [0.0] * len(label)
    filled = np.zeros(max_step + 1)
    for i in order:
        y[i] = min(0.99, 0.01 + 0.9 * (filled[step[i]] + journeys[i] / 2.0) / scale + 0.012 * (filled[step[i]] > 0))
        filled[step[i]] += journeys[i]
    x = [0.001 + 0.998 * st / max(1, max_step) for st in step]
    shown = []
    custom = []
    # Looking back from an anchor (anchor_at_end): step 1 is the anchor, step k the event k-1 before
    # it, and a terminal marks where the journey began (converted or not by its outcome).
    backward = bool(attr(r.f["flows"], "anchor_at_end", 0))
    for st, name, n, rt in zip(step, label, journeys, rate):
        if backward and name in ("converted", "exit"):
            outcome = "converted" if name == "converted" else "did not convert"
            shown.append(f"began here, {outcome}")
            custom.append(f"{fmt_int(n)} journeys began {st} step{'s' if st != 1 else ''} before the anchor "
                          f"and {outcome}")
        elif backward and name == "continues":
            shown.append(f"more than {st - 1} steps before")
            custom.append(f"{fmt_int(n)} journeys had more than {st - 1} events before the anchor")
        elif name == "converted":
            shown.append("converted")
            custom.append(f"{fmt_int(n)} journeys converted after step {st}")
        elif name == "exit":
            shown.append("left")
            custom.append(f"{fmt_int(n)} journeys ended after step {st} without converting")
        elif name == "continues":
            shown.append(f"longer than {st} steps")
            custom.append(f"{fmt_int(n)} journeys have more than {st} steps ({fmt_pct(rt)} convert); "
                          f"their later steps are in the paths and funnel sections")
        else:
            shown.append(name)
            custom.append(f"step {st + 1}: {fmt_int(n)} journeys, {fmt_pct(rt)} of them convert")
    link_colors = ["rgba(16,185,129,0.35)" if label[d] == "converted" else "rgba(225,29,72,0.25)"
                   if label[d] == "exit" else "rgba(100,116,139,0.2)" for d in dst]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=shown, color=colors, x=x, y=y, pad=10, thickness=14, customdata=custom,
                  hovertemplate="%{customdata}<extra></extra>"),
        link=dict(source=src, target=dst, value=val, color=link_colors)))
    # Step headers above the columns.
    for column in range(max_step + 1):
        if backward:
            text = ("anchor" if column == 0 else f"{column} step{'s' if column > 1 else ''} before" if column < steps
                    else "earlier")
        else:
            text = f"step {column + 1}" if column < steps else f"after step {steps}"
        fig.add_annotation(x=0.001 + 0.998 * column / max(1, max_step), y=1.04, xref="paper", yref="paper",
                           text=text, showarrow=False, font=dict(size=12, color="#475569"))
    title = (f"Where journeys came from: the {steps - 1} steps before {attr(r.f['flows'], 'anchor', '')}" if backward
             else f"Journey flow over the first {steps} steps")
    fig.update_layout(title=dict(text=title, font=dict(size=14)), margin=dict(t=80))
    threshold = attr(r.f["flows"], "other_threshold", 0.0)
    # Sentences: the strongest first step, and the step with the most exits.
    first = [(n, l, rt) for st, l, n, rt in zip(step, label, journeys, rate) if st == 0 and l not in ("other",)]
    # Without a single conversion, conversion rates compare nothing: the sentences leave them out.
    converts = math.isfinite(r.average_rate) and r.average_rate > 0
    sentences = []
    if first:
        n, l, rt = max(first)
        total0 = sum(x[0] for x in first)
        if n == total0:  # nothing to compare: the start is the whole population
            sentences.append(f"Every journey starts at {l}.")
        elif converts:
            sentences.append(f"The most common first step is {l} ({fmt_pct(ratio(n, total0))} of journeys); those convert at "
                             f"{fmt_pct(rt)} against {fmt_pct(r.average_rate)} overall.")
        else:
            sentences.append(f"The most common first step is {l} ({fmt_pct(ratio(n, total0))} of journeys).")
    if backward:  # the sentences below read the flow forwards
        before = [(n, l) for st, l, n in zip(step, label, journeys) if st == 1 and l in r.touchpoints]
        if before:
            n, l = max(before)
            sentences = [f"{fmt_int(int(journeys[step == 0].sum()))} journeys reach "
                         f"{attr(r.f['flows'], 'anchor', '')}; the step before it is most often {l} "
                         f"({fmt_int(n)} journeys)."]
    exits = {}
    for d, v in zip(dst if not backward else [], val):
        if label[d] == "exit":
            exits[int(step[d])] = exits.get(int(step[d]), 0) + int(v)
    if exits:
        worst = max(exits, key=exits.get)
        if r.average_rate == 0:
            sentences.append(f"More journeys end right after step {worst} than after any other step "
                             f"({fmt_int(exits[worst])}); none converts, so the red ends mark where journeys stop, "
                             f"not abandonment.")
        else:
            sentences.append(f"The largest wave of abandonment comes right after step {worst}: "
                             f"{fmt_int(exits[worst])} journeys end there without converting.")
    # The conversion touchpoint converts by definition: leave it out of "best node".
    skip = {"other", "converted", "exit", "continues", attr(r.f["flows"], "conversion_touchpoint", "")}
    best = [(rt, l, st, n) for st, l, n, rt in zip(step, label, journeys, rate)
            if l not in skip and n >= max(20, 0.01 * journeys.max()) and not backward]
    if best and converts and max(best)[0] > 0:
        rt, l, st, n = max(best)
        sentences.append(f"The best converting node is {l} at step {st + 1} ({fmt_pct(rt)} of {fmt_int(n)} "
                         f"journeys convert, {ratio(rt, r.average_rate):.1f}x the average).")
    anchor = attr(r.f["flows"], "anchor", "")
    view = ""
    if anchor and backward:
        view += (f"Every journey is followed back from its first {html.escape(anchor)}: column 1 is the anchor, "
                 f"each further column one event earlier, and the coloured ends mark where journeys began "
                 f"(green: converted later, red: did not); "
                 f"{fmt_int(attr(r.f['flows'], 'journeys_without_anchor', 0))} journeys that never reach it are left "
                 f"out of the flows. ")
    elif anchor:
        view += (f"Every journey is followed from its first {html.escape(anchor)}; "
                 f"{fmt_int(attr(r.f['flows'], 'journeys_without_anchor', 0))} journeys that never reach it are left "
                 f"out of the flows. ")
    if attr(r.f["flows"], "collapse_repeats", 0):
        view += "Consecutive events at one touchpoint count as one step. "
    forward_note = ("" if backward else
                    f'First {steps} steps of every journey. Green: converted, red: left without converting, each in '
                    f'the column after the journey\'s last step; grey at the end: journeys longer than {steps} steps. ')
    note = (f'<p class="note">{view}{forward_note}'
            f'Touchpoints under {fmt_pct(threshold)} of their step are folded into "other".</p>')
    r.section("sankey", "How journeys flow", sentences, r.figure(fig, 560) + note)


def short_path(path, limit=48):
    """A path label that fits a chart axis: the first and last steps kept, the middle elided with
    the number of steps left out (the full path goes in the hover text)."""
    if len(path) <= limit:
        return path
    steps = [step if len(step) <= 20 else step[:19] + "…" for step in path.split(" > ")]

    def label(head, tail):
        hidden = len(steps) - head - tail
        middle = [f"… (+{hidden}) …"] if hidden else []
        return " > ".join(steps[:head] + middle + steps[len(steps) - tail:])

    head, tail = 1, 1
    while head + tail < len(steps):  # grow from the end first (where journeys convert or leave), then the start
        if len(label(head, tail + 1)) <= limit:
            tail += 1
        elif len(label(head + 1, tail)) <= limit:
            head += 1
        else:
            break
    return label(head, tail) if len(steps) > 1 else steps[0]


def path_bars(paths, values, color, what):
    """Horizontal bars of paths, largest on top: ranked short labels (unique even when two
    paths shorten alike), the full path and the count on hover."""
    labels = [f"{k + 1}. {short_path(p)}" for k, p in enumerate(paths)]
    fig = go.Figure()
    fig.add_bar(y=labels[::-1], x=list(values)[::-1], orientation="h", marker_color=color, hovertext=paths[::-1],
                hovertemplate="%{hovertext}<br>%{x:,} " + what + "<extra></extra>")
    fig.update_layout(yaxis=dict(automargin=True), xaxis=dict(tickformat="~s"), showlegend=False)
    return fig


def variant_table(rows):
    head = "<tr><th>Path</th><th>Journeys</th><th>Conversions</th><th>Rate</th></tr>"
    body = "".join(f"<tr><td>{html.escape(p)}</td><td>{fmt_int(n)}</td><td>{fmt_int(c)}</td><td>{fmt_pct(rt)}</td></tr>"
                   for p, n, c, rt in rows)
    return f'<table class="data">{head}{body}</table>'


def section_paths(r):
    if "flows/variants" not in r.f:
        return
    v = r.f["flows/variants"]
    paths = strings(v["path"])
    if not paths:
        return
    n, c = v["journeys"][()], v["conversions"][()]
    rate = np.where(n > 0, c / np.maximum(n, 1), 0.0)
    # "Top" paths need enough journeys to mean something: at least 20, and 0.2% of all journeys.
    floor = max(20, int(0.002 * n.sum()))
    frequent = [i for i in range(len(paths)) if n[i] >= floor]
    by_conv = sorted((i for i in frequent if c[i] > 0), key=lambda i: (-c[i], paths[i]))[:10]
    by_loss = sorted((i for i in frequent if n[i] > c[i]), key=lambda i: (-(n[i] - c[i]), paths[i]))[:10]
    sentences = []
    if frequent and math.isfinite(r.average_rate) and r.average_rate > 0:
        best = max(frequent, key=lambda i: (rate[i], n[i]))
        sentences.append(f"Journeys with {paths[best]} convert at {fmt_pct(rate[best])}, "
                         f"{ratio(rate[best], r.average_rate):.1f}x the average ({fmt_int(n[best])} journeys).")
        worst = max(frequent, key=lambda i: (n[i] - c[i], -rate[i]))
        tail = "none of them convert" if c[worst] == 0 else f"only {fmt_pct(rate[worst])} of its journeys convert"
        sentences.append(f"The most common abandoned path is {paths[worst]}: {fmt_int(n[worst] - c[worst])} "
                         f"journeys abandon on it, and {tail}.")
    if frequent:
        sentences.append(f"Charts and table show complete paths followed by at least {fmt_int(floor)} journeys "
                         f"({fmt_int(len(frequent))} such paths); hover a bar for its full path.")
    else:
        # Nothing to rank: say so instead of drawing empty charts.
        sentences.append(f"No complete path is followed by {fmt_int(floor)} journeys or more (the most common by "
                         f"{fmt_int(int(n.max()))}): too few journeys to rank paths to conversion or "
                         f"abandonment.")
    ct = attr(r.f["flows"], "conversion_touchpoint", "")
    if ct:
        sentences.append(f"Paths are the touches of a journey; the conversion event ({ct}) is the outcome, not part "
                         f"of the path.")
    distinct = attr(r.f["flows"], "n_distinct_variants")
    if distinct:
        top_share = ratio(int(n.max()), int(attr(r.f["flows"], "n_journeys", n.sum())))
        sentences.append(f"There are {fmt_int(distinct)} distinct complete paths; the single most common covers "
                         f"{fmt_pct(top_share)} of journeys.")
    charts = []
    if by_conv:
        fig = path_bars([paths[i] for i in by_conv], [int(c[i]) for i in by_conv], "#10b981", "conversions")
        fig.update_layout(title="Top paths to conversion", xaxis_title="conversions")
        charts.append(r.figure(fig, 420))
    if by_loss:
        fig2 = path_bars([paths[i] for i in by_loss], [int(n[i] - c[i]) for i in by_loss], "#e11d48",
                         "abandoned journeys")
        fig2.update_layout(title="Top paths to abandonment", xaxis_title="abandoned journeys")
        charts.append(r.figure(fig2, 420))
    body = ""
    if charts:
        body += f'<div class="grid2">{"".join(charts)}</div>' if len(charts) == 2 else charts[0]
    if frequent:
        body += variant_table([(paths[i], n[i], c[i], rate[i])
                               for i in sorted(frequent, key=lambda i: (-n[i], paths[i]))[:10]])
    r.section("paths", "Paths to conversion and to abandonment", sentences, body)


def section_funnel(r):
    if "flows/funnel" not in r.f:
        return
    fu = r.f["flows/funnel"]
    names = strings(fu["names"])
    if not names:
        return
    reached = fu["reached"][()]
    medians = fu["median_seconds_from_previous"][()]
    fig = go.Figure(go.Funnel(y=names, x=reached, textinfo="value+percent initial", marker_color="#2563eb"))
    fig.update_layout(title="Funnel (in order, gaps allowed)")
    body = r.figure(fig, 380)
    sentences = []
    total = int(attr(r.f["flows"], "n_journeys", 0))
    sentences.append(f"{fmt_int(reached[0])} journeys ({fmt_pct(ratio(reached[0], total))}) reach {names[0]}; "
                     f"{fmt_int(reached[-1])} go all the way to {names[-1]} "
                     f"({fmt_pct(ratio(reached[-1], reached[0]))} of those who entered).")
    if len(names) > 1:
        drops = [(1 - ratio(reached[k], reached[k - 1]) if reached[k - 1] else 0.0, k) for k in range(1, len(names))]
        d, k = max(drops)
        sentences.append(f"The steepest drop is from {names[k - 1]} to {names[k]}: {fmt_pct(d)} of journeys do not "
                         f"make it; the median time between the two is {fmt_duration(medians[k])}.")
    if "reached_by_channel" in fu and r.channels:
        by_ch = matrix(fu, "reached_by_channel")
        share = [(ratio(by_ch[c, -1], by_ch[c, 0]), r.channels[c]) for c in range(by_ch.shape[0]) if by_ch[c, 0] >= 20]
        if len(share) > 1 and max(share)[1] != min(share)[1]:  # nothing to compare with one channel
            hi, lo = max(share), min(share)
            sentences.append(f"Entering through {hi[1]}, {fmt_pct(hi[0])} of funnel journeys finish it; through "
                             f"{lo[1]}, {fmt_pct(lo[0])}.")
        fig2 = go.Figure()
        for c in range(by_ch.shape[0]):
            if by_ch[c, 0] > 0:
                fig2.add_bar(x=names, y=by_ch[c] / by_ch[c, 0], name=r.channels[c])
        fig2.update_layout(title="Share of funnel entrants reaching each step, by entry channel", barmode="group",
                           yaxis=dict(tickformat=".0%"))
        body += r.figure(fig2, 360)
    if "reached_by_segment" in fu:
        by_seg = matrix(fu, "reached_by_segment")
        seg_names = segment_names(r, by_seg.shape[0])
        fig3 = go.Figure()
        for s in range(by_seg.shape[0]):
            if by_seg[s, 0] > 0:
                fig3.add_bar(x=names, y=by_seg[s] / by_seg[s, 0], name=seg_names[s])
        fig3.update_layout(title="Funnel by segment", barmode="group", yaxis=dict(tickformat=".0%"))
        body += r.figure(fig3, 360)
    r.section("funnel", "Funnel and drop-off", sentences, body)


def section_friction(r):
    if "flows/heatmap" not in r.f:
        return
    h = r.f["flows/heatmap"]
    visits, exits = matrix(h, "step_visits"), matrix(h, "step_exits")
    steps, T = visits.shape
    if T == 0 or visits.sum() == 0:
        return
    rate = np.where(visits > 0, exits / np.maximum(visits, 1), np.nan)
    used = [t for t in range(T) if visits[:, t].sum() > 0]
    labels = [f"step {i + 1}" for i in range(steps)]
    labels[-1] = f"step {steps}+"
    z = [[None if not np.isfinite(rate[i, t]) else float(rate[i, t]) for i in range(steps)] for t in used]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=[r.touchpoints[t] for t in used], colorscale="Reds", zmin=0,
                               colorbar=dict(tickformat=".0%"),
                               hovertemplate="%{y} at %{x}: %{z:.1%} drop off<extra></extra>"))
    fig.update_layout(title="Drop-off rate by touchpoint and step")
    body = r.figure(fig, 420)
    sentences = []
    floor = max(20, int(0.001 * visits.sum()))
    cells = [(rate[i, t], i, t) for i in range(steps) for t in used if visits[i, t] >= floor]
    no_conversions = r.average_rate == 0
    if no_conversions:
        # Without a single conversion every journey "abandons" at its last step: the heatmaps then
        # show where journeys end, which is not friction (a closed case ends at its closing step).
        sentences.append("No journey converts here, so every journey's last step counts as a drop-off: the heatmaps "
                         "show where journeys end, not friction. Name the outcome event (--outcome or [outcome]) to "
                         "measure friction against it.")
        cells = []
    if cells:
        rt, i, t = max(cells)
        sentences.append(f"The worst friction point is {r.touchpoints[t]} at {labels[i]}: {fmt_pct(rt)} of visits "
                         f"there end an abandoned journey ({fmt_int(visits[i, t])} visits).")
    totals = [(exits[:, t].sum() / visits[:, t].sum(), t) for t in used if visits[:, t].sum() >= floor]
    if totals and not no_conversions:
        lo, hi = min(totals), max(totals)
        sentences.append(f"Across all steps, {r.touchpoints[hi[1]]} loses the most ({fmt_pct(hi[0])} of its visits "
                         f"are the last), {r.touchpoints[lo[1]]} the least ({fmt_pct(lo[0])}).")
    if "channel_visits" in h and r.channels:
        cv, ce = matrix(h, "channel_visits"), matrix(h, "channel_exits")
        crate = np.where(cv > 0, ce / np.maximum(cv, 1), np.nan)
        zc = [[None if not np.isfinite(crate[t, c]) else float(crate[t, c]) for c in range(cv.shape[1])] for t in used]
        fig2 = go.Figure(go.Heatmap(z=zc, x=r.channels, y=[r.touchpoints[t] for t in used], colorscale="Oranges",
                                    zmin=0, colorbar=dict(tickformat=".0%"),
                                    hovertemplate="%{y} via %{x}: %{z:.1%} drop off<extra></extra>"))
        fig2.update_layout(title="Drop-off rate by touchpoint and channel")
        body += r.figure(fig2, 420)
        cells = [(crate[t, c], t, c) for t in used for c in range(cv.shape[1]) if cv[t, c] >= floor]
        if cells and not no_conversions:
            rt, t, c = max(cells)
            sentences.append(f"By channel, {r.touchpoints[t]} via {r.channels[c]} has the highest drop-off "
                             f"({fmt_pct(rt)}).")
    r.section("friction", "Friction heatmap", sentences, body)


MODELS = [("first_touch", "First touch"), ("last_touch", "Last touch"), ("linear", "Linear"),
          ("time_decay", "Time decay"), ("position_based", "Position based"), ("markov", "Markov (data-driven)")]


def section_attribution(r):
    if "attribution" not in r.f:
        return
    a = r.f["attribution"]
    body, sentences = "", []
    attributed = int(attr(a, "conversions_attributed", 0))
    if attributed == 0:
        # Nothing to share out: say so rather than draw empty charts.
        r.section("attribution", "What drives conversions: attribution compared",
                  ["No conversion was attributed: these journeys hold no conversion to credit to a channel or a "
                   "touchpoint."], "")
        return
    for dim in ("channel", "touchpoint"):
        if dim not in a:
            continue
        g = a[dim]
        names = strings(g["names"])
        present = [m for m in MODELS if m[0] in g]
        if not names or not present:
            continue
        columns = {m: g[m][()] for m, _ in present}
        order = np.argsort(-columns.get("markov", columns[present[0][0]]))
        order = [i for i in order if any(columns[m][i] > 0 for m, _ in present)][:12]
        fig = go.Figure()
        for k, (m, title) in enumerate(present):
            fig.add_bar(x=[names[i] for i in order], y=[columns[m][i] / max(attributed, 1) for i in order], name=title,
                        marker_color=PALETTE[k % len(PALETTE)])
        # Names are categories even when they look like numbers ("112"); the legend sits above the
        # plot so that long, slanted names below it never run into it.
        fig.update_layout(title=f"Share of conversions credited, by {dim}", barmode="group",
                          yaxis=dict(tickformat=".0%"), xaxis=dict(type="category", tickangle=-30, automargin=True),
                          legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
                          margin=dict(t=90))
        body += r.figure(fig, 420)
        if "markov" in columns and order:
            top = order[0]
            mk, lt = columns["markov"][top] / max(attributed, 1), columns.get("last_touch", columns["markov"])[top] / max(attributed, 1)
            sentences.append(f"By {dim}, the Markov model credits {names[top]} with {fmt_pct(mk)} of conversions "
                             f"(last touch: {fmt_pct(lt)}).")
            if "last_touch" in columns and "first_touch" in columns:
                diff = [(columns["first_touch"][i] - columns["last_touch"][i], i) for i in order]
                opener = max(diff)
                closer = min(diff)
                if opener[0] > 0:
                    # "while X is a closer" only for a different name that closes more than it opens.
                    closing = (f", while {names[closer[1]]} is a closer" if closer[0] < 0 and closer[1] != opener[1]
                               else "")
                    sentences.append(f"{names[opener[1]]} opens more journeys than it closes "
                                     f"({fmt_pct(columns['first_touch'][opener[1]] / max(attributed, 1))} first-touch vs "
                                     f"{fmt_pct(columns['last_touch'][opener[1]] / max(attributed, 1))} last-touch)"
                                     f"{closing}.")
    if not body:
        return
    ct = attr(a, "conversion_touchpoint", "")
    note = (f'<p class="note">{fmt_int(attributed)} conversions credited'
            + (f"; the conversion event itself ({html.escape(ct)}) is not a touch" if ct else "")
            + f"; time-decay half life {attr(a, 'time_decay_half_life_days', 7)} days.</p>")
    r.section("attribution", "What drives conversions: attribution compared", sentences, body + note)


def segment_names(r, count):
    g = r.f.get("segments")
    if g is not None:
        for key in ("profile/label", "names", "segment_names"):
            if key in g and g[key].dtype.kind in ("O", "S", "U"):
                names = strings(g[key])
                if len(names) >= count:
                    return names
    return [f"segment {s}" for s in range(count)]

# ---------------------------------------------------------------- drill-down: example journeys

EXAMPLES_PER_ROW = 3
EXAMPLE_SCAN_LIMIT = 200_000  # journeys looked at to find examples of the rarer patterns


class JourneyExamples:
    """Journeys read back from /journeys for drill-down: a customer's name and path, and which
    journeys hold a pattern. Everything is read only when a section asks."""

    def __init__(self, r):
        self.r = r
        f = r.f
        self.available = all(k in f for k in ("journeys/offsets", "journeys/touchpoint", "journeys/customer"))
        if self.available:
            self.offsets = f["journeys/offsets"][()]
            self.touchpoint = f["journeys/touchpoint"]
            self.customer = f["journeys/customer"]
            self.converted = f["journeys/converted"][()] if "journeys/converted" in f else None
            self.customers = f["vocab/customers"] if "vocab/customers" in f else None

    def path_ids(self, j):
        return self.touchpoint[self.offsets[j]:self.offsets[j + 1]]

    def describe(self, j):
        names = self.r.touchpoints
        path = " > ".join(names[i] if 0 <= i < len(names) else str(i) for i in self.path_ids(j))
        who = int(self.customer[j])
        if self.customers is not None and who < len(self.customers):
            who = self.customers[who]
            who = who.decode("utf-8", "replace") if isinstance(who, bytes) else str(who)
        outcome = "" if self.converted is None else (" (converted)" if self.converted[j] else " (did not convert)")
        return f"{who}: {short_path(path, 90) if path else '(no events)'}{outcome}"

    def containing(self, patterns):
        """For each pattern (touchpoint ids), the first journeys that hold it as a subsequence."""
        found = [[] for _ in patterns]
        if not self.available:
            return found
        n = min(len(self.offsets) - 1, EXAMPLE_SCAN_LIMIT)
        block = 4096
        for first in range(0, n, block):
            last = min(n, first + block)
            ids = self.touchpoint[self.offsets[first]:self.offsets[last]]
            for j in range(first, last):
                seq = ids[self.offsets[j] - self.offsets[first]:self.offsets[j + 1] - self.offsets[first]].tolist()
                for p, pattern in enumerate(patterns):
                    if len(found[p]) < EXAMPLES_PER_ROW:
                        steps = iter(seq)
                        if all(item in steps for item in pattern):
                            found[p].append(j)
            if all(len(f) >= EXAMPLES_PER_ROW for f in found):
                break
        return found


def examples_table(r, title, rows):
    """rows: (label, [journey indices]) -> a table with up to EXAMPLES_PER_ROW journeys per row."""
    examples = r.examples
    cells = "".join(f"<tr><td>{html.escape(label)}</td><td>"
                    + "<br>".join(html.escape(examples.describe(j)) for j in journeys) + "</td></tr>"
                    for label, journeys in rows if journeys)
    if not cells:
        return ""
    return (f'<details class="drill"><summary>{html.escape(title)}</summary><table class="data">'
            f"<tr><th></th><th>Example journeys (customer: path)</th></tr>{cells}</table></details>")



def pattern_texts(r, g, indices):
    """Readable text of patterns (CSR /patterns/offsets + items, touchpoint ids)."""
    offsets, items = g["offsets"][()], g["items"][()]
    out = []
    for p in indices:
        ids = items[offsets[p]:offsets[p + 1]]
        out.append(" > ".join(r.touchpoints[i] if 0 <= i < len(r.touchpoints) else str(i) for i in ids))
    return out


def section_patterns(r):
    """/patterns (docs/patterns.md): CSR patterns with support, conversion rate and lift; ranked lists
    top_conversion / top_abandonment."""
    if "patterns" not in r.f:
        return
    g = r.f["patterns"]
    needed = ("offsets", "items", "support", "conversion_rate")
    if not all(k in g for k in needed):
        return generic_section(r, "patterns", "Frequent patterns")
    support, rate = g["support"][()], g["conversion_rate"][()]
    lift = g["lift"][()] if "lift" in g else None
    base = attr(g, "base_conversion_rate", r.average_rate)
    body, sentences = "", []

    def ranked(name, fallback_key):
        if f"{name}/pattern" in g:
            return [int(p) for p in g[f"{name}/pattern"][()]]
        return list(np.argsort(fallback_key)[:10])

    top_conv = ranked("top_conversion", -rate)[:10]
    top_aband = ranked("top_abandonment", rate)[:10]
    if base is None or not math.isfinite(base):
        base = 0.0
    # Both charts draw what a pattern is worth in journeys, in the order of the ranking (score =
    # share of journeys x (rate - base rate)): conversions above the average rate for the first,
    # abandoned journeys above it for the second, so the strongest pattern has the longest bar.
    for title, idx, color, sign, what in (
            ("Patterns that lead to conversion", top_conv, "#10b981", 1.0, "conversions above the average rate"),
            ("Patterns that lead to abandonment", top_aband, "#e11d48", -1.0,
             "abandoned journeys above the average rate")):
        if not idx:
            continue
        texts = pattern_texts(r, g, idx)
        extra = [sign * float(support[p]) * (float(rate[p]) - base) for p in idx]
        hover = [f"{t}<br>{fmt_int(support[p])} journeys, {fmt_pct(float(rate[p]))} convert "
                 f"(average {fmt_pct(base)})" for t, p in zip(texts, idx)]
        labels = [f"{k + 1}. {short_path(t)}" for k, t in enumerate(texts)]
        fig = go.Figure(go.Bar(x=extra[::-1], y=labels[::-1], orientation="h", marker_color=color,
                               hovertext=hover[::-1], hovertemplate="%{hovertext}<extra></extra>"))
        fig.update_layout(title=title, xaxis=dict(title=what, tickformat="~s"), yaxis=dict(automargin=True))
        body += r.figure(fig, 380)
    if top_conv:
        p = top_conv[0]
        text = pattern_texts(r, g, [p])[0]
        times = f", {ratio(rate[p], base):.1f}x the average" if base > 0 else ""
        sentences.append(f"Journeys with {text} convert at {fmt_pct(float(rate[p]))}{times} "
                         f"({fmt_int(support[p])} journeys).")
    if top_aband:
        p = top_aband[0]
        text = pattern_texts(r, g, [p])[0]
        sentences.append(f"{fmt_pct(1.0 - float(rate[p]))} of journeys with {text} end without converting, against "
                         f"{fmt_pct(1.0 - base)} on average ({fmt_int(support[p])} journeys; about "
                         f"{fmt_int(round(float(support[p]) * (base - float(rate[p]))))} more abandoned journeys than at "
                         f"the average rate).")
    shown = list(dict.fromkeys(top_conv + top_aband))
    if shown and r.examples.available:
        offsets, items = g["offsets"][()], g["items"][()]
        found = r.examples.containing([items[offsets[p]:offsets[p + 1]].tolist() for p in shown])
        body += examples_table(r, "Example journeys for each pattern above",
                               list(zip(pattern_texts(r, g, shown), found)))
    sentences.append(f"{fmt_int(len(support))} frequent patterns were mined"
                     + (f" (minimum support {attr(g, 'min_support')})." if attr(g, "min_support") else "."))
    if not body and len(support):
        # Nothing ranked: say why in words, with the most frequent pattern, instead of a dump.
        if base > 0:
            sentences.append("No pattern converts or abandons differently enough from the average to be ranked.")
        else:
            sentences.append("The journeys hold no conversion, so no pattern can lead to one or away from it.")
        top = int(np.argmax(support))
        n_journeys = attr(g, "n_journeys", 0)
        share = f", {fmt_pct(ratio(support[top], n_journeys))} of all" if n_journeys else ""
        sentences.append(f"The most frequent is {pattern_texts(r, g, [top])[0]} "
                         f"({fmt_int(support[top])} journeys{share}).")
    if not body and not len(support):
        return generic_section(r, "patterns", "Frequent patterns")
    r.section("patterns", "Frequent patterns and what they predict", sentences, body)


def section_segments(r):
    """/segments: per-journey labels (/segments/label) and per-segment profiles (/segments/profile/*)."""
    if "segments" not in r.f:
        return
    g = r.f["segments"]
    if "profile/size" in g and "profile/conversion_rate" in g:
        sizes = g["profile/size"][()]
        rates = g["profile/conversion_rate"][()]
        k = len(sizes)
        names = segment_names(r, k)
    else:
        labels_key = next((k for k in ("label", "labels") if k in g and isinstance(g[k], h5py.Dataset)), None)
        if labels_key is None or "journeys/converted" not in r.f:
            return generic_section(r, "segments", "Segments")
        labels = g[labels_key][()]
        converted = r.f["journeys/converted"][()]
        if len(labels) != len(converted):
            return generic_section(r, "segments", "Segments")
        valid = labels >= 0
        k = int(labels[valid].max()) + 1 if valid.any() else 0
        if k == 0:
            return
        names = segment_names(r, k)
        sizes = np.bincount(labels[valid], minlength=k)
        rates = np.bincount(labels[valid], weights=converted[valid], minlength=k) / np.maximum(sizes, 1)
    if k == 0:
        return
    fig = go.Figure()
    # Short axis labels (segment numbers, 0 = largest); the full label is on hover and in the table.
    short = [f"segment {s}" for s in range(k)]
    fig.add_bar(x=short, y=sizes, name="journeys", marker_color="#2563eb", yaxis="y", hovertext=names[:k])
    fig.add_scatter(x=short, y=rates, name="conversion rate", mode="markers", yaxis="y2", hovertext=names[:k],
                    marker=dict(color="#f97316", size=12))
    fig.update_layout(title="Segments: size and conversion", yaxis=dict(title="journeys"),
                      xaxis=dict(type="category"),
                      yaxis2=dict(title="conversion rate", overlaying="y", side="right", tickformat=".0%",
                                  rangemode="tozero"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0), margin=dict(t=80, r=60))
    big = int(np.argmax(sizes))
    best = int(np.argmax(rates))
    # Segment labels may already state their conversion ("...; converts 39%"): name them, then give numbers.
    sentences = [f"{k} segments. The largest holds {fmt_pct(ratio(sizes[big], sizes.sum()))} of journeys and converts "
                 f"at {fmt_pct(float(rates[big]))} (\"{names[big]}\")."]
    if best != big:
        sentences.append(f"The best converting segment converts at {fmt_pct(float(rates[best]))}, "
                         f"{ratio(rates[best], r.average_rate):.1f}x the average (\"{names[best]}\").")
    body = r.figure(fig, 380)
    if "profile/top_touchpoints" in g:
        tops = strings(g["profile/top_touchpoints"])
        rows = "".join(f"<tr><td>{s}: {html.escape(names[s])}</td><td>{fmt_int(sizes[s])}</td>"
                       f"<td>{fmt_pct(float(rates[s]))}</td><td>{html.escape(tops[s])}</td></tr>" for s in range(k))
        body += ('<table class="data"><tr><th>Segment</th><th>Journeys</th><th>Conversion</th>'
                 f'<th>Top touchpoints</th></tr>{rows}</table>')
    if r.examples.available and "label" in g and len(g["label"]) == len(r.examples.offsets) - 1:
        labels = g["label"][()]
        rows = [(names[seg], [int(j) for j in np.nonzero(labels == seg)[0][:EXAMPLES_PER_ROW]]) for seg in range(k)]
        body += examples_table(r, "Example journeys of each segment", rows)
    r.section("segments", "Segments", sentences, body)

FEATURE_LABELS = {
    "length": "journey length (events)", "duration_seconds": "journey duration",
    "distinct_touchpoints": "distinct touchpoints", "revisits": "returns to a touchpoint seen earlier",
    "touchpoint_entropy": "variety of touchpoints (entropy)", "channel_count": "channels used",
    "channel_entropy": "variety of channels (entropy)", "gap_mean_seconds": "mean time between events",
    "gap_median_seconds": "median time between events", "gap_max_seconds": "longest time between events",
    "momentum": "activity speeding up or slowing down", "start_hour": "hour the journey starts",
    "start_hour_sin": "hour the journey starts (cyclic, sine)", "start_hour_cos": "hour the journey starts (cyclic, cosine)",
    "start_weekday": "weekday the journey starts", "recency_days": "days since the last event",
    "customer_journey_number": "customer's journey number", "first_touchpoint": "first touchpoint",
    "last_touchpoint": "last touchpoint so far"}
MODEL_METRIC_LABELS = {"roc_auc": "AUC", "pr_auc": "precision-recall AUC", "log_loss": "log loss",
                       "brier": "Brier score", "top_decile_lift": "lift in the top 10% of scores",
                       "positive_rate": "share of positive journeys"}


def feature_label(name):
    """A reader's name for a model feature column (see host/features/features.cpp)."""
    if name in FEATURE_LABELS:
        return FEATURE_LABELS[name]
    block, _, value = name.partition(":")
    if block == "touchpoint_share":
        return "share of events at other touchpoints" if value == "(other)" else f"share of events at {value}"
    if block == "channel_share":
        return "share of events on other channels" if value == "(other)" else f"share of events on channel {value}"
    if block == "bigram_share":
        return f"share of step pairs in hash bucket {value}"
    if block == "case":
        return f"case attribute {value}"
    return name


def model_metric_label(name):
    return MODEL_METRIC_LABELS.get(name, name)


def section_model(r):
    """/model: metrics (/model/metrics/name, model, baseline), importance (/model/importance/feature,
    gain), AUC by journey prefix (/model/prefix/k, model, baseline), ROC curve (/model/curves/*)."""
    if "model" not in r.f:
        return
    g = r.f["model"]
    sentences, body = [], ""
    in_flight = g["in_flight"] if "in_flight" in g else None
    if in_flight is not None and np.isfinite(attr(in_flight, "pooled_auc", float("nan"))):
        pooled, base = attr(in_flight, "pooled_auc"), attr(in_flight, "baseline_pooled_auc", float("nan"))
        ks = g["prefix/k"][()] if "prefix/k" in g else []
        sentences.append(f"Scoring journeys still in flight (the first 1 to {int(ks[-1]) if len(ks) else '?'} events of "
                         f"held-out journeys), the model reaches AUC {pooled:.3f} against {base:.3f} for the "
                         f"baseline ({str(attr(g, 'baseline', 'simple rate')).replace('_', ' ')}), over {fmt_int(attr(in_flight, 'prefixes', 0))} "
                         f"journey prefixes.")
    if "metrics/name" in g and "metrics/model" in g:
        names, values = strings(g["metrics/name"]), g["metrics/model"][()]
        baseline = g["metrics/baseline"][()] if "metrics/baseline" in g else None
        tiles = "".join(f'<div class="tile"><div class="tile-value">{v:.3f}</div><div class="tile-label">'
                        f'{html.escape(model_metric_label(n))} at the decision point'
                        # the positive rate is the data's, the same for both: no baseline to compare with
                        + (f" (baseline {baseline[i]:.3f})" if baseline is not None and n != "positive_rate" else "")
                        + "</div></div>" for i, (n, v) in enumerate(zip(names, values)))
        body += f'<div class="tiles">{tiles}</div>'
        auc = next((i for i, n in enumerate(names) if "auc" in n.lower()), None)
        if auc is not None:
            text = (f"On whole held-out journeys, up to the moment before their outcome, it reaches "
                    f"{model_metric_label(names[auc])} "
                    f"{values[auc]:.3f}")
            if baseline is not None:
                text += f" against {baseline[auc]:.3f}"
            sentences.append(text + "; this is a diagnostic of what the journey reveals by then, not a forecast.")
    sampled, of = int(attr(g, "sample_journeys", 0)), int(attr(g, "input_journeys", 0))
    if 0 < sampled < of:
        sentences.append(f"The model was trained and evaluated on a seeded sample of whole customers: "
                         f"{fmt_int(sampled)} of the {fmt_int(of)} journeys (a run under a memory budget).")
    if "warnings" in g and len(g["warnings"]):
        count = len(g["warnings"])
        sentences.append(f"The leakage guard raised {count} warning{'s' if count != 1 else ''}; see the banner at the top.")
    names_key = next((k for k in ("importance/feature", "feature_names") if k in g), None)
    imp_key = next((k for k in ("importance/gain", "importance") if k in g and isinstance(g[k], h5py.Dataset)), None)
    if names_key and imp_key:
        names, imp = strings(g[names_key]), g[imp_key][()].astype(float)
        order = [i for i in np.argsort(-imp) if imp[i] > 0][:15]
        total = imp[imp > 0].sum()
        labels = [f"{feature_label(names[i])}" for i in order]
        fig = go.Figure(go.Bar(x=[imp[i] / total for i in order][::-1], y=labels[::-1], orientation="h",
                               marker_color="#8b5cf6", hovertext=[names[i] for i in order][::-1],
                               hovertemplate="%{y} (%{hovertext})<br>%{x:.1%} of the total gain<extra></extra>"))
        fig.update_layout(title="What the model relies on (share of total gain)",
                          xaxis=dict(tickformat=".0%"), yaxis=dict(automargin=True, type="category"))
        body += r.figure(fig, 420)
        if order:
            top = order[0]
            text = f"The strongest signal is {feature_label(names[top])} ({fmt_pct(ratio(imp[top], total))} of the gain"
            if len(order) > 1:
                text += f"; next {feature_label(names[order[1]])}, {fmt_pct(ratio(imp[order[1]], total))}"
            sentences.append(text + ").")
    if "prefix/k" in g and "prefix/model" in g:
        px, auc = g["prefix/k"][()], g["prefix/model"][()]
        counts = g["prefix/journeys"][()] if "prefix/journeys" in g else None
        metric = model_metric_label(attr(g["prefix"], "metric", "AUC") if "prefix" in g else "AUC")
        hover = [f"k={int(k)}: {fmt_int(int(n))} test journeys with at least k events" for k, n in zip(px, counts)] \
            if counts is not None else None
        fig = go.Figure(go.Scatter(x=px, y=auc, mode="lines+markers", name="model (in flight)", text=hover,
                                   line=dict(color="#2563eb")))
        per_k = g["prefix/prefix_model"][()] if "prefix/prefix_model" in g else None
        if per_k is not None and np.isfinite(per_k).any():
            fig.add_scatter(x=px, y=per_k, mode="lines+markers", name="one model per k",
                            line=dict(color="#8b5cf6", dash="dash"))
        if "prefix/baseline" in g:
            fig.add_scatter(x=px, y=g["prefix/baseline"][()], mode="lines+markers", name="baseline",
                            line=dict(color="#94a3b8", dash="dot"))
        fig.update_layout(title=f"{metric} after k events (test journeys with at least k events)",
                          xaxis=dict(title="events seen"), yaxis=dict(title=metric))
        body += r.figure(fig, 360)
        if len(px) and counts is not None:
            first_k = int(px[0])
            sentences.append(f"After {first_k} event{'s' if first_k != 1 else ''} the model reaches {metric} {auc[0]:.3f} on "
                             f"{fmt_int(int(counts[0]))} test journeys; after {int(px[-1])} events, {auc[-1]:.3f} on the "
                             f"{fmt_int(int(counts[-1]))} journeys that are that long.")
    if "curves/roc_false_positive_rate" in g and "curves/roc_true_positive_rate" in g:
        fig = go.Figure(go.Scatter(x=g["curves/roc_false_positive_rate"][()], y=g["curves/roc_true_positive_rate"][()],
                                   mode="lines", line=dict(color="#2563eb"), name="ROC"))
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#cbd5e1", dash="dot"), name="chance")
        fig.update_layout(title="ROC curve (whole held-out journeys, at the decision point)", xaxis=dict(title="false positive rate"),
                          yaxis=dict(title="true positive rate"))
        body += r.figure(fig, 360)
    if not body:
        return generic_section(r, "model", "Conversion model")
    r.section("model", "Conversion model: quality and what it relies on", sentences, body)


def day_label(ms):
    return str(dt.datetime.fromtimestamp(int(ms) / 1000, dt.timezone.utc).date())

# ---------------------------------------------------------------- alerts on journey metrics

METRIC_KIND_COUNT, METRIC_KIND_RATE, METRIC_KIND_MEDIAN = 0, 1, 2
MAX_ALERT_CHARTS = 8


def metric_label(name):
    """A reader's name for an /alerts series ("dropoff:checkout" -> "Drop-off at checkout")."""
    if name == "journeys":
        return "Journeys started"
    if name == "conversion_rate":
        return "Conversion rate"
    if name == "median_length":
        return "Median journey length"
    if name.startswith("dropoff:"):
        return f"Drop-off at {name[len('dropoff:'):]}"
    if name.startswith("volume:"):
        return f"Events at {name[len('volume:'):]}"
    return name


def fmt_metric(value, kind):
    if value is None or not math.isfinite(value):
        return "n/a"
    if kind == METRIC_KIND_RATE:
        return fmt_pct(min(max(value, 0.0), 1.0))
    if kind == METRIC_KIND_MEDIAN:
        return f"{max(value, 0.0):.1f} events"
    return fmt_int(round(max(value, 0.0)))


def read_alerts(f):
    """/alerts as plain Python: the series and the alert list, or None when the stage did not run."""
    if "alerts" not in f or "bucket_start_ms" not in f["alerts"] or "metrics" not in f["alerts"]:
        return None
    g = f["alerts"]
    metrics = strings(g["metrics"]) if len(g["metrics"]) else []
    n_buckets = len(g["bucket_start_ms"])
    kinds = g["metric_kind"][()] if "metric_kind" in g else np.zeros(len(metrics), dtype=np.int32)
    series = {name: matrix(g, name) if name in g and len(metrics) and n_buckets else None
              for name in ("observed", "expected", "lower", "upper")}
    listed = []
    if "list/metric" in g and len(g["list/metric"]):
        lst = g["list"]
        names = strings(lst["metric"])
        units = strings(lst["impact_unit"]) if "impact_unit" in lst else [""] * len(names)

        def column(key):  # a list column, NaN where an older file lacks it
            return lst[key][()].astype(np.float64) if key in lst else np.full(len(names), np.nan)

        values = {key: column(key) for key in ("bucket_start_ms", "observed", "expected", "lower", "upper", "z",
                                              "impact")}
        for i, name in enumerate(names):
            listed.append(dict(metric=name, kind=int(kinds[metrics.index(name)]) if name in metrics else 0,
                               start_ms=int(values["bucket_start_ms"][i]), observed=values["observed"][i],
                               expected=values["expected"][i], lower=values["lower"][i], upper=values["upper"][i],
                               z=values["z"][i], impact=values["impact"][i], unit=units[i]))
    partial = g["partial"][()].astype(bool) if "partial" in g else np.zeros(n_buckets, dtype=bool)
    explained = []
    if "explained/metric" in g and len(g["explained/metric"]):
        e = g["explained"]
        names, factors = strings(e["metric"]), strings(e["factors"])
        for i, name in enumerate(names):
            explained.append(dict(metric=name, kind=int(kinds[metrics.index(name)]) if name in metrics else 0,
                                  start_ms=int(e["bucket_start_ms"][i]), observed=float(e["observed"][i]),
                                  expected=float(e["expected"][i]),
                                  without=float(e["expected_without_covariates"][i]), factors=factors[i]))
    # Metrics whose baseline carries a weekly pattern worth telling (a factor 10% off the average).
    weekly = []
    if attr(g, "seasonality", "none") == "weekly" and "season_factor" in g and len(metrics):
        factors = g["season_factor"][()]
        for i, name in enumerate(metrics):
            row = factors[i]
            if np.isfinite(row).all() and np.abs(row - 1.0).max() >= 0.1:
                weekly.append((name, row))
    return dict(metrics=metrics, kinds=kinds, starts=g["bucket_start_ms"][()], partial=partial, series=series,
                alerts=listed, mean_value=float(attr(g, "mean_conversion_value", 0.0) or 0.0),
                bucket_seconds=int(attr(g, "bucket_seconds", 86400) or 86400), weekly=weekly, explained=explained,
                covariates_file=str(attr(g, "covariates_file", "") or ""),
                coverage=str(attr(g, "covariate_coverage", "") or ""))


def alert_severity(a):
    """Alerts that cost conversions first (most lost first), then by |z|."""
    lost = a["impact"] if a["unit"] == "conversions" and a["impact"] > 0 else 0.0
    return (lost, abs(a["z"]) if math.isfinite(a["z"]) else 0.0)


def alert_impact_text(a, mean_value):
    impact, unit = a["impact"], a["unit"]
    if not math.isfinite(impact):
        return ""
    if unit == "conversions":
        if round(abs(impact)) < 1:
            return ""
        if impact > 0:
            value = f", worth about {impact * mean_value:,.0f} in conversion value" if mean_value > 0 else ""
            return f"about {impact:,.0f} conversions lost{value}"
        return f"about {-impact:,.0f} more conversions than expected"
    if unit == "events per journey":
        return f"{abs(impact):.1f} events per journey {'more' if impact > 0 else 'fewer'} than expected"
    if round(abs(impact)) < 1:
        return ""
    return f"{abs(impact):,.0f} {'more' if impact > 0 else 'fewer'} {unit} than expected"


def alert_sentence(a, mean_value):
    """One alert in words, every number taken from the alert itself."""
    kind = a["kind"]
    text = (f"{metric_label(a['metric'])} on {day_label(a['start_ms'])} was {fmt_metric(a['observed'], kind)} "
            f"against {fmt_metric(a['expected'], kind)} expected (normal range "
            f"{fmt_metric(a['lower'], kind)} to {fmt_metric(a['upper'], kind)})")
    impact = alert_impact_text(a, mean_value)
    return text + (f": {impact}." if impact else ".")


def calendar_sentences(alerts):
    """What the expected values already account for: the week's pattern and the covariates file."""
    out = []
    weekly = alerts.get("weekly") or []
    if weekly:
        # The journeys started tell the week best; otherwise the metric with the strongest pattern.
        starts = [item for item in weekly if item[0] == "journeys"]
        name, row = starts[0] if starts else max(weekly, key=lambda item: np.abs(item[1] - 1.0).max())
        detail = ""
        if len(row) == 7:  # daily buckets: phase 0 is Monday
            days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            low, high = int(np.argmin(row)), int(np.argmax(row))
            detail = (f" ({metric_label(name)}: {days[low]} at {row[low]:.0%} of the week's average, "
                      f"{days[high]} at {row[high]:.0%})")
        out.append(f"Expected values follow the weekly pattern of the {fmt_int(len(weekly))} "
                   f"metric{'s' if len(weekly) != 1 else ''} that have one{detail}, so an ordinary quiet day of the "
                   f"week is not an alert.")
    explained = alerts.get("explained") or []
    if explained:
        top = explained[0]
        kind = top["kind"]
        out.append(f"{fmt_int(len(explained))} deviation{'s' if len(explained) != 1 else ''} would have alerted "
                   f"without the covariates file and did not, because its factors explain "
                   f"{'them' if len(explained) != 1 else 'it'}; the largest: {metric_label(top['metric'])} on "
                   f"{day_label(top['start_ms'])} was {fmt_metric(top['observed'], kind)} against "
                   f"{fmt_metric(top['without'], kind)} without the factors and {fmt_metric(top['expected'], kind)} "
                   f"with them ({top['factors']}).")
    if alerts.get("coverage"):
        out.append("The covariates file does not match the data's period: " +
                   alerts["coverage"].split(": ", 1)[-1] + ".")
    return out


def alert_sentences(alerts):
    listed = alerts["alerts"]
    if not listed:
        judged = int((~alerts["partial"]).sum())
        return [f"No alerts were raised: every monitored metric stayed within its expected range on the {judged} "
                f"full days."] + calendar_sentences(alerts)
    ranked = sorted(listed, key=alert_severity, reverse=True)
    metrics = {a["metric"] for a in listed}
    days = {a["start_ms"] for a in listed}
    out = ["Biggest alert: " + alert_sentence(ranked[0], alerts["mean_value"])]
    out.append(f"{fmt_int(len(listed))} alert{'s' if len(listed) != 1 else ''} in all, on {len(metrics)} "
               f"metric{'s' if len(metrics) != 1 else ''} and {len(days)} day{'s' if len(days) != 1 else ''}"
               + (f"; the charts show the {min(len(metrics), MAX_ALERT_CHARTS)} most costly metrics"
                  if len(metrics) > 1 else "") + ".")
    partial = alerts["partial"]
    if partial.any():
        out.append(f"Partial days ({', '.join(day_label(alerts['starts'][b]) for b in np.nonzero(partial)[0])}) hold "
                   f"fewer than half the usual journey starts; they are drawn hollow and never alert.")
    return out + calendar_sentences(alerts)


def band_polygons(x, lower, upper):
    """x/y of one closed shape per run of buckets where both limits exist, separated by None (plotly's
    fill="toself" closes each segment), so days without a value leave a gap instead of a stray fill."""
    xs, ys = [], []
    finite = np.isfinite(lower) & np.isfinite(upper)
    b = 0
    while b < len(x):
        if not finite[b]:
            b += 1
            continue
        end = b
        while end < len(x) and finite[end]:
            end += 1
        run = range(b, end)
        xs += [x[i] for i in run] + [x[i] for i in reversed(run)] + [None]
        ys += [float(upper[i]) for i in run] + [float(lower[i]) for i in reversed(run)] + [None]
        b = end
    return dict(x=xs, y=ys)


def alert_charts(r, alerts):
    """One small chart per alerted metric: observed, expected, the normal range and the alerts."""
    listed = alerts["alerts"]
    series = alerts["series"]
    if not listed or series["observed"] is None:
        return ""
    order = []
    for a in sorted(listed, key=alert_severity, reverse=True):
        if a["metric"] not in order and a["metric"] in alerts["metrics"]:
            order.append(a["metric"])
    x = [day_label(ms) for ms in alerts["starts"]]
    partial = alerts["partial"]
    charts = []
    for name in order[:MAX_ALERT_CHARTS]:
        m = alerts["metrics"].index(name)
        kind = int(alerts["kinds"][m])
        floor = 0.0
        observed = series["observed"][m].astype(np.float64)
        line = np.where(partial, np.nan, observed)
        fig = go.Figure()
        if series["upper"] is not None and series["lower"] is not None:
            upper = series["upper"][m].astype(np.float64)
            lower = np.maximum(series["lower"][m].astype(np.float64), floor)
            if kind == METRIC_KIND_RATE:
                upper = np.minimum(upper, 1.0)
            fig.add_scatter(**band_polygons(x, lower, upper), mode="lines", line=dict(width=0), fill="toself",
                            fillcolor="rgba(100,116,139,0.18)", name="normal range", hoverinfo="skip")
        if series["expected"] is not None:
            fig.add_scatter(x=x, y=series["expected"][m], mode="lines", name="expected",
                            line=dict(color="#64748b", dash="dot"))
        fig.add_scatter(x=x, y=line, mode="lines", name="observed", line=dict(color=PALETTE[0], width=2))
        if partial.any():
            idx = np.nonzero(partial)[0]
            fig.add_scatter(x=[x[b] for b in idx], y=observed[idx], mode="markers", name="partial day",
                            marker=dict(symbol="circle-open", size=9, color="#94a3b8"))
        mine = [a for a in listed if a["metric"] == name]
        fig.add_scatter(x=[day_label(a["start_ms"]) for a in mine], y=[a["observed"] for a in mine], mode="markers",
                        name="alert", marker=dict(symbol="x", size=11, color="#e11d48"),
                        text=[alert_sentence(a, alerts["mean_value"]) for a in mine], hoverinfo="text")
        fig.update_layout(title=dict(text=f"{metric_label(name)}: {len(mine)} alert{'s' if len(mine) != 1 else ''}",
                                     font=dict(size=13)),
                          legend=dict(orientation="h", y=-0.25), hovermode="closest")
        if kind == METRIC_KIND_RATE:
            fig.update_yaxes(tickformat=".0%", rangemode="tozero")
        else:
            fig.update_yaxes(rangemode="tozero")
        charts.append(r.figure(fig, 300))
    return f'<div class="grid2">{"".join(charts)}</div>'



def section_compare(r):
    """/compare: two periods of journey starts, each compared rate with its test."""
    if "compare/kind" not in r.f:
        return
    g = r.f["compare"]
    kind, name = strings(g["kind"]), strings(g["name"])
    a_rate, b_rate = g["a_rate"][()], g["b_rate"][()]
    a_total, b_total = g["a_total"][()], g["b_total"][()]
    p_adj = g["p_adjusted"][()]
    level = float(attr(g, "significance_level", 0.05))
    def period(prefix):
        first, last = day_label(attr(g, f"{prefix}_from_ms")), day_label(attr(g, f"{prefix}_to_ms") - 1)
        return f"on {first}" if first == last else f"from {first} to {last}"

    period_a, period_b = period("a"), period("b")
    a_n, b_n = int(attr(g, "a_journeys", 0)), int(attr(g, "b_journeys", 0))
    sentences = [f"Period A: journeys starting {period_a} ({fmt_int(a_n)}); period B: starting {period_b} "
                 f"({fmt_int(b_n)})."]
    if kind and kind[0] == "conversion rate":
        verdict = (f"a difference of {100 * (a_rate[0] - b_rate[0]):+.1f} points, significant (adjusted p "
                   f"{p_adj[0]:.2g})" if p_adj[0] < level else
                   f"not a significant difference (adjusted p {p_adj[0]:.2g})")
        sentences.append(f"Journeys of period A convert at {fmt_pct(a_rate[0])}, those of B at {fmt_pct(b_rate[0])}: "
                         f"{verdict}.")
    significant = [i for i in range(len(kind)) if p_adj[i] < level]
    sentences.append(f"{len(significant)} of {len(kind)} compared rates differ at an adjusted p below {level:g} "
                     f"(Benjamini-Hochberg over all of them; two-proportion z-tests).")
    shown = [i for i in range(len(kind)) if kind[i] != "path share"]
    labels = [f"{kind[i]}: {short_path(name[i], 40)}" for i in shown]
    fig = go.Figure()
    fig.add_bar(y=labels[::-1], x=[a_rate[i] for i in shown][::-1], orientation="h", name="period A",
                marker_color=PALETTE[0])
    fig.add_bar(y=labels[::-1], x=[b_rate[i] for i in shown][::-1], orientation="h", name="period B",
                marker_color=PALETTE[1])
    fig.update_layout(title="Conversion and funnel step rates, period A against B", barmode="group",
                      xaxis=dict(tickformat=".0%"), yaxis=dict(automargin=True, type="category"),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0), margin=dict(t=80))
    rows = "".join(
        f"<tr><td>{html.escape(kind[i])}</td><td>{html.escape(name[i])}</td><td>{fmt_pct(a_rate[i])} of "
        f"{fmt_int(a_total[i])}</td><td>{fmt_pct(b_rate[i])} of {fmt_int(b_total[i])}</td>"
        f"<td>{p_adj[i]:.2g}{' *' if p_adj[i] < level else ''}</td></tr>" for i in range(len(kind)))
    table = ('<table class="data"><tr><th>What</th><th></th><th>Period A</th><th>Period B</th>'
             f'<th>Adjusted p (* below {level:g})</th></tr>{rows}</table>')
    r.section("compare", "Two periods compared", sentences, r.figure(fig, 60 + 34 * max(3, len(shown))) + table)


def section_anomalies(r):
    """/anomalies (flagged [n_journeys], top/*) and /alerts (bucket_start_ms, metrics, observed/expected
    [metrics x buckets], list/*)."""
    sentences, body = [], ""
    if "anomalies" in r.f and "journeys/start_ms" in r.f:
        g = r.f["anomalies"]
        start = r.f["journeys/start_ms"][()]
        flagged = None
        flag_key = next((k for k in ("flagged", "is_anomaly", "flags") if k in g), None)
        idx_key = next((k for k in ("journey", "journeys", "journey_index") if k in g), None)
        if flag_key is not None and len(g[flag_key]) == len(start):
            flagged = np.nonzero(g[flag_key][()])[0]
        elif idx_key is not None:
            flagged = g[idx_key][()].astype(np.int64)
        if flagged is not None and len(start):
            days_all = (start // 86400000).astype(np.int64)
            d0 = int(days_all.min())
            per_day = np.bincount(days_all - d0)
            flagged_days = (np.bincount(days_all[flagged] - d0, minlength=len(per_day)) if len(flagged)
                            else np.zeros_like(per_day))
            x = [str(dt.date(1970, 1, 1) + dt.timedelta(days=d0 + i)) for i in range(len(per_day))]
            fig = go.Figure(go.Scatter(x=x, y=flagged_days, mode="lines", line=dict(color="#e11d48"),
                                       name="anomalous journeys"))
            fig.update_layout(title="Anomalous journeys per day")
            body += r.figure(fig, 340)
            if len(flagged):
                peak = int(np.argmax(flagged_days))
                sentences.append(f"{fmt_int(len(flagged))} journeys are flagged as anomalous "
                                 f"({fmt_pct(ratio(len(flagged), len(start)), 2)}); the busiest day is {x[peak]} with "
                                 f"{fmt_int(flagged_days[peak])}.")
        if "top/path" in g and "top/score" in g:
            paths, scores = strings(g["top/path"]), g["top/score"][()]
            reasons = strings(g["top/reasons"]) if "top/reasons" in g else [""] * len(paths)
            rows = "".join(f"<tr><td>{scores[i]:.3g}</td><td>{html.escape(clip(paths[i], 160))}</td>"
                           f"<td>{html.escape(reasons[i])}</td></tr>" for i in range(min(10, len(paths))))
            body += ('<table class="data"><tr><th>Score</th><th>Path</th><th>Why</th></tr>' + rows + "</table>")
    if body:
        r.section("anomalies", "Unusual journeys", sentences, body)


def section_alerts(r):
    """/alerts: the biggest alert in words, then one chart per alerted metric."""
    alerts = r.alerts
    if alerts is None:
        return
    r.section("alerts", "Alerts: days when a journey metric left its normal range", alert_sentences(alerts),
              alert_charts(r, alerts))


BREAKDOWN_MIN_JOURNEYS = 30  # a value's rate is compared in a sentence only from this many journeys


def path_names(r, ids_text):
    return " > ".join(r.touchpoints[int(t)] if int(t) < len(r.touchpoints) else "?" for t in ids_text.split())


def section_breakdowns(r):
    """/breakdowns: the map split by each custom dimension (campaign, device, source, ...)."""
    if "breakdowns/dimensions" not in r.f:
        return
    g = r.f["breakdowns"]
    dimensions = strings(g["dimensions"])
    steps = strings(g["funnel_steps"])
    channels = strings(g["channels"])
    body, sentences = "", []
    for b, dimension in enumerate(dimensions):
        d = g[str(b)]
        values = strings(d["value"])
        journeys, converted = d["journeys"][()], d["converted"][()]
        if len(values) == 0:
            continue
        rates = [ratio(converted[i], journeys[i]) for i in range(len(values))]
        reached = d["funnel_reached"][()].reshape(len(values), len(steps)) if steps else None
        markov = d["channel_markov"][()].reshape(len(values), len(channels)) if channels else None
        path_group, path_text = d["path_group"][()], strings(d["path_touchpoints"])
        path_journeys = d["path_journeys"][()]
        total = int(sum(journeys))
        distinct = int(attr(d, "distinct_values", len(values)))
        comparable = [i for i in range(len(values)) if journeys[i] >= BREAKDOWN_MIN_JOURNEYS and values[i] != "(none)"]
        if len(comparable) > 1:
            hi = max(comparable, key=lambda i: rates[i])
            lo = min(comparable, key=lambda i: rates[i])
            # One test over all compared values (not the extreme pair, which would be chosen after looking).
            table = [[converted[i], journeys[i] - converted[i]] for i in comparable]
            p = chi2_contingency(table, correction=False)[1] if min(map(sum, zip(*table))) > 0 else 1.0
            verdict = (f"the {len(comparable)} values differ more than chance explains (chi-square p = {p:.2g})"
                       if p < 0.05 else f"within what chance gives (chi-square p = {p:.2g} over {len(comparable)} values)")
            sentences.append(f"By {dimension} ({fmt_int(distinct)} values), journeys of {values[hi]} convert at "
                             f"{fmt_pct(rates[hi])} ({fmt_int(journeys[hi])} journeys) and of {values[lo]} at "
                             f"{fmt_pct(rates[lo])} ({fmt_int(journeys[lo])}): {verdict}.")
        none = [i for i in range(len(values)) if values[i] == "(none)"]
        if none:
            sentences.append(f"{fmt_int(journeys[none[0]])} of {fmt_int(total)} journeys "
                             f"({fmt_pct(ratio(journeys[none[0]], total))}) carry no {dimension}.")
        fig = go.Figure()
        fig.add_bar(x=values, y=rates, marker_color=PALETTE[b % len(PALETTE)],
                    text=[fmt_int(n) for n in journeys], hovertemplate="%{x}: %{y:.1%} of %{text} journeys<extra></extra>")
        fig.update_layout(title=f"Conversion rate by {dimension} (bar labels: journeys)", yaxis=dict(tickformat=".0%"),
                          xaxis=dict(type="category", tickangle=-30, automargin=True))
        body += r.figure(fig, 340)
        rows = ""
        for i, value in enumerate(values):
            completion = fmt_pct(ratio(reached[i, -1], journeys[i])) if reached is not None and len(steps) else "-"
            top_channel = "-"
            if markov is not None and len(channels) > 1 and markov[i].sum() > 0:
                c = int(np.argmax(markov[i]))
                top_channel = f"{channels[c]} ({fmt_pct(ratio(markov[i, c], markov[i].sum()))})"
            paths = [k for k in range(len(path_group)) if path_group[k] == i]
            top_path = (f"{clip(path_names(r, path_text[paths[0]]), 60)} ({fmt_int(path_journeys[paths[0]])})"
                        if paths else "-")
            rows += (f"<tr><td>{html.escape(value)}</td><td>{fmt_int(journeys[i])}</td><td>{fmt_pct(rates[i])}</td>"
                     f"<td>{completion}</td><td>{html.escape(top_channel)}</td><td>{html.escape(top_path)}</td></tr>")
        body += (f'<table class="data"><tr><th>{html.escape(dimension)}</th><th>Journeys</th><th>Converted</th>'
                 f'<th>Complete the funnel</th><th>Top channel (Markov credit)</th><th>Most common path</th></tr>'
                 f'{rows}</table>')
    if not body:
        return
    note = ('<p class="note">A journey counts under the value of its first event that has one. Values differ in whom '
            'they reach as well as in how journeys go: these splits describe, they do not measure an effect. '
            f'The funnel is the run\'s ({html.escape(" > ".join(steps))}).</p>')
    r.section("breakdowns", "Breakdowns by dimension", sentences, body + note)


def pp(x):
    """A difference of rates in percentage points."""
    return f"{100 * x:+.2f} points"


def section_experiment(r):
    """/experiments: each treatment against the control, per customer from the first exposure."""
    if "experiments/variant" not in r.f:
        return
    g = r.f["experiments"]
    variants = strings(g["variant"])
    customers, converted = g["customers"][()], g["converted"][()]
    treatments = strings(g["treatment"])
    control = attr(g, "control", variants[0] if variants else "?")
    alpha = float(attr(g, "alpha", 0.05))
    level = f"{100 * (1 - alpha):.0f}%"
    rates = [ratio(converted[v], customers[v]) for v in range(len(variants))]
    sentences = [f"Experiment on {attr(g, 'dimension', '?')}: {fmt_int(int(customers.sum()))} customers in "
                 f"{len(variants)} variants, control {control}; each customer counts once, with what their journeys "
                 f"achieved from their first exposure on."]
    several = int(attr(g, "customers_in_several_variants", 0))
    if several:
        sentences.append(f"{fmt_int(several)} customers appear in several variants and are left out (an assignment or "
                         f"logging fault).")
    if int(attr(g, "sample_ratio_mismatch", 0)):
        sentences.append(f"Sample ratio mismatch (chi-square p = {float(attr(g, 'sample_ratio_p', 1)):.2g}): the "
                         f"customers per variant differ from the planned split, so the comparisons below cannot be "
                         f"trusted until the assignment is explained.")
    for t, name in enumerate(treatments):
        s = variants.index(name) if name in variants else t + 1
        diff, low, high = g["conversion_difference"][t], g["conversion_ci_low"][t], g["conversion_ci_high"][t]
        p, av_low, av_high = g["conversion_p"][t], g["always_valid_ci_low"][t], g["always_valid_ci_high"][t]
        verdict = "a difference" if p < alpha else "no difference the data can tell apart from chance"
        sentences.append(f"{name} converts {fmt_pct(rates[s])} of its customers against {fmt_pct(rates[0])} for "
                         f"{control}: {pp(diff)} ({level} interval {100 * low:+.2f} to {100 * high:+.2f}, p = {p:.2g}), "
                         f"{verdict}. Valid however often the result was looked at: {100 * av_low:+.2f} to "
                         f"{100 * av_high:+.2f} points.")
    z = 1.959963984540054
    fig = go.Figure()
    fig.add_bar(x=[f"{name} ({fmt_int(customers[v])} customers)" for v, name in enumerate(variants)], y=rates,
                marker_color=[PALETTE[v % len(PALETTE)] for v in range(len(variants))],
                error_y=dict(type="data", array=[z * math.sqrt(max(rates[v] * (1 - rates[v]), 0) / max(customers[v], 1))
                                                 for v in range(len(variants))]),
                hovertemplate="%{x}: %{y:.2%} converted<extra></extra>")
    fig.update_layout(title="Customers converted per variant (bars: 95% interval of each rate)",
                      yaxis=dict(tickformat=".1%"), xaxis=dict(type="category"))
    body = r.figure(fig, 340)
    days = g["day_start_ms"][()]
    if len(days) > 1:
        daily_n = g["daily_customers"][()].reshape(len(variants), len(days))
        daily_x = g["daily_converted"][()].reshape(len(variants), len(days))
        labels = [day_label(int(d)) for d in days]
        fig2 = go.Figure()
        for v, name in enumerate(variants):
            fig2.add_scatter(x=labels, y=[ratio(daily_x[v, d], daily_n[v, d]) for d in range(len(days))], name=name,
                             mode="lines", line=dict(color=PALETTE[v % len(PALETTE)]))
        fig2.update_layout(title="Conversion rate known at the end of each day, per variant", yaxis=dict(tickformat=".1%"))
        body += r.figure(fig2, 320)
    rows = ""
    for t, name in enumerate(treatments):
        cuped = ""
        if attr(g, "covariate", "none") != "none":
            cuped = (f"{100 * g['cuped_ci_low'][t]:+.2f} to {100 * g['cuped_ci_high'][t]:+.2f} "
                     f"({fmt_pct(g['cuped_variance_reduction'][t])} less variance)")
        rows += (f"<tr><td>{html.escape(name)} vs {html.escape(control)}</td><td>{pp(g['conversion_difference'][t])}</td>"
                 f"<td>{100 * g['conversion_ci_low'][t]:+.2f} to {100 * g['conversion_ci_high'][t]:+.2f}</td>"
                 f"<td>{g['conversion_p'][t]:.2g}</td><td>{100 * g['relative_lift'][t]:+.1f}%</td>"
                 f"<td>{100 * g['always_valid_ci_low'][t]:+.2f} to {100 * g['always_valid_ci_high'][t]:+.2f}</td>"
                 f"<td>{html.escape(cuped)}</td><td>{g['value_difference'][t]:+,.2f} (p {g['value_p'][t]:.2g})</td></tr>")
    body += ('<table class="data"><tr><th>Comparison</th><th>Conversion</th><th>' + level + ' interval (points)</th>'
             '<th>p</th><th>Relative</th><th>Always-valid interval</th><th>CUPED interval</th>'
             '<th>Value per customer</th></tr>' + rows + '</table>')
    if "experiments/segment" in r.f and len(g["segment"]):
        segment = strings(g["segment"])
        seg_treatment = strings(g["segment_treatment"])
        q = g["segment_q"][()]
        order = sorted(range(len(segment)), key=lambda i: q[i])[:12]
        significant = sum(1 for v in q if v < alpha)
        sentences.append(f"By {attr(g, 'segment_by', '?')}: {significant} of {len(segment)} segment effects have a "
                         f"q-value below {alpha:g} (Benjamini-Hochberg over all of them).")
        seg_rows = "".join(
            f"<tr><td>{html.escape(segment[i])}</td><td>{html.escape(seg_treatment[i])}</td>"
            f"<td>{fmt_int(g['segment_control_customers'][i])} / {fmt_int(g['segment_treatment_customers'][i])}</td>"
            f"<td>{pp(g['segment_difference'][i])}</td><td>{q[i]:.2g}</td></tr>" for i in order)
        body += ('<table class="data"><tr><th>Segment</th><th>Treatment</th><th>Customers (control / treatment)</th>'
                 '<th>Conversion</th><th>q</th></tr>' + seg_rows + '</table>')
    note = ('<p class="note">Fixed-horizon intervals and p-values hold when the end of the data is the planned end of '
            'the test; the always-valid interval (mixture sequential test over daily looks) holds however often the '
            'result was looked at. CUPED adjusts for each customer\'s behaviour before exposure.</p>')
    r.section("experiment", "Experiment: treatments against the control", sentences, body + note)


def section_proposals(r):
    """/proposals: friction points ranked into experiments, with the test each needs."""
    if "proposals/hypothesis" not in r.f:
        return
    g = r.f["proposals"]
    hypotheses = strings(g["hypothesis"])
    if not hypotheses:
        return
    kind = strings(g["kind"])
    extra, sample, days = g["extra_conversions_per_day"][()], g["sample_size_per_arm"][()], g["days_needed"][()]
    base, target = g["baseline_rate"][()], g["target_rate"][()]
    mde = float(attr(g, "minimum_detectable_effect", 0.05))
    power = float(attr(g, "power", 0.8))
    if not (np.asarray(extra, dtype=float) > 0).any():
        # Proposals are priced in extra conversions: without any, there is nothing to rank or test.
        none = " (these journeys hold no conversion)" if r.average_rate == 0 else ""
        r.section("proposals", "Proposed experiments",
                  [f"No experiment is proposed: none of the friction points would add a conversion at today's "
                   f"rates{none}, so none can be priced or tested in conversions."], "")
        return
    sentences = [f"The friction points where a {100 * mde:.0f}% relative improvement would add the most conversions, "
                 f"each with the A/B test that would detect it ({100 * power:.0f}% power, two-sided alpha "
                 f"{float(attr(g, 'alpha', 0.05)):g}).",
                 f"First: {hypotheses[0]}; a test needs {fmt_int(sample[0])} journeys per arm, about "
                 f"{math.ceil(days[0])} days at the current traffic."]
    # The share of journeys lost, as the sentences state it: not going on (funnel), ending there (abandonment).
    lost = [(1 - base[i], 1 - target[i]) if kind[i] == "funnel step" else (base[i], target[i]) for i in range(len(kind))]
    rows = "".join(
        f"<tr><td>{i + 1}</td><td>{html.escape(kind[i])}</td><td>{html.escape(hypotheses[i])}</td>"
        f"<td>{fmt_pct(lost[i][0])} &rarr; {fmt_pct(lost[i][1])}</td><td>{extra[i]:.1f}</td><td>{fmt_int(sample[i])}</td>"
        f"<td>{math.ceil(days[i])}</td></tr>" for i in range(len(hypotheses)))
    body = ('<table class="data"><tr><th>#</th><th>Kind</th><th>Hypothesis</th><th>Journeys lost now &rarr; target</th>'
            '<th>Extra conversions a day</th><th>Journeys per arm</th><th>Days</th></tr>' + rows + '</table>'
            '<p class="note">Extra conversions assume the journeys kept going convert like those that go on today '
            '(for an anomaly cluster, that each journey no longer lost converts): an estimate of where a change would '
            'pay most if it worked, not of what it will do; the test measures that.</p>')
    r.section("proposals", "Proposed experiments", sentences, body)


def section_monitoring(r):
    """/monitoring: new journeys against the model's training profile, bucket by bucket."""
    if "monitoring/status" not in r.f:
        return
    g = r.f["monitoring"]
    status = strings(g["status"])
    if not status:
        return
    starts = g["bucket_start_ms"][()]
    x = [day_label(ms) for ms in starts]
    journeys, score_psi, max_psi = g["journeys"][()], g["score_psi"][()], g["max_feature_psi"][()]
    max_feature, auc = strings(g["max_feature"]), g["auc"][()]
    observed, predicted = g["observed_rate"][()], g["mean_predicted"][()]
    watch, retrain = float(attr(g, "psi_watch", 0.1)), float(attr(g, "psi_retrain", 0.25))
    reference_auc = float(attr(g, "reference_auc", float("nan")))
    recommendation = str(attr(g, "recommendation", ""))
    flagged = [i for i, s in enumerate(status) if s in ("watch", "retrain")]
    sentences = [f"{len(status)} buckets of {float(attr(g, 'bucket_days', 7)):g} days ({fmt_int(int(journeys.sum()))} "
                 f"journeys) compared with the {fmt_int(int(attr(g, 'reference_journeys', 0)))} journeys the model "
                 f"was trained on; recommendation: {recommendation}."]
    if flagged:
        first = flagged[0]
        sentences.append(f"First bucket judged '{status[first]}': from {x[first]}, where {max_feature[first]} moved most "
                         f"(PSI {max_psi[first]:.2f}; {watch:g} is worth watching, {retrain:g} calls for retraining).")
    else:
        sentences.append(f"No bucket's features or scores moved beyond a PSI of {watch:g}.")
    finite = [i for i in range(len(auc)) if np.isfinite(auc[i])]
    if finite and np.isfinite(reference_auc):
        worst = min(finite, key=lambda i: auc[i])
        sentences.append(f"ROC-AUC on matured journeys: {auc[worst]:.3f} at worst ({x[worst]}) against "
                         f"{reference_auc:.3f} on the training's held-out journeys.")
    reference_rate = float(attr(g, "reference_rate", float("nan")))
    reference_score = float(attr(g, "reference_mean_score", float("nan")))
    if np.isfinite(reference_rate) and np.isfinite(reference_score):
        sentences.append(f"Calibration: on the training's held-out journeys the mean prediction was "
                         f"{fmt_pct(reference_score)} against {fmt_pct(reference_rate)} observed; a bucket whose gap "
                         f"differs from that one has moved.")
    drift = go.Figure()
    drift.add_scatter(x=x, y=max_psi, mode="lines+markers", name="largest feature PSI", line=dict(color=PALETTE[0], width=2),
                      text=max_feature, hovertemplate="%{x}: %{text} %{y:.2f}<extra></extra>")
    drift.add_scatter(x=x, y=score_psi, mode="lines+markers", name="score PSI", line=dict(color=PALETTE[1], width=2))
    for level, label in ((watch, "watch"), (retrain, "retrain")):
        drift.add_scatter(x=[x[0], x[-1]], y=[level, level], mode="lines", name=label,
                          line=dict(color="#f59e0b" if label == "watch" else "#e11d48", dash="dot"))
    drift.update_layout(title=dict(text="Drift per bucket (population stability index)", font=dict(size=13)),
                        legend=dict(orientation="h", y=-0.25))
    drift.update_yaxes(rangemode="tozero")
    quality = go.Figure()
    quality.add_scatter(x=x, y=auc, mode="lines+markers", name="ROC-AUC (matured journeys)", line=dict(color=PALETTE[0], width=2))
    if np.isfinite(reference_auc):
        quality.add_scatter(x=[x[0], x[-1]], y=[reference_auc, reference_auc], mode="lines", name="training held-out",
                            line=dict(color="#64748b", dash="dot"))
    quality.add_scatter(x=x, y=observed, mode="lines+markers", name="observed rate", line=dict(color=PALETTE[2], width=2))
    quality.add_scatter(x=x, y=predicted, mode="lines+markers", name="mean predicted", line=dict(color=PALETTE[3], dash="dash"))
    if np.isfinite(reference_rate):
        quality.add_scatter(x=[x[0], x[-1]], y=[reference_rate, reference_rate], mode="lines", name="training observed",
                            line=dict(color=PALETTE[2], dash="dot", width=1))
    quality.update_layout(title=dict(text="Ranking and calibration per bucket", font=dict(size=13)),
                          legend=dict(orientation="h", y=-0.25))
    quality.update_yaxes(range=[0, 1])
    rows = "".join(f"<tr><td>{x[i]}</td><td>{fmt_int(int(journeys[i]))}</td><td>{score_psi[i]:.3f}</td>"
                   f"<td>{html.escape(max_feature[i])} ({max_psi[i]:.2f})</td>"
                   f"<td>{'-' if not np.isfinite(auc[i]) else f'{auc[i]:.3f}'}</td><td>{html.escape(status[i])}</td></tr>"
                   for i in range(len(status)))
    body = (f'<div class="grid2">{r.figure(drift, 320)}{r.figure(quality, 320)}</div>'
            '<table class="data"><tr><th>Bucket from</th><th>Journeys</th><th>Score PSI</th>'
            '<th>Feature that moved most (PSI)</th><th>ROC-AUC</th><th>Status</th></tr>' + rows + '</table>'
            '<p class="note">Recency, the customer\'s journey number and the weekday are compared but not judged: they '
            'say when a journey happened, not what happened in it. Journeys count for ROC-AUC and calibration once '
            'their last event is older than the maturity period, whatever their outcome (the latest buckets have '
            'none yet).</p>')
    r.section("monitoring", "Model monitoring", sentences, body)


def section_bandit(r):
    """/bandit: the simulator's regret curves and the off-policy estimates."""
    if "bandit/simulation/policies" in r.f:
        g = r.f["bandit/simulation"]
        policies = strings(g["policies"])
        checkpoints = g["checkpoints"][()]
        regret = g["cumulative_regret"][()]
        mean_reward = g["mean_reward"][()]
        best = str(attr(g, "best_fixed_action", ""))
        sentences = [f"{fmt_int(int(attr(g, 'decisions', 0)))} decisions replayed in time order; the best action for "
                     f"every decision would earn {float(attr(g, 'oracle_mean_reward', 0)):.4f} per decision.",
                     f"Thompson sampling ends with a cumulative regret of {regret[0][-1]:.0f} against "
                     f"{regret[1][-1]:.0f} for a uniform split and {regret[policies.index('always ' + best)][-1]:.0f} "
                     f"for the best fixed action ({best})." if "always " + best in policies else ""]
        fig = go.Figure()
        for q, name in enumerate(policies):
            fig.add_scatter(x=checkpoints, y=regret[q], mode="lines", name=f"{name} ({mean_reward[q]:.4f} per decision)",
                            line=dict(color=PALETTE[q % len(PALETTE)], width=3 if q == 0 else 1.5))
        fig.update_layout(title=dict(text="Cumulative regret against the best action for every decision", font=dict(size=13)),
                          xaxis_title="decisions", legend=dict(orientation="h", y=-0.3))
        r.section("bandit-simulation", "Bandit simulation", sentences, r.figure(fig, 380))
    if "bandit/evaluation/policy" in r.f:
        g = r.f["bandit/evaluation"]
        policy = strings(g["policy"])
        cols = {k: g[k][()] for k in ("decisions", "ips", "ips_low", "ips_high", "dr", "dr_low", "dr_high",
                                      "effective_sample_size")}
        best = max(range(len(policy)), key=lambda i: cols["dr"][i]) if policy else 0
        sentences = [f"Logged mean reward {float(attr(g, 'logged_mean_reward', 0)):.4f}; what other policies would have "
                     f"earned on the same decisions, estimated from the logged propensities.",
                     f"Highest doubly robust estimate: {policy[best]}, {cols['dr'][best]:.4f} "
                     f"[{cols['dr_low'][best]:.4f}, {cols['dr_high'][best]:.4f}]." if policy else ""]
        rows = "".join(f"<tr><td>{html.escape(policy[i])}</td><td>{fmt_int(int(cols['decisions'][i]))}</td>"
                       f"<td>{cols['ips'][i]:.4f} [{cols['ips_low'][i]:.4f}, {cols['ips_high'][i]:.4f}]</td>"
                       f"<td>{cols['dr'][i]:.4f} [{cols['dr_low'][i]:.4f}, {cols['dr_high'][i]:.4f}]</td>"
                       f"<td>{cols['effective_sample_size'][i]:.0f}</td></tr>" for i in range(len(policy)))
        body = ('<table class="data"><tr><th>Policy</th><th>Decisions</th><th>Inverse propensity</th>'
                '<th>Doubly robust</th><th>Effective sample size</th></tr>' + rows + '</table>'
                '<p class="note">Intervals are normal intervals at the confidence chosen with --alpha (95% by default). The learnt policy was fitted on the earlier half '
                'of the decisions and is judged on the later half only, so its row covers other decisions than the '
                'rest. Estimates hold only as far as the logged propensities are right.</p>')
        r.section("bandit-evaluation", "Off-policy evaluation", sentences, body)


def generic_section(r, group, title):
    """Fallback for a stage whose layout this report does not know yet: list what it holds."""
    g = r.f[group]
    rows = []
    for k in sorted(g):
        obj = g[k]
        rows.append(f"<tr><td>{html.escape(k)}</td><td>{'group' if isinstance(obj, h5py.Group) else obj.shape}</td></tr>")
    attrs = ", ".join(f"{k} = {attr(g, k)}" for k in g.attrs)
    sentences = [f"The {group} stage wrote {len(rows)} items" + (f" ({attrs})." if attrs else ".")]
    r.section(group, title, sentences, f'<table class="data"><tr><th>Item</th><th>Shape</th></tr>{"".join(rows)}</table>')


SECTIONS = [section_headline, section_alerts, section_experiment, section_compare, section_sankey, section_paths, section_funnel, section_friction, section_attribution,
            section_breakdowns, section_proposals, section_patterns, section_segments, section_model, section_anomalies,
            section_monitoring, section_bandit]


# ---------------------------------------------------------------- page

CSS = """
body{font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#f8fafc;color:#0f172a}
header{background:#0f172a;color:#f8fafc;padding:28px 48px}header h1{margin:0;font-size:26px}
header p{margin:6px 0 0;color:#cbd5e1}nav{padding:10px 48px;background:#e2e8f0;font-size:13px}
nav a{margin-right:16px;color:#1e3a8a;text-decoration:none}main{padding:8px 48px 48px}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:20px 28px;margin:22px 0}
section h2{margin:0 0 10px;font-size:20px}.insights{margin:0 0 12px;padding-left:20px;line-height:1.55}
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin-top:6px}.tile{background:#eff6ff;border-radius:8px;padding:12px 16px;min-width:150px}
.tile-value{font-size:22px;font-weight:600}.tile-label{font-size:12px;color:#475569;margin-top:2px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}.note{font-size:12px;color:#64748b}
.drill{margin-top:10px}.drill summary{cursor:pointer;color:#1d4ed8;font-weight:600;margin:6px 0}
table.data{border-collapse:collapse;font-size:13px;margin-top:10px;width:100%}
table.data th,table.data td{border-bottom:1px solid #e2e8f0;padding:5px 8px;text-align:left}
footer{padding:0 48px 30px;font-size:12px;color:#64748b}
.banner{margin:18px 48px 0;padding:14px 20px;border-radius:10px;background:#fef3c7;border:1px solid #f59e0b;color:#78350f;font-size:14px}
.banner ul{margin:6px 0 0;padding-left:20px;line-height:1.5}
"""

ERROR_HOOK = """
window.__jmErrors = [];
window.__jmRecordError = function (message) {
  window.__jmErrors.push(String(message));
  document.documentElement.setAttribute('data-jm-errors', window.__jmErrors.join(' | '));
};
window.addEventListener('error', function (e) { window.__jmRecordError(e.message || e); });
window.addEventListener('unhandledrejection', function (e) { window.__jmRecordError(e.reason); });
window.__jmPlots = [];
"""


def script_safe(payload):
    """JSON inside <script>: names from the data (touchpoints, channels, customer ids) may hold
    "</script>" or "<!--"; escaped as \\u003c, \\u003e and \\u0026 they stay the same strings
    for the JavaScript and can never end the script element."""
    return payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(r, title):
    plots = []
    for div, fig in r.figures:
        spec = fig.to_plotly_json()
        payload = script_safe(json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {})},
                                         cls=plotly.utils.PlotlyJSONEncoder))
        plots.append(f"(function(){{var s={payload};window.__jmPlots.push(Plotly.newPlot('{div}', s.data, s.layout, "
                     f"{{responsive:true,displaylogo:false}}));}})();")
    done = ("Promise.all(window.__jmPlots).then(function(){document.body.setAttribute('data-jm-rendered', "
            "String(window.__jmPlots.length));}).catch(function(e){window.__jmRecordError(e);});")
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in r.sections)
    banner = ""
    warnings = strings(r.f["meta/warnings"]) if "meta/warnings" in r.f else []
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        banner = (f'<div class="banner" role="alert"><strong>{len(warnings)} warning(s) about this result</strong>'
                  f'<ul>{items}</ul></div>')
    sections = "".join(f'<section id="{a}"><h2>{html.escape(t)}</h2>{body}</section>' for a, t, body in r.sections)
    meta = r.f["meta"] if "meta" in r.f else None
    subtitle = "Customer journey analytics"
    if meta is not None:
        subtitle += f" · journeymap {attr(meta, 'journeymap_version', '?')} · {attr(meta, 'created_utc', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>{ERROR_HOOK}</script>
<style>{CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head><body data-jm-expected="{len(r.figures)}">
<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>
<nav>{nav}</nav>{banner}<main>{sections}</main>
<footer>Generated by journeymap from {html.escape(r.f.filename)}. Charts: plotly.js {plotly.__version__}
(embedded; this file works offline).</footer>
<script>{"".join(plots)}{done}</script>
</body></html>
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the journeymap HTML report of a result file.")
    parser.add_argument("result", help="HDF5 result file written by journeymap")
    parser.add_argument("-o", "--out", default="report.html", help="HTML file to write")
    parser.add_argument("--title", default="Customer journey report")
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and os.path.samefile(args.out, args.result):
        print(f"report: -o {args.out} is the result file itself; choose another output", file=sys.stderr)
        return 2
    try:
        f = h5py.File(args.result, "r")
    except OSError as error:
        print(f"report: cannot open {args.result}: {error}", file=sys.stderr)
        return 1
    with f:
        if attr(f["meta"], "format", "") != "journeymap-result" if "meta" in f else True:
            print(f"report: {args.result} is not a journeymap result file", file=sys.stderr)
            return 1
        r = Report(f)
        for section in SECTIONS:
            section(r)
        page = render(r, args.title)
    # A temporary name of this process only, removed on any failure (a full disk, a signal), so two
    # reports to one file never mix and a failed write never leaves a partial file behind.
    tmp = f"{args.out}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(tmp, args.out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    print(f"report: {len(r.sections)} sections, {len(r.figures)} charts -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
