#!/usr/bin/env bash
# Rebuilds the compiler call graphs of the public apps that
# tests/callgraph_field.rs scores cleave against: for every
# tests/field/truth/<app>/packages.txt (`<package> <dir inside the app> [<dir of another
# package inside it>..]` lines),
# tools/callgraph-truth/callgraph_truth.py on the app's source with the app's
# check_env (tests/field/<app>/app.toml: environment words and cargo feature
# flags), written compact (--no-via --no-sites --compact) to tests/field/truth/<app>/<package>.json.
#
#   tools/rebuild-field-truth.sh [APP...]
#
# Sources come from ${FIELD_DIR:-.field}/<app> (fetched by tools/field-test.sh
# --fetch-only when missing). Each app is a full debug compile of its
# dependencies (minutes to tens of minutes), in ${TRUTH_TARGET_DIR:-~/.cache/cleave/truth-target}.
# An app whose toolchain file pins a release not installed needs RUSTUP_TOOLCHAIN set.
set -euo pipefail
cd "$(dirname "$0")/.."
field_dir="${FIELD_DIR:-.field}"
target="${TRUTH_TARGET_DIR:-$HOME/.cache/cleave/truth-target}"
apps=("$@")
if [ "${#apps[@]}" -eq 0 ]; then
    for p in tests/field/truth/*/packages.txt; do apps+=("$(basename "$(dirname "$p")")"); done
fi
FIELD_DIR="$field_dir" tools/field-test.sh --fetch-only "${apps[@]}"
for app in "${apps[@]}"; do
    vars="$(python3 tools/field-score.py app "tests/field/$app/app.toml")"
    eval "$vars" # REPO COMMIT DIR FRAMEWORK PREPARE CHECK_ENV CHECK_ARGS
    src="$(realpath "$field_dir/$app${DIR:+/$DIR}")"
    while read -r package _dir; do
        case "$package" in '' | '#'*) continue ;; esac
        echo "rebuild-field-truth: $app: $package" >&2
        # shellcheck disable=SC2086 # CHECK_ENV and CHECK_ARGS are shell-quoted word lists
        eval "env $CHECK_ENV python3 tools/callgraph-truth/callgraph_truth.py \"\$src\" -p \"\$package\" \
            --target-dir \"\$target\" --no-via --no-sites --compact -q $CHECK_ARGS \
            -o \"tests/field/truth/\$app/\$package.json\""
    done <"tests/field/truth/$app/packages.txt"
done
