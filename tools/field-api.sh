#!/usr/bin/env bash
# Behaviour on real apps: a field app's own API test suite, run against the monolith and
# against the functions cleave generates from it (under `cargo lambda watch`).
#
#   tools/field-api.sh [APP...]        # also: tools/field-test.sh --api [APP...]
#
# For each tests/field/<app>/app.toml with an [api_suite] section (or the APPs named;
# those without one are skipped with a note):
#   1. the source at the pinned commit (${FIELD_DIR:-.field}/<app>) and cleave's plan
#      ($FIELD_OUT/<app>/cleave.toml); when either is missing, tools/field-test.sh makes them;
#   2. a Postgres server of our own when an app says database = "postgres": initdb in a
#      scratch directory outside the repository, 127.0.0.1 on a free port, trust auth;
#      one database per app, dropped, created and migrated (psql -f of the files the
#      `migrations` globs name, in order) before each run;
#   3. the monolith: in a copy of the source outside the repository, cargo build --bin
#      <bin> with the app's check_env, run from its directory with the suite's env, the suite run against http://127.0.0.1:<port>;
#   4. the functions: cleave generate <src> --out $FIELD_OUT/<app>/api/gen --plan <plan>,
#      cargo build --workspace, then `cargo lambda watch -A 127.0.0.1 -P <free port>` in it
#      (the workspace's router serves the original URLs there), same env, same suite;
#   5. one line per app: `app  monolith P/N  functions P/N` (checks passed / checks run),
#      with the checks only the monolith passed listed under it.
#
# [api_suite] keys (tests/field/README.md): runner ("newman"), collection (path in the
# source), globals (newman --global-var), database ("postgres" or absent), migrations
# (globs in the source, applied in the order given, each glob's files sorted), bin (the
# binary that serves), port (the port the monolith is hard-wired to; absent = {port} is
# chosen free), env (the app's environment), ready (a path polled until it answers).
# In globals and env: {url} the server under test, {port}, {database_url}, {db_host},
# {db_port}, {db_name}, {db_user}, {stamp} (seconds since the epoch, for unique names).
#
# Environment: CLEAVE, FIELD_DIR, FIELD_MIRROR, FIELD_OUT as for tools/field-test.sh;
# CARGO_TARGET_DIR (default $FIELD_OUT/target, shared by the monoliths and the generated
# workspaces); FIELD_API_TIMEOUT (seconds a server may take to answer, default 900);
# FIELD_API_KEEP=1 keeps the Postgres scratch directory; NEWMAN (default: newman from
# npm in .venv/newman, installed when missing); cargo-lambda comes from .venv like
# tools/test.sh. Postgres binaries: pg_config --bindir, else /usr/lib/postgresql/*/bin
# (installed with apt-get when running as root); as root the server runs as user postgres.
#
# Exit status: 0 every app's functions pass as many checks as its monolith, 1 some pass
# fewer (or the workspace did not generate/build/serve), 2 usage or setup error (the
# monolith itself did not build or serve).  Every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

apps=()
for arg in "$@"; do
    case "$arg" in
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "field-api: unknown flag $arg" >&2; exit 2 ;;
        *) apps+=("$arg") ;;
    esac
done

cleave="${CLEAVE:-target/release/cleave}"
field_dir="${FIELD_DIR:-.field}"
out_root="${FIELD_OUT:-${TMPDIR:-/tmp}/cleave-field}"
timeout="${FIELD_API_TIMEOUT:-900}"
[ -x "$cleave" ] || { echo "field-api: no cleave binary at $cleave (build it, or set CLEAVE=...)" >&2; exit 2; }
cleave="$(realpath "$cleave")"
case "$(realpath -m "$out_root")/" in
    "$(pwd -P)"/*) echo "field-api: FIELD_OUT must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$out_root"
out_root="$(realpath "$out_root")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$out_root/target}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"

if [ "${#apps[@]}" -eq 0 ]; then
    for t in tests/field/*/app.toml; do apps+=("$(basename "$(dirname "$t")")"); done
fi

