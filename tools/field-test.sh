#!/usr/bin/env bash
# Field test of route detection: cleave analyze on real public apps, scored against
# the hand-written truth in tests/field/<app>/ (see tests/field/README.md).
#
#   tools/field-test.sh [--generate] [--api] [--report-only] [--quiet] [APP...]
#
# For each tests/field/*/app.toml (or the APPs named) the source at the pinned commit
# is taken from ${FIELD_DIR:-.field}/<app>; when missing it is extracted from the bare
# repository $FIELD_MIRROR/<owner>+<name> (or its repo/ sub-directory) if that holds the
# commit, else fetched from https://github.com/<owner>/<name>.  Then
#   ${CLEAVE:-target/release/cleave} analyze <src>/<dir> --format json --plan <out>/cleave.toml
# and tools/field-score.py scores the http entry points.  Outputs (analysis.json,
# stderr, plan, generated workspace) stay in ${FIELD_OUT:-${TMPDIR:-/tmp}/cleave-field}/<app>.
#
# --generate     also `cleave generate <src>/<dir> --out <out>/gen --plan <out>/cleave.toml`
#                and `cargo check --workspace` in <out>/gen with the app's check_env;
#                reports ok/fail, functions, generated .rs lines against the monolith's,
#                and the check's seconds and warnings against the monolith's own
#                `cargo check --workspace` (both on dependencies already checked: the
#                monolith is checked once first, then its own packages are cleaned
#                and checked again, timed); never fails the run by itself.
# --api          then tools/field-api.sh on the same apps: each app's own API suite
#                against the monolith and against the generated functions under
#                `cargo lambda watch` (apps without an [api_suite] are skipped); its
#                exit status counts like a score below the bar (1) or a setup error (2).
# --fetch-only   only put each app's source in place (and prepare it), as the
#                call-graph test (tests/callgraph_field.rs) needs; no cleave run.
# --report-only  exit 0 whatever the scores (default: 1 when an app's F1 < 0.98).
# --quiet        no per-route lists, only the per-app lines and the table.
#
# Exit status: 0 all apps at F1 >= 0.98 (or --report-only), 1 some below, 2 usage or
# setup error.  The source tree is not modified except by an app's `prepare` step
# (app.toml), run once right after extraction.
set -euo pipefail
cd "$(dirname "$0")/.."

generate=0
api=0
fetch_only=0
score_flags=()
apps=()
for arg in "$@"; do
    case "$arg" in
        --generate) generate=1 ;;
        --api) api=1 ;;
        --fetch-only) fetch_only=1 ;;
        --report-only | --quiet) score_flags+=("$arg") ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "field-test: unknown flag $arg" >&2; exit 2 ;;
        *) apps+=("$arg") ;;
    esac
done

cleave="${CLEAVE:-target/release/cleave}"
field_dir="${FIELD_DIR:-.field}"
out_root="${FIELD_OUT:-${TMPDIR:-/tmp}/cleave-field}"
score=tools/field-score.py
if [ "$fetch_only" -eq 0 ]; then
    [ -x "$cleave" ] || { echo "field-test: no cleave binary at $cleave (build it, or set CLEAVE=...)" >&2; exit 2; }
    cleave="$(realpath "$cleave")"
fi
case "$(realpath -m "$out_root")/" in
    "$(pwd -P)"/*) echo "field-test: FIELD_OUT must be outside the repository" >&2; exit 2 ;;
esac

named=("${apps[@]}")
if [ "${#apps[@]}" -eq 0 ]; then
    for t in tests/field/*/app.toml; do apps+=("$(basename "$(dirname "$t")")"); done
fi
[ "${#apps[@]}" -gt 0 ] || { echo "field-test: no apps under tests/field/" >&2; exit 2; }

# The git directory of a bare mirror for REPO that holds COMMIT, or nothing.
mirror_git_dir() {
    local repo="$1" commit="$2" base d
    [ -n "${FIELD_MIRROR:-}" ] || return 0
    base="$FIELD_MIRROR/${repo/\//+}"
    for d in "$base/repo" "$base"; do
        if git --git-dir="$d" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "$d"
            return 0
        fi
    done
}

# Put REPO at COMMIT into DEST (a fresh directory), without a .git.
fetch_source() {
    local repo="$1" commit="$2" dest="$3" gd tmp
    rm -rf "$dest" "$dest.commit"
    mkdir -p "$dest"
    gd="$(mirror_git_dir "$repo" "$commit")"
    if [ -n "$gd" ]; then
        echo "field-test: $repo@${commit:0:12} from $gd" >&2
        git --git-dir="$gd" archive "$commit" | tar -x -C "$dest" || return 1
    else
        echo "field-test: $repo@${commit:0:12} from github.com" >&2
        tmp="$(mktemp -d)"
        git -C "$tmp" init -q || return 1
        git -C "$tmp" remote add origin "https://github.com/$repo" || return 1
        # GitHub serves a commit by id; fall back to a full clone if that is refused.
        if ! git -C "$tmp" fetch -q --depth 1 origin "$commit" 2>/dev/null; then
            git -C "$tmp" fetch -q origin || { rm -rf "$tmp"; return 1; }
        fi
        git -C "$tmp" archive "$commit" | tar -x -C "$dest" || { rm -rf "$tmp"; return 1; }
        rm -rf "$tmp"
    fi
    echo "$commit" >"$dest.commit"
}

# Lines of Rust under a directory, leaving out target/ dirs.
rust_lines() {
    find "$1" -name target -prune -o -name '*.rs' -type f -print0 | xargs -0 cat 2>/dev/null | wc -l
}

