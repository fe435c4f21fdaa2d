#!/usr/bin/env bash
# The README's test command: installs what the tests need and is missing, then
# runs `cargo test --workspace` (extra arguments are passed on to it).
#
#   tools/test.sh [CARGO TEST ARGS...]
#
# What the tests need beyond Rust:
#   graphviz (`dot`)     the DOT output test renders the graph
#   chromium             the HTML review report is checked in a real browser
#   make, a C compiler   jemalloc, cleave's allocator, is built from C
#   python3              the call-graph scorer (tools/callgraph-truth)
#   cargo-lambda         generated functions run under `cargo lambda watch`;
#                        installed from PyPI into ./.venv
#   cfn-lint             the generated template.yaml is linted against SAM's
#                        schema; installed from PyPI into ./.venv
#   aws-sam-translator   tools/sam-translate.py turns it into CloudFormation as
#                        `sam deploy` does; installed from PyPI into ./.venv
#   aws-sam-cli          `sam validate --lint` on the generated template.yaml;
#                        installed from PyPI into ./.venv
#   aarch64 Rust target  generated functions cross-build with `cargo lambda
#                        build --arm64`; added with rustup
# Debian packages are installed with apt-get when running as root or with sudo;
# otherwise the script stops with one line naming what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dot >/dev/null || need+=(graphviz)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo)
    else
        echo "tools/test.sh: missing ${need[*]}; install them (Debian: apt-get install ${need[*]}) and run again" >&2
        exit 1
    fi
    echo "tools/test.sh: installing ${need[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/cargo-lambda ]; then
    echo "tools/test.sh: installing cargo-lambda into .venv" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet cargo-lambda
fi
if [ ! -x .venv/bin/cfn-lint ]; then
    echo "tools/test.sh: installing cfn-lint into .venv" >&2
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet cfn-lint
fi
if ! .venv/bin/python -c "import samtranslator" 2>/dev/null; then
    echo "tools/test.sh: installing aws-sam-translator into .venv" >&2
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet aws-sam-translator
fi
if [ ! -x .venv/bin/sam ]; then
    echo "tools/test.sh: installing the SAM CLI into .venv" >&2
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    .venv/bin/pip install --quiet aws-sam-cli
fi
if [ ! -d "$(rustc --print sysroot)/lib/rustlib/aarch64-unknown-linux-gnu/lib" ]; then
    echo "tools/test.sh: adding the Rust target aarch64-unknown-linux-gnu" >&2
    rustup target add aarch64-unknown-linux-gnu
fi
export PATH="$PWD/.venv/bin:$PATH"

exec cargo test --workspace "$@"
