#!/usr/bin/env python3
"""Scores cleave's hazards against the hand audit in tests/field/hazards-audit.md.

usage: tools/field-hazards.py [--by-code] AUDIT.md APP=ANALYSIS.json [APP=ANALYSIS.json ...]

The audit has, per app (`## <app>`), a findings table (`| # | `code` file:line `item` |
verdict | why |`, verdicts `real`, `noise`, `real-but-wrong-message`) and a recall table
(`| `code` | file:line | hazard | reported | note |`, where a `yes` row names the
finding numbers in brackets). For each app's current analysis this prints: findings
now, of them audited real / noise / not audited; precision over the audited ones;
real hazards by reading and how many are reported now (a `yes` row still reported
when one of its findings is; a `no` row when a finding of its code sits at its site or
is one its note names in brackets). With --by-code it then prints the same over all apps
per hazard code, as a markdown table.
"""
import json
import re
import sys
from collections import defaultdict


def parse(audit):
    apps = {}
    app = None
    for line in open(audit, encoding="utf-8"):
        m = re.match(r"^## (\S+)\s*$", line)
        if m:
            app = m.group(1)
            apps[app] = {"findings": {}, "recall": []}
            continue
        if app is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.match(r"^`([a-z-]+)` (\S+):(\d+)", cells[1]) if len(cells) >= 4 else None
        if m and cells[0].isdigit():
            code, file, ln = m.group(1), m.group(2), int(m.group(3))
            verdict = cells[2]
            apps[app]["findings"][int(cells[0])] = (code, file, ln, verdict)
            continue
        m = re.match(r"^`([a-z-]+)`$", cells[0]) if len(cells) >= 4 else None
        if m:
            site = re.match(r"^(\S+?):(\d+)", cells[1])
            if not site:
                continue
            refs = [int(x) for x in re.findall(r"\[(\d+)\]", cells[4] if len(cells) > 4 else "")]
            refs += [int(a) + i for a, b in re.findall(r"\[(\d+)\]-\[(\d+)\]", cells[4] if len(cells) > 4 else "")
                     for i in range(int(b) - int(a) + 1)]
            apps[app]["recall"].append((m.group(1), site.group(1), int(site.group(2)),
                                         cells[3].lower().startswith("yes"), refs))
    return apps


def main():
    args = sys.argv[1:]
    by_code = "--by-code" in args
    args = [a for a in args if a != "--by-code"]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    audit = parse(args[0])
    totals = defaultdict(int)
    codes = defaultdict(lambda: defaultdict(int))
    print(f"{'app':14} {'now':>4} {'real':>4} {'noise':>5} {'new':>4} {'P':>5}   {'truth':>5} {'found':>5} {'R':>5}")
    for arg in args[1:]:
        app, path = arg.split("=", 1)
        a = audit.get(app)
        if a is None:
            print(f"{app}: not in the audit", file=sys.stderr)
            continue
        hz = json.load(open(path))["hazards"]
        now = {(h["code"], h["file"], h["line"]) for h in hz}
        by_site = {(c, f, l): v for c, f, l, v in a["findings"].values()}
        real = sum(1 for k in now if k in by_site and by_site[k] != "noise")
        noise = sum(1 for k in now if by_site.get(k) == "noise")
        new = sum(1 for k in now if k not in by_site)
        for k in now:
            if k in by_site:
                codes[k[0]]["noise" if by_site[k] == "noise" else "real"] += 1
        found = 0
        for code, file, ln, was, refs in a["recall"]:
            sites = {a["findings"][r][:3] for r in refs if r in a["findings"]}
            sites.add((code, file, ln))
            codes[code]["truth"] += 1
            if sites & now:
                found += 1
                codes[code]["found"] += 1
        truth = len(a["recall"])
        p = real / (real + noise) if real + noise else 1.0
        r = found / truth if truth else 1.0
        print(f"{app:14} {len(now):4} {real:4} {noise:5} {new:4} {p:5.2f}   {truth:5} {found:5} {r:5.2f}")
        for k, v in (("real", real), ("noise", noise), ("truth", truth), ("found", found)):
            totals[k] += v
    p = totals["real"] / max(1, totals["real"] + totals["noise"])
    r = totals["found"] / max(1, totals["truth"])
    print(f"{'all':14} {'':4} {totals['real']:4} {totals['noise']:5} {'':4} {p:5.2f}   {totals['truth']:5} {totals['found']:5} {r:5.2f}")
    if by_code:
        print()
        print("| code | real | noise | precision | real by reading | reported | recall |")
        print("|---|---|---|---|---|---|---|")
        rows = sorted(codes.items()) + [("**all**", totals)]
        for code, c in rows:
            p = f"{c['real'] / (c['real'] + c['noise']):.2f}" if c["real"] + c["noise"] else "-"
            r = f"{c['found'] / c['truth']:.2f}" if c["truth"] else "-"
            print(f"| {code} | {c['real']} | {c['noise']} | {p} | {c['truth']} | {c['found']} | {r} |")


if __name__ == "__main__":
    main()
