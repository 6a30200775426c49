#!/bin/sh
# Runs `hepml bench root` and the uproot peer on the same files and prints the speed ratios.
#   bench/compare-root.sh [python]    (python defaults to .venv-interop/bin/python)
# Then times whole commands as a user runs them (process start included): `hepml root ls -r -l`
# against bench/uproot_ls.py on every DQM file, one process per file each.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${1:-.venv-interop/bin/python}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hepml-bench-root.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
swift build -c release --product hepml
"$(swift build -c release --show-bin-path)/hepml" bench root --directory "$DIR"
"$PYTHON" bench/uproot_reference.py "$DIR"
HEPML="$(swift build -c release --show-bin-path)/hepml"
seconds() { python3 -c 'import sys, time; print(f"{time.time():.6f}")'; }
start=$(seconds)
for file in "$DIR"/dqm_*.root; do "$HEPML" root ls -r -l "$file" > /dev/null; done
middle=$(seconds)
for file in "$DIR"/dqm_*.root; do "$PYTHON" bench/uproot_ls.py "$file" > /dev/null; done
end=$(seconds)
python3 -c "h=$middle-$start; u=$end-$middle; print(f'root ls -r -l, whole commands over every DQM file: hepml {h:.2f} s, uproot {u:.2f} s ({u/h:.1f}x)')"