# The app.toml's [api_suite], rendered: `suite APP_TOML [KEY=VALUE...]` prints shell
# assignments (SUITE_* scalars, SUITE_ENV and SUITE_GLOBALS arrays of KEY=VALUE words,
# SUITE_MIGRATIONS of paths relative to the source, given as SRC=<dir>) with the
# placeholders replaced by the KEY=VALUE pairs.
suite() {
    python3 - "$@" <<'PY'
import glob, os, re, shlex, sys, tomllib
path, pairs = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
with open(path, "rb") as fh:
    s = tomllib.load(fh).get("api_suite")
if s is None:
    print("SUITE_RUNNER=''")
    sys.exit(0)
def sub(v):
    return re.sub(r"\{(\w+)\}", lambda m: pairs.get(m.group(1), m.group(0)), str(v))
src = pairs.get("SRC", ".")
migrations = []
for pat in s.get("migrations", []):
    migrations += sorted(os.path.relpath(p, src) for p in glob.glob(os.path.join(src, pat)))
q = shlex.quote
print(f"SUITE_RUNNER={q(s.get('runner', ''))}")
print(f"SUITE_COLLECTION={q(s.get('collection', ''))}")
print(f"SUITE_DATABASE={q(s.get('database', ''))}")
print(f"SUITE_BIN={q(s.get('bin', ''))}")
print(f"SUITE_PORT={q(str(s.get('port', '')))}")
print(f"SUITE_READY={q(s.get('ready', '/'))}")
print("SUITE_MIGRATIONS=(" + " ".join(q(m) for m in migrations) + ")")
print("SUITE_ENV=(" + " ".join(q(f"{k}={sub(v)}") for k, v in s.get("env", {}).items()) + ")")
print("SUITE_GLOBALS=(" + " ".join(q(f"{k}={sub(v)}") for k, v in s.get("globals", {}).items()) + ")")
PY
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_free() {
    python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

# ---- processes we start, stopped on exit --------------------------------------------
pids=()
pg_dir="" pg_bin="" pg_as=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM -- "-$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || true
    done
    pids=()
    if [ -n "$pg_dir" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
        "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$pg_dir" ] && [ "${FIELD_API_KEEP:-0}" != 1 ]; then rm -rf "$pg_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start a command in a process group of its own (so that it and its children can be
# stopped together); LOG gets its output. Sets $started to its pid (= group id).
start_group() {
    local log="$1"
    shift
    setsid "$@" >"$log" 2>&1 </dev/null &
    started=$!
    pids+=("$started")
}

stop_group() {
    local p="$1" keep=() q
    kill -TERM -- "-$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
    for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    pids=("${keep[@]}")
}

# Wait until URL answers with a status below 500 while process group PID lives.
wait_ready() {
    local url="$1" pid="$2" log="$3" code start=$SECONDS
    while :; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" || true)"
        case "$code" in [1234]??) return 0 ;; esac
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "field-api: the server exited before $url answered; last lines of $log:" >&2
            tail -n 15 "$log" | sed 's/^/    /' >&2
            return 1
        fi
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            echo "field-api: $url did not answer in ${timeout}s (last status $code; see $log)" >&2
            return 1
        fi
        sleep 2
    done
}

# ---- tools -----------------------------------------------------------------------------
newman="${NEWMAN:-.venv/newman/node_modules/.bin/newman}"
ensure_newman() {
    [ -x "$newman" ] && return 0
    [ -z "${NEWMAN:-}" ] || { echo "field-api: NEWMAN=$NEWMAN is not executable" >&2; return 1; }
    command -v npm >/dev/null || { echo "field-api: newman needs npm (Debian: apt-get install npm)" >&2; return 1; }
    echo "field-api: installing newman into .venv/newman" >&2
    npm install --prefix .venv/newman --no-audit --no-fund --silent newman@6 >&2
}

ensure_cargo_lambda() {
    if [ ! -x .venv/bin/cargo-lambda ]; then
        echo "field-api: installing cargo-lambda into .venv" >&2
        python3 -m venv .venv
        .venv/bin/pip install --quiet cargo-lambda
    fi
    export PATH="$PWD/.venv/bin:$PATH"
}

pg_port="" pg_user=postgres
ensure_postgres() {
    [ -z "$pg_port" ] || return 0
    local d
    if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_bin="$(pg_config --bindir)"
    else
        for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_bin="$d"; done
    fi
    if [ -z "$pg_bin" ]; then
        if [ "$(id -u)" = 0 ]; then
            echo "field-api: installing postgresql" >&2
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
            for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_bin="$d"; done
        fi
        [ -n "$pg_bin" ] || { echo "field-api: no Postgres server (Debian: apt-get install postgresql)" >&2; return 1; }
    fi
    command -v psql >/dev/null || { echo "field-api: no psql (Debian: apt-get install postgresql-client)" >&2; return 1; }
    pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/cleave-field-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "field-api: running as root and there is no user postgres to run the server as" >&2; return 1; }
        chown postgres "$pg_dir"
        chmod 700 "$pg_dir"
        pg_as=(runuser -u postgres --)
    fi
    pg_port="$(free_port)"
    "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U "$pg_user" -A trust -E UTF8 --locale=C --no-sync \
        >"$pg_dir/initdb.log" 2>&1 || { cat "$pg_dir/initdb.log" >&2; return 1; }
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=300" \
        start >/dev/null || { cat "$pg_dir/server.log" >&2; return 1; }
    echo "field-api: postgres on 127.0.0.1:$pg_port ($pg_dir)" >&2
}

