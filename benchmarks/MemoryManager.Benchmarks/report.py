#!/usr/bin/env python3
"""Turns BenchmarkDotNet's CSV reports into the tables and the plot of docs/performance.md.

usage: python3 benchmarks/MemoryManager.Benchmarks/report.py RESULTS_DIR [SVG_OUT]
RESULTS_DIR is BenchmarkDotNet's results folder (BenchmarkDotNet.Artifacts/results by default);
prints Markdown tables on stdout and, given SVG_OUT, writes a log-log plot of cost against
memory size (standard library only: no plotting package needed).
"""
import csv
import glob
import math
import os
import sys

UNITS = {"ns": 1.0, "us": 1e3, "\u03bcs": 1e3, "\u00b5s": 1e3, "ms": 1e6, "s": 1e9}


def ns(text):
    """'4,658.30 us' -> 4658300.0 (nanoseconds); None for NA."""
    text = text.strip()
    if not text or text == "NA":
        return None
    value, unit = text.rsplit(" ", 1)
    return float(value.replace(",", "")) * UNITS[unit]


def load(results):
    rows = []
    for path in sorted(glob.glob(os.path.join(results, "*-report.csv"))):
        klass = os.path.basename(path).split("-report")[0].split(".")[-1]
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                r["Class"] = klass
                rows.append(r)
    if not rows:
        sys.exit("no *-report.csv in " + results)
    return rows


def fmt(v):
    """Nanoseconds in the unit a reader wants."""
    if v is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("\u00b5s", 1e3)):
        if v >= scale:
            return "%.3g %s" % (v / scale, unit) if v / scale < 100 else "%.0f %s" % (v / scale, unit)
    return "%.3g ns" % v if v < 100 else "%.0f ns" % v


