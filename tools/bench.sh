#!/usr/bin/env bash
# Benchmark of `cleave analyze` against a parse-only baseline (benches/analyze.rs)
# on every fixture and on three sizes of a large tree.
#
# The large tree: the crates pinned in tools/bench-corpus/ (`cargo fetch` puts
# their sources in the Cargo registry), each one's `src/` and manifest copied
# read-only into a scratch workspace outside the repo. Size 1x is those crates
# (about 100k lines); 2x and 4x hold 2 and 4 copies of each, renamed, so the
# three sizes have the same kind of code and the growth exponent measures size
# alone.
#
# The workspace-40 row: a 40-crate workspace the bench writes itself
# (`analyze --generate-workspace`, benches/shared/workspace.rs): small crates
# with path dependencies between members, a shared crate of `macro_rules!`
# used everywhere, derive-heavy types, `#[tracing::instrument]` and actix
# `#[get(..)]` routes, an actix app crate on top. Deterministic.
#
#   tools/bench.sh              # REPS=5 runs per input; BENCH_DIR=/tmp/cleave-bench
#   tools/bench.sh --field [APP...]
#                               # the field apps instead (tests/field/, all or the
#                               # APPs named): their sources put in place by
#                               # `tools/field-test.sh --fetch-only` (FIELD_DIR and
#                               # FIELD_MIRROR as there), one row per app
# The table goes to stdout and to $BENCH_DIR/table.md. The parse-only baseline
# runs twice per repetition: with cleave's allocator (jemalloc), which gives
# the ratio, and with the system allocator (benches/parse_system.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

field=0
field_apps=()
for arg in "$@"; do
    case "$arg" in
        --field) field=1 ;;
        -*) echo "bench: unknown flag $arg" >&2; exit 2 ;;
        *) [ "$field" -eq 1 ] || { echo "bench: apps are named after --field" >&2; exit 2; }
           field_apps+=("$arg") ;;
    esac
done

reps="${REPS:-5}"
scratch="${BENCH_DIR:-${TMPDIR:-/tmp}/cleave-bench}"
corpus=tools/bench-corpus/Cargo.toml
case "$(realpath -m "$scratch")/" in
    "$(pwd -P)"/*) echo "bench: BENCH_DIR must be outside the repository" >&2; exit 1 ;;
esac

# --field: one row per field app, on sources field-test.sh puts in place.
if [ "$field" -eq 1 ]; then
    [ "${#field_apps[@]}" -gt 0 ] || for t in tests/field/*/app.toml; do
        field_apps+=("$(basename "$(dirname "$t")")")
    done
    tools/field-test.sh --fetch-only "${field_apps[@]}"
    field_dir="${FIELD_DIR:-.field}"
    rows=()
    for app in "${field_apps[@]}"; do
        vars="$(python3 tools/field-score.py app "tests/field/$app/app.toml")"
        eval "$vars" # REPO COMMIT DIR ...
        rows+=("$app=$field_dir/$app${DIR:+/$DIR}")
    done
    mkdir -p "$scratch"
    exec cargo bench --bench analyze -- --reps "$reps" --markdown "$scratch/field.md" "${rows[@]}"
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
cargo fetch --locked --manifest-path "$corpus" --target "$host"
# Directories of the corpus crates (the direct dependencies of the pin package).
mapfile -t crates < <(
    cargo metadata --locked --format-version 1 --manifest-path "$corpus" --filter-platform "$host" |
        jq -r '.resolve.root as $r
            | [.resolve.nodes[] | select(.id == $r) | .deps[].pkg] as $ds
            | .packages[] | select(.id as $i | $ds | index([$i]))
            | .manifest_path | sub("/Cargo.toml$"; "")'
)
[ "${#crates[@]}" -gt 0 ] || { echo "bench: no corpus crates found" >&2; exit 1; }

# A copy of one crate as workspace member DEST, its package (and lib) renamed
# with SUFFIX so that copies do not share a crate name.
copy_crate() {
    local src="$1" dest="$2" suffix="$3"
    mkdir -p "$dest"
    cp -r "$src/src" "$dest/src"
    if [ -z "$suffix" ]; then
        cp "$src/Cargo.toml" "$dest/Cargo.toml"
    else
        # `name = "x"` in [package] and [lib] only (the first in each section).
        awk -v s="$suffix" '
            /^\[/ { section = $0; done = 0 }
            (section == "[package]" || section == "[lib]") && !done && /^name = "/ {
                sub(/"$/, s "\""); done = 1
            }
            { print }' "$src/Cargo.toml" >"$dest/Cargo.toml"
    fi
}

make_tree() {
    local dir="$1" copies="$2"
    mkdir -p "$dir/crates"
    printf '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n' >"$dir/Cargo.toml"
    for c in "${crates[@]}"; do
        local name
        name="$(basename "$c")"
        for k in $(seq 1 "$copies"); do
            if [ "$k" = 1 ]; then
                copy_crate "$c" "$dir/crates/$name" ""
            else
                copy_crate "$c" "$dir/crates/$name-copy$k" "_copy$k"
            fi
        done
    done
    chmod -R a-w "$dir"
}

if [ -d "$scratch" ]; then
    chmod -R u+w "$scratch"
    rm -rf "$scratch"
fi
mkdir -p "$scratch"
for n in 1 2 4; do
    make_tree "$scratch/large-${n}x" "$n"
done

analyze_bench="$(
    cargo bench --bench analyze --no-run --message-format=json 2>/dev/null |
        jq -r 'select(.reason == "compiler-artifact" and .target.name == "analyze")
            | .executable // empty' | tail -n 1
)"
[ -x "$analyze_bench" ] || { echo "bench: the analyze bench did not build" >&2; exit 1; }
"$analyze_bench" --generate-workspace "$scratch/workspace-40"
chmod -R a-w "$scratch/workspace-40"

# The baseline with the system allocator, beside the one with cleave's.
system="$(
    cargo bench --bench parse_system --no-run --message-format=json 2>/dev/null |
        jq -r 'select(.reason == "compiler-artifact" and .target.name == "parse_system")
            | .executable // empty' | tail -n 1
)"
[ -x "$system" ] || { echo "bench: the parse_system bench did not build" >&2; exit 1; }

cargo bench --bench analyze -- \
    --reps "$reps" \
    --system-baseline "$system" \
    --markdown "$scratch/table.md" \
    --fit large-1x,large-2x,large-4x \
    shop-axum=fixtures/shop-axum \
    forum-actix=fixtures/forum-actix \
    notes-rocket=fixtures/notes-rocket \
    large-1x="$scratch/large-1x" \
    large-2x="$scratch/large-2x" \
    large-4x="$scratch/large-4x" \
    workspace-40="$scratch/workspace-40"