# Warnings in a cargo log, not counting the "generated N warnings" summaries.
warning_count() {
    grep -E '^warning' "$1" | grep -cvE 'generated [0-9]+ warnings?|warnings? emitted|future version of Rust' || true
}

# `cargo check --workspace` with the app's check_env in directory $1, log $2; prints seconds.
timed_check() {
    local t0=$SECONDS rc=0
    # shellcheck disable=SC2086 # CHECK_ENV and CHECK_ARGS are shell-quoted word lists
    (cd "$1" && eval "env $CHECK_ENV cargo check --workspace $CHECK_ARGS") >"$2" 2>&1 || rc=$?
    echo "$((SECONDS - t0))"
    return "$rc"
}

# --generate for one app: generate, check it and the monolith, one TSV line.
generate_app() {
    local app=$1 target=$2 out=$3 status=$4
    local gen="skipped" check="-" secs="-" fns="-" lines="-" mono_lines="-"
    local check_s="-" mono_s="-" warns="-" mono_warns="-" start=$SECONDS
    if [ "$status" -eq 0 ]; then
        if "$cleave" generate "$target" --out "$out/gen" --plan "$out/cleave.toml" \
            >"$out/generate.stdout" 2>"$out/generate.stderr"; then
            gen="ok"
            fns="$(sed -n 's/^generated \([0-9]*\) function.*/\1/p' "$out/generate.stderr")"
            lines="$(rust_lines "$out/gen")"
            mono_lines="$(rust_lines "$target")"
            # The monolith first: its dependencies are then checked for both.
            timed_check "$target" "$out/monolith-check-first.log" >/dev/null || true
            if check_s="$(timed_check "$out/gen" "$out/check.log")"; then
                check="ok"
            else
                check="fail"
            fi
            warns="$(warning_count "$out/check.log")"
            local members
            members="$(cd "$target" && eval "env $CHECK_ENV cargo metadata --no-deps --format-version 1" 2>/dev/null |
                python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))' || true)"
            for m in $members; do
                (cd "$target" && cargo clean -q -p "$m" >/dev/null 2>&1) || true
            done
            if ! mono_s="$(timed_check "$target" "$out/monolith-check.log")"; then
                mono_s="$mono_s(fail)"
            fi
            mono_warns="$(warning_count "$out/monolith-check.log")"
        else
            gen="fail"
        fi
        secs=$((SECONDS - start))
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$app" "$gen" "$check" "$secs" "$fns" \
        "$lines" "$mono_lines" "$check_s" "$mono_s" "$warns" "$mono_warns" >>"$gen_tsv"
    echo "field-test: $app: generate $gen, check $check ($warns warnings; monolith $mono_warns), ${secs}s" >&2
}

mkdir -p "$field_dir" "$out_root"
gen_tsv="$out_root/generate.tsv"
: >"$gen_tsv"
specs=()
setup_failed=0
for app in "${apps[@]}"; do
    truth="tests/field/$app"
    [ -f "$truth/app.toml" ] || { echo "field-test: no $truth/app.toml" >&2; exit 2; }
    vars="$(python3 "$score" app "$truth/app.toml")" || exit 2
    eval "$vars" # REPO COMMIT DIR FRAMEWORK PREPARE CHECK_ENV CHECK_ARGS
    src="$field_dir/$app"
    if [ ! -d "$src" ] || [ "$(cat "$src.commit" 2>/dev/null)" != "$COMMIT" ]; then
        if ! fetch_source "$REPO" "$COMMIT" "$src"; then
            echo "field-test: $app: could not obtain $REPO@$COMMIT" >&2
            setup_failed=1
            continue
        fi
        if [ -n "$PREPARE" ]; then
            echo "field-test: $app: prepare: $PREPARE" >&2
            (cd "$src" && bash -c "$PREPARE")
        fi
    fi
    [ "$fetch_only" -eq 0 ] || continue
    out="$out_root/$app"
    rm -rf "$out"
    mkdir -p "$out"
    target="$src${DIR:+/$DIR}"

    # The features the app's own check turns on, for the analysis too.
    features=()
    eval "set -- $CHECK_ARGS"
    while [ $# -gt 0 ]; do
        case "$1" in
            --features) [ $# -lt 2 ] || features+=(--features "$2"); shift ;;
            --features=*) features+=(--features "${1#--features=}") ;;
        esac
        shift
    done

    start=$SECONDS
    status=0
    "$cleave" analyze "$target" --format json --plan "$out/cleave.toml" "${features[@]}" \
        >"$out/analysis.json" 2>"$out/analyze.stderr" || status=$?
    echo "field-test: $app: analyze exit $status in $((SECONDS - start))s ($out)" >&2
    specs+=("$app=$truth=$out/analysis.json")

    if [ "$generate" -eq 1 ]; then
        generate_app "$app" "$target" "$out" "$status"
    fi
done

if [ "$fetch_only" -eq 1 ]; then
    exit $((setup_failed * 2))
fi
[ "${#specs[@]}" -gt 0 ] || exit 2
set +e
if [ "$generate" -eq 1 ]; then
    python3 "$score" score "${score_flags[@]}" --generate-results "$gen_tsv" "${specs[@]}"
else
    python3 "$score" score "${score_flags[@]}" "${specs[@]}"
fi
rc=$?
set -e
[ "$setup_failed" -eq 0 ] || rc=2
if [ "$api" -eq 1 ]; then
    api_rc=0
    CLEAVE="$cleave" FIELD_DIR="$field_dir" FIELD_OUT="$out_root" tools/field-api.sh "${named[@]}" || api_rc=$?
    case " ${score_flags[*]} " in *" --report-only "*) [ "$api_rc" -eq 2 ] || api_rc=0 ;; esac
    [ "$api_rc" -le "$rc" ] || rc=$api_rc
fi
exit "$rc"