def size_name(mib):
    mib = int(mib)
    return "%d GiB" % (mib // 1024) if mib >= 1024 else "%d MiB" % mib


def table(rows, klass, methods, per_gib=False):
    sizes = sorted({int(r["SizeMiB"]) for r in rows if r["Class"] == klass})
    head = "| Benchmark | " + " | ".join(size_name(s) for s in sizes) + " |"
    out = [head, "|---" * (len(sizes) + 1) + "|"]
    for m in methods:
        cells = []
        for s in sizes:
            r = next((r for r in rows if r["Class"] == klass and r["Method"] == m and int(r["SizeMiB"]) == s), None)
            if r is None:
                cells.append("-")
                continue
            mean = ns(r["Mean"])
            cell = fmt(mean)
            low = ns(r.get("Min", ""))
            if low is not None and not per_gib:
                cell += " (min %s)" % fmt(low)
            if per_gib:
                cell += " (%s/GiB)" % fmt(mean * 1024.0 / s)
            b = BASELINE.get(m)
            br = next((x for x in rows if x["Class"] == klass and x["Method"] == b and int(x["SizeMiB"]) == s), None)
            if br is not None and mean:
                ratio = ns(br["Mean"]) / mean
                if ratio >= 1:
                    cell += " \u00b7 **%s\u00d7 faster**" % ("%.0f" % ratio if ratio >= 10 else "%.1f" % ratio)
                else:
                    cell += " \u00b7 %.1f\u00d7 slower" % (1 / ratio)
            alloc = r.get("Allocated", "").strip()
            if alloc and alloc not in ("-", "0 B"):
                cell += " \u00b7 alloc " + alloc
            cells.append(cell)
        out.append("| %s | %s |" % (m, " | ".join(cells)))
    return "\n".join(out)


# The RAT benchmark each buddy benchmark is compared with (same class, same size, same run).
BASELINE = {
    "Buddy_Order0Pair_Pcp": "Rat_Order0Pair", "Buddy_Order0Pair_NoPcp": "Rat_Order0Pair",
    "Buddy_Order3Pair": "Rat_Order3Pair",
    "Buddy_Order0Pair_Pcp_Empty": "Rat_Order0Pair_Empty", "Buddy_Order0Pair_NoPcp_Empty": "Rat_Order0Pair_Empty",
    "Buddy_Churn": "Rat_Churn", "Buddy_Init": "Rat_Init",
}

SERIES = [
    ("PairBenchmarks", "Rat_Order0Pair", "RAT order-0 pair", "#c0392b", "6,3"),
    ("PairBenchmarks", "Buddy_Order0Pair_Pcp", "buddy order-0 pair, pcp", "#1f77b4", ""),
    ("PairBenchmarks", "Buddy_Order0Pair_NoPcp", "buddy order-0 pair, no pcp", "#17becf", ""),
    ("PairBenchmarks", "Rat_Order3Pair", "RAT order-3 pair", "#e67e22", "6,3"),
    ("PairBenchmarks", "Buddy_Order3Pair", "buddy order-3 pair", "#2ca02c", ""),
    ("ChurnBenchmarks", "Rat_Churn", "RAT churn step", "#8e44ad", "6,3"),
    ("ChurnBenchmarks", "Buddy_Churn", "buddy churn step", "#7f7f7f", ""),
    ("ChurnBenchmarks", "Memmap_RandomTouch", "2 random descriptor reads", "#bbbbbb", "2,3"),
]


def svg(rows, path):
    w, h, left, right, top, bottom = 820, 520, 80, 250, 40, 60
    pw, ph = w - left - right, h - top - bottom
    pts = []
    for klass, method, label, color, dash in SERIES:
        p = sorted((int(r["SizeMiB"]), ns(r["Mean"])) for r in rows
                   if r["Class"] == klass and r["Method"] == method and ns(r["Mean"]))
        if p:
            pts.append((label, color, dash, p))
    xs = [s for _, _, _, p in pts for s, _ in p]
    ys = [v for _, _, _, p in pts for _, v in p]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    X = lambda s: left + (math.log10(s) - x0) / (x1 - x0) * pw
    Y = lambda v: top + ph - (math.log10(v) - y0) / (y1 - y0) * ph
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="14" font-weight="bold">Cost per operation against memory size (log-log; lower is better)</text>' % left]
    for e in range(int(y0), int(y1) + 1):
        y = Y(10 ** e)
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + pw, y))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, y + 4, fmt(10 ** e)))
    for s in sorted(set(xs)):
        x = X(s)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, top, x, top + ph))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, top + ph + 18, size_name(s)))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>' % (left, top, pw, ph))
    o.append('<text x="%d" y="%d" text-anchor="middle">memory managed (descriptors only)</text>' % (left + pw / 2, h - 15))
    for i, (label, color, dash, p) in enumerate(pts):
        d = " ".join("%.1f,%.1f" % (X(s), Y(v)) for s, v in p)
        da = ' stroke-dasharray="%s"' % dash if dash else ""
        o.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>' % (d, color, da))
        for s, v in p:
            o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (X(s), Y(v), color))
        ly = top + 10 + i * 22
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"%s/>' % (left + pw + 15, ly, left + pw + 45, ly, color, da))
        o.append('<text x="%d" y="%d">%s</text>' % (left + pw + 52, ly + 4, label))
    o.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = load(sys.argv[1])
    print("### Order-0 and order-3 alloc+free pairs (half-used, fragmented zone)\n")
    print(table(rows, "PairBenchmarks", ["Rat_Order0Pair", "Buddy_Order0Pair_Pcp", "Buddy_Order0Pair_NoPcp",
                                         "Rat_Order3Pair", "Buddy_Order3Pair"]))
    print("\n### Order-0 pair on an empty zone (nothing allocated yet)\n")
    print(table(rows, "PairBenchmarks", ["Rat_Order0Pair_Empty", "Buddy_Order0Pair_Pcp_Empty", "Buddy_Order0Pair_NoPcp_Empty"]))
    print("\n### Churn (per step: free one random live block, allocate one of the same order)\n")
    print(table(rows, "ChurnBenchmarks", ["Rat_Churn", "Buddy_Churn", "Memmap_RandomTouch"]))
    print("\n### Initialisation of the whole size\n")
    print(table(rows, "InitBenchmarks", ["Rat_Init", "Buddy_Init"], per_gib=True))
    if len(sys.argv) > 2:
        svg(rows, sys.argv[2])


if __name__ == "__main__":
    main()