psql_run() {
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$pg_user" "$@"
}

# Drop, create and migrate database DB from the files in SUITE_MIGRATIONS (relative to SRC).
reset_db() {
    local db="$1" src="$2" m
    psql_run -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" || return 1
    for m in "${SUITE_MIGRATIONS[@]}"; do
        psql_run -d "$db" -f "$src/$m" >/dev/null || { echo "field-api: migration $m failed" >&2; return 1; }
    done
}

# Run the suite against URL; writes RESULT_JSON; prints `passed total`.
run_suite() {
    local src="$1" json="$2" log="$3" g args=()
    for g in "${SUITE_GLOBALS[@]}"; do args+=(--global-var "$g"); done
    "$newman" run "$src/$SUITE_COLLECTION" "${args[@]}" --color off --disable-unicode \
        --reporters cli,json --reporter-json-export "$json" >"$log" 2>&1 || true
    python3 - "$json" <<'PY'
import json, sys
try:
    run = json.load(open(sys.argv[1]))["run"]
except (OSError, ValueError, KeyError):
    print("0 0")
    sys.exit(0)
a = run["stats"]["assertions"]
print(a["total"] - a["failed"], a["total"])
PY
}

# The checks passed in A and not in B, as `request: assertion` lines (the first 15).
lost_checks() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def passed(p):
    try:
        run = json.load(open(p))["run"]
    except (OSError, ValueError, KeyError):
        return []
    out = []
    for ex in run.get("executions", []):
        name = ex.get("item", {}).get("name", "?")
        for a in ex.get("assertions", []) or []:
            if not a.get("error"):
                out.append(f"{name}: {a.get('assertion')}")
    return out
b = list(passed(sys.argv[2]))
lost = []
for c in passed(sys.argv[1]):
    if c in b:
        b.remove(c)
    else:
        lost.append(c)
print("\n".join(lost[:15]))
if len(lost) > 15:
    print(f"... and {len(lost) - 15} more")
PY
}

