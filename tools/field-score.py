#!/usr/bin/env python3
"""Score cleave's route detection against the hand-written truth of tests/field/.

    field-score.py score [--min-f1 0.98] [--report-only] [--quiet] [--generate-results TSV]
                         APP=TRUTH_DIR=ANALYSIS_JSON ...
    field-score.py app APP_TOML        # app.toml as shell assignments, for field-test.sh

score: TRUTH_DIR holds routes.txt (`METHOD /path` a line, `#` comments) and
optionally mounts.txt (`static|external /path what`).  ANALYSIS_JSON is the
stdout of `cleave analyze --format json` (schema cleave.analysis/1); a missing
or unreadable file scores the app as found nothing and marks it `error`.  The
`http` entry points are compared with routes.txt as exact `METHOD path`
strings (a null method counts as ANY): precision, recall, F1, false positives
(`+`) and misses (`-`); a `static` entry point at a path routes.txt lists
(a file service at a route's exact path) counts as found.  Other entry points
are listed for information: `static`/`external` next to mounts.txt,
`worker`/`schedule` as found; they do not enter the score.  One line per app, then a table with the
totals over every route of every app (micro average).  Exit status 1 when an
app's F1 is below --min-f1 (or its analysis failed), unless --report-only.

--generate-results: the TSV field-test.sh --generate writes (app, generate,
check, seconds, functions, generated lines, monolith lines, check seconds,
monolith check seconds, warnings, monolith warnings); a second table shows it.

app: prints REPO, COMMIT, DIR, FRAMEWORK, PREPARE, CHECK_ENV (the `KEY=VALUE`
words of check_env) and CHECK_ARGS (its cargo flags: --features X,
--all-features, --no-default-features) as `NAME=<shell-quoted>` lines.
check_env may mix those with prose; each `;`-separated clause contributes its
leading words up to the first one that is neither.

Standard library only (Python 3.11+ for tomllib).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path

# A method: one upper-case token (GET, ANY, and WebDAV's PROPFIND, MKCOL).
METHOD = re.compile(r"[A-Z][A-Z-]*")


def read_truth(path: Path) -> tuple[list[str], list[str]]:
    """The route lines of routes.txt, and complaints about its form."""
    routes, problems = [], []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        method, _, rest = line.partition(" ")
        if not METHOD.fullmatch(method) or not rest.startswith("/") or " " in rest:
            problems.append(f"{path}:{n}: not `METHOD /path`: {raw!r}")
        routes.append(line)
    if routes != sorted(routes):
        problems.append(f"{path}: route lines are not sorted (LC_ALL=C sort)")
    dups = sorted({r for r in routes if routes.count(r) > 1})
    if dups:
        problems.append(f"{path}: duplicate lines: {', '.join(dups)}")
    return routes, problems


def read_mounts(path: Path) -> list[tuple[str, str, str]]:
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        out.append((parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""))
    return out


def read_analysis(path: Path) -> tuple[list[dict] | None, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return None, f"no analysis ({e.__class__.__name__}: {e})"
    eps = data.get("entrypoints") if isinstance(data, dict) else None
    if not isinstance(eps, list):
        return None, "no `entrypoints` array in the analysis"
    return eps, ""


def route_of(ep: dict) -> str:
    method = (ep.get("method") or "ANY").upper()
    return f"{method} {ep.get('path')}"


def prf(tp: int, found: int, truth: int) -> tuple[float, float, float]:
    p = tp / found if found else (1.0 if truth == 0 else 0.0)
    r = tp / truth if truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score_app(name: str, truth_dir: Path, analysis: Path, quiet: bool) -> dict:
    truth, problems = read_truth(truth_dir / "routes.txt")
    for p in problems:
        print(f"{name}: truth: {p}", file=sys.stderr)
    eps, error = read_analysis(analysis)
    tset = set(truth)
    http = [route_of(e) for e in eps or [] if e.get("kind") == "http"]
    # A file service registered at a route's exact path (`route_service("/x.html",
    # ServeFile)`): the truth writes it as a route, cleave marks its kind static.
    files = {route_of(e) for e in eps or [] if e.get("kind") == "static"} & tset
    found = set(http) | files
    tp = len(found & tset)
    p, r, f = prf(tp, len(found), len(tset))
    res = {"app": name, "truth": len(tset), "found": len(found), "tp": tp,
           "p": p, "r": r, "f1": f, "error": error}
    print(f"{name:24} {len(tset):6} {len(found):6}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}"
          + (f"  ERROR {error}" if error else ""))
    if quiet:
        return res
    dup = len(http) - len(set(http))
    if dup:
        print(f"    ({dup} http entry points repeat a METHOD path already listed)")
    for fp in sorted(found - tset):
        print(f"    + {fp}")
    for miss in sorted(tset - found):
        print(f"    - {miss}")
    mounts = read_mounts(truth_dir / "mounts.txt")
    other = sorted({(e.get("kind", "?"), str(e.get("path") or e.get("name") or e.get("handler") or ""))
                    for e in eps or [] if e.get("kind") != "http"})
    if mounts or other:
        mset = {(k, p) for k, p, _ in mounts}
        for k, pth, what in mounts:
            mark = "=" if (k, pth) in other else "?"
            print(f"    {mark} mount {k} {pth}  ({what})")
        for k, pth in other:
            if (k, pth) not in mset:
                print(f"    . found {k} {pth}")
    return res


def read_generate(path: Path | None) -> dict[str, list[str]]:
    if not path or not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        cols = line.split("\t")
        if cols and cols[0]:
            out[cols[0]] = cols[1:]
    return out


def print_generate(results: list, gen: dict[str, list[str]], specs: list[str]) -> None:
    """The --generate table: app, framework, shapes, generate and check status,
    functions, generated .rs lines / the monolith's, check seconds / the
    monolith's own check, warnings / the monolith's."""
    truth_dirs = {spec.split("=", 2)[0]: Path(spec.split("=", 2)[1]) for spec in specs}
    print()
    print("| app | framework | shapes | generate | check | functions | lines (gen / monolith) "
          "| check s (gen / monolith) | warnings (gen / monolith) |")
    print("|---|---|---|---|---|--:|--:|--:|--:|")
    for r in results:
        g = (gen.get(r["app"]) or []) + ["-"] * 10
        meta = {}
        toml_path = truth_dirs.get(r["app"], Path()) / "app.toml"
        if toml_path.is_file():
            with toml_path.open("rb") as fh:
                meta = tomllib.load(fh)
        shapes = ", ".join(meta.get("shapes", [])) or "-"
        print(f"| {r['app']} | {meta.get('framework', '-')} | {shapes} | {g[0]} | {g[1]} | {g[3]} "
              f"| {g[4]} / {g[5]} | {g[6]} / {g[7]} | {g[8]} / {g[9]} |")


def cmd_score(args: argparse.Namespace) -> int:
    results = []
    for spec in args.apps:
        try:
            name, truth_dir, analysis = spec.split("=", 2)
        except ValueError:
            print(f"field-score: expected APP=TRUTH_DIR=ANALYSIS_JSON, got {spec!r}", file=sys.stderr)
            return 2
        results.append(score_app(name, Path(truth_dir), Path(analysis), args.quiet))
    if not results:
        print("field-score: no apps given", file=sys.stderr)
        return 2
    gen = read_generate(args.generate_results)
    head = f"| {'app':24} | truth | found |     P |     R |    F1 |"
    rule = f"|{'-' * 26}|------:|------:|------:|------:|------:|"
    print()
    print(head)
    print(rule)
    for r in results:
        row = (f"| {r['app'] + (' (error)' if r['error'] else ''):24} | {r['truth']:5} | {r['found']:5} "
               f"| {r['p']:.3f} | {r['r']:.3f} | {r['f1']:.3f} |")
        print(row)
    t = sum(r["truth"] for r in results)
    fnd = sum(r["found"] for r in results)
    tp = sum(r["tp"] for r in results)
    p, rc, f = prf(tp, fnd, t)
    print(f"| {'all (micro)':24} | {t:5} | {fnd:5} | {p:.3f} | {rc:.3f} | {f:.3f} |")
    if gen:
        print_generate(results, gen, args.apps)
    failing = [r["app"] for r in results if r["error"] or r["f1"] < args.min_f1]
    if failing:
        print(f"\nbelow F1 {args.min_f1}: {', '.join(failing)}")
    return 0 if args.report_only or not failing else 1


def check_words(check_env: str) -> tuple[list[str], list[str]]:
    env, cargo = [], []
    for clause in check_env.split(";"):
        words = clause.split()
        i = 0
        while i < len(words):
            w = words[i].rstrip(",")
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", w):
                env.append(w)
            elif w in ("--all-features", "--no-default-features"):
                cargo.append(w)
            elif w in ("--features", "-F") and i + 1 < len(words):
                cargo += ["--features", words[i + 1].rstrip(",")]
                i += 1
            elif w.startswith("--features="):
                cargo.append(w)
            else:
                break
            i += 1
    return env, cargo


def cmd_app(args: argparse.Namespace) -> int:
    with open(args.app_toml, "rb") as fh:
        app = tomllib.load(fh)
    env, cargo = check_words(str(app.get("check_env", "")))
    fields = {
        "REPO": app.get("repo", ""),
        "COMMIT": app.get("commit", ""),
        "DIR": app.get("dir", ""),
        "FRAMEWORK": app.get("framework", ""),
        "PREPARE": app.get("prepare", ""),
        "CHECK_ENV": " ".join(shlex.quote(e) for e in env),
        "CHECK_ARGS": " ".join(shlex.quote(c) for c in cargo),
    }
    if not re.fullmatch(r"[0-9a-f]{40}", fields["COMMIT"]) or "/" not in fields["REPO"]:
        print(f"field-score: {args.app_toml}: needs repo = \"owner/name\" and a 40-hex commit", file=sys.stderr)
        return 1
    for k, v in fields.items():
        print(f"{k}={shlex.quote(str(v))}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="score analyses against routes.txt")
    s.add_argument("apps", nargs="*", metavar="APP=TRUTH_DIR=ANALYSIS_JSON")
    s.add_argument("--min-f1", type=float, default=0.98)
    s.add_argument("--report-only", action="store_true", help="always exit 0")
    s.add_argument("--quiet", action="store_true", help="only the per-app lines and the table")
    s.add_argument("--generate-results", type=Path, metavar="TSV")
    a = sub.add_parser("app", help="print an app.toml as shell assignments")
    a.add_argument("app_toml")
    args = ap.parse_args()
    return cmd_score(args) if args.cmd == "score" else cmd_app(args)


if __name__ == "__main__":
    sys.exit(main())
