#!/usr/bin/env bash
# The split proposals on the field apps: for each app of tests/field/ (or the
# ones named), `cleave analyze` then `cleave review --format json`, and one
# line per preset with its functions, SM, X (cross-function calls) and D/M
# (lines deployed over the monolith's). The sources must already be in
# ${FIELD_DIR:-.field}/<app> (tools/field-test.sh puts them there).
#
# --grouping: only the apps with a hand grouping (tests/field/<app>/grouping.toml),
# and after their metric lines a table of how close `auto` and `resource` come
# to that grouping (adjusted Rand index and MoJoFM, tools/field-grouping.py).
#
#   tools/field-splits.sh [--grouping] [APP...]   CLEAVE=target/release/cleave by default
set -euo pipefail
cd "$(dirname "$0")/.."
cleave="${CLEAVE:-target/release/cleave}"
src_root="${FIELD_DIR:-.field}"
out="${FIELD_OUT:-${TMPDIR:-/tmp}/cleave-field}"
mkdir -p "$out"
grouping=0
if [ "${1:-}" = "--grouping" ]; then grouping=1; shift; fi
apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
    if [ $grouping = 1 ]; then
        mapfile -t apps < <(ls tests/field/*/grouping.toml | xargs -n1 dirname | xargs -n1 basename)
    else
        mapfile -t apps < <(ls tests/field/*/app.toml | xargs -n1 dirname | xargs -n1 basename)
    fi
fi
scores=()
for app in "${apps[@]}"; do
    dir=$(python3 -c "import tomllib,sys;print(tomllib.load(open(sys.argv[1],'rb')).get('dir',''))" "tests/field/$app/app.toml")
    src="$src_root/$app/$dir"
    [ -d "$src" ] || { echo "field-splits: $app: no source at $src (run tools/field-test.sh $app first)" >&2; continue; }
    plan="$out/$app.splits.toml"
    rm -f "$plan"
    "$cleave" analyze "$src" --plan "$plan" >/dev/null 2>&1
    "$cleave" review "$src" --plan "$plan" --format json --html "$out/$app.splits.html" 2>/dev/null |
        python3 -c '
import json, sys
app = sys.argv[1]
r = json.load(sys.stdin)
rows = [("auto (proposed)", r["metrics"])] + [(p["preset"], p) for p in r["presets"] if p["preset"] != "auto"]
for name, m in rows:
    fn, sm, x, dm = m["functions"], m["sm"], m["cross_function_edges"], m["deployed_over_monolith"]
    print(f"{app:20s} {name:16s} fn={fn:4d} SM={sm:7.3f} X={x:5.2f} D/M={dm:5.2f}")
' "$app"
    if [ $grouping = 1 ] && [ -f "tests/field/$app/grouping.toml" ]; then
        resource="$out/$app.resource.toml"
        rm -f "$resource"
        "$cleave" analyze "$src" --granularity resource --plan "$resource" >/dev/null 2>&1
        scores+=("$app auto=$plan=tests/field/$app/grouping.toml" "$app resource=$resource=tests/field/$app/grouping.toml")
    fi
done
if [ ${#scores[@]} -gt 0 ]; then
    echo
    python3 tools/field-grouping.py score "${scores[@]}"
fi
