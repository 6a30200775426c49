#!/bin/sh
# Runs `hepml bench root` and the uproot peer on the same files and prints the speed ratios.
#   bench/compare-root.sh [python]    (python defaults to .venv-interop/bin/python)
set -eu
cd "$(dirname "$0")/.."
PYTHON=${1:-.venv-interop/bin/python}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hepml-bench-root.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
swift build -c release --product hepml
"$(swift build -c release --show-bin-path)/hepml" bench root --directory "$DIR"
"$PYTHON" bench/uproot_reference.py "$DIR"
