#!/usr/bin/env bash
# Runs `hepml bench columnar` and the pyarrow peer on the same file, same machine.
# Usage: bench/compare-columnar.sh [python]   (default: .venv-interop/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv-interop/bin/python}
swift build -c release --product hepml >/dev/null
bin=$(swift build -c release --show-bin-path)/hepml
"$bin" bench columnar --output out/bench-columnar
"$python" bench/pyarrow_reference.py out/bench-columnar/hepml_columnar.parquet
