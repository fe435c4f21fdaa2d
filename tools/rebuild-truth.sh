#!/usr/bin/env bash
# Rebuilds every compiler call graph the call-graph check scores against.
# Needs a full compile of each fixture (minutes on a cold machine), so CI
# uses the committed JSON files and this script is run by hand after a
# fixture changes.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in fixtures/*/expected/rebuild-truth.sh; do
    bash "$script"
done
python3 tools/callgraph-truth/callgraph_truth.py tools/callgraph-truth/sample \
    --target-dir "${TRUTH_TARGET_DIR:-$HOME/.cache/cleave/truth-target}" \
    -o tools/callgraph-truth/sample/truth.json