# ---- per app ---------------------------------------------------------------------------
rc=0
results=()
for app in "${apps[@]}"; do
    toml="tests/field/$app/app.toml"
    [ -f "$toml" ] || { echo "field-api: no $toml" >&2; rc=2; continue; }
    eval "$(suite "$toml")"
    if [ -z "$SUITE_RUNNER" ]; then
        [ "$#" -eq 0 ] || echo "field-api: $app: no [api_suite] in $toml, skipped" >&2
        continue
    fi
    [ "$SUITE_RUNNER" = newman ] || { echo "field-api: $app: runner $SUITE_RUNNER unknown" >&2; rc=2; continue; }
    vars="$(python3 tools/field-score.py app "$toml")" || { rc=2; continue; }
    eval "$vars" # REPO COMMIT DIR FRAMEWORK PREPARE CHECK_ENV CHECK_ARGS
    eval "check_env=($CHECK_ENV)"
    eval "check_args=($CHECK_ARGS)"
    src="$field_dir/$app"
    out="$out_root/$app"
    plan="$out/cleave.toml"
    if [ "$(cat "$src.commit" 2>/dev/null)" != "$COMMIT" ] || [ ! -f "$plan" ]; then
        echo "field-api: $app: source or plan missing, running tools/field-test.sh $app" >&2
        tools/field-test.sh --report-only --quiet "$app" >/dev/null || { rc=2; continue; }
    fi
    src="$(realpath "$src")"
    target="$src${DIR:+/$DIR}"
    api="$out/api"
    rm -rf "$api"
    mkdir -p "$api"
    ensure_newman || exit 2
    ensure_cargo_lambda
    stamp="$(date +%s)"
    db="field_$(echo "$app" | tr -c 'a-zA-Z0-9\n' _)"
    dbvars=()
    if [ "$SUITE_DATABASE" = postgres ]; then
        ensure_postgres || exit 2
        dbvars=(db_host=127.0.0.1 "db_port=$pg_port" "db_name=$db" "db_user=$pg_user"
            "database_url=postgres://$pg_user@127.0.0.1:$pg_port/$db")
    fi
    line_m="-" line_f="-"

    # -- the monolith
    port="${SUITE_PORT:-}"
    if [ -n "$port" ]; then
        port_free "$port" || { echo "field-api: $app: port $port (hard-wired in the app) is taken" >&2; rc=2; continue; }
    else
        port="$(free_port)"
    fi
    url="http://127.0.0.1:$port"
    eval "$(suite "$toml" SRC="$src" url="$url" port="$port" stamp="$stamp" "${dbvars[@]}")"
    [ "$SUITE_DATABASE" != postgres ] || reset_db "$db" "$src" || { rc=2; continue; }
    # A copy outside the repository: cargo would take a source under .field/ for a
    # member of this repository's workspace.
    mkdir -p "$api/src"
    cp -a "$src/." "$api/src/"
    mono="$api/src${DIR:+/$DIR}"
    echo "field-api: $app: building the monolith ($api/monolith-build.log)" >&2
    if ! (cd "$mono" && env "${check_env[@]}" cargo build --bin "$SUITE_BIN" "${check_args[@]}") \
        >"$api/monolith-build.log" 2>&1; then
        echo "field-api: $app: the monolith does not build (see $api/monolith-build.log)" >&2
        tail -n 5 "$api/monolith-build.log" | sed 's/^/    /' >&2
        rc=2
        results+=("$(printf '%-24s monolith build-failed' "$app")")
        continue
    fi
    start_group "$api/monolith.log" bash -c 'cd "$1" && shift && exec env "$@"' _ "$mono" \
        "${check_env[@]}" "${SUITE_ENV[@]}" "$CARGO_TARGET_DIR/debug/$SUITE_BIN"
    mono_pid=$started
    if ! wait_ready "$url$SUITE_READY" "$mono_pid" "$api/monolith.log"; then
        stop_group "$mono_pid"
        rc=2
        results+=("$(printf '%-24s monolith did-not-serve' "$app")")
        continue
    fi
    echo "field-api: $app: suite against the monolith at $url" >&2
    read -r mp mn < <(run_suite "$src" "$api/monolith.json" "$api/monolith-newman.log")
    stop_group "$mono_pid"
    line_m="$mp/$mn"

    # -- the functions
    fp=0 fn=0 status=""
    wport="$(free_port)"
    url="http://127.0.0.1:$wport"
    eval "$(suite "$toml" SRC="$src" url="$url" port="$(free_port)" stamp="$stamp" "${dbvars[@]}")"
    [ "$SUITE_DATABASE" != postgres ] || reset_db "$db" "$src" || { rc=2; continue; }
    gen="$api/gen"
    if ! "$cleave" generate "$target" --out "$gen" --plan "$plan" >"$api/generate.stdout" 2>"$api/generate.stderr"; then
        status="generate-failed"
        tail -n 5 "$api/generate.stderr" | sed 's/^/    /' >&2
    else
        echo "field-api: $app: building the functions ($api/functions-build.log)" >&2
        if ! (cd "$gen" && env "${check_env[@]}" cargo build --workspace "${check_args[@]}") \
            >"$api/functions-build.log" 2>&1; then
            status="build-failed"
            grep -m 5 -A 5 '^error' "$api/functions-build.log" | sed 's/^/    /' >&2 || true
        else
            # Values quoted: cargo-lambda's env-file parser rejects a bare `=`/`+` in them.
            for kv in "${SUITE_ENV[@]}"; do
                v="${kv#*=}"; v="${v//\\/\\\\}"; v="${v//\"/\\\"}"
                printf '%s="%s"\n' "${kv%%=*}" "$v"
            done >"$api/functions.env"
            start_group "$api/watch.log" bash -c 'cd "$1" && shift && exec env "$@"' _ "$gen" \
                "${check_env[@]}" "${SUITE_ENV[@]}" \
                cargo lambda watch -A 127.0.0.1 -P "$wport" --env-file "$api/functions.env" "${check_args[@]}"
            watch_pid=$started
            if wait_ready "$url$SUITE_READY" "$watch_pid" "$api/watch.log"; then
                echo "field-api: $app: suite against the functions at $url" >&2
                read -r fp fn < <(run_suite "$src" "$api/functions.json" "$api/functions-newman.log")
            else
                status="did-not-serve"
            fi
            stop_group "$watch_pid"
        fi
    fi
    line_f="$fp/$fn${status:+ ($status)}"
    results+=("$(printf '%-24s monolith %-9s functions %s' "$app" "$line_m" "$line_f")")
    if [ -n "$status" ] || [ "$fp" -lt "$mp" ]; then
        rc=$((rc > 1 ? rc : 1))
        lost="$(lost_checks "$api/monolith.json" "$api/functions.json")"
        [ -z "$lost" ] || results+=("$(printf '%s\n' "$lost" | sed 's/^/    - /')")
    fi
done

[ "${#results[@]}" -eq 0 ] || printf '%s\n' "${results[@]}"
exit "$rc"
