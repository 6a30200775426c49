#!/usr/bin/env bash
# Creates the Python virtual environments that the interoperability tests use. HEPML itself never
# needs Python.
#   scripts/interop-venv.sh [VENV]        uproot (+ xrootd, fsspec-xrootd), pyarrow, pandas, awkward, numpy, safetensors,
#                                         scipy, scikit-learn and ONNX Runtime read what HEPML writes
#                                         (and the other way round)
#   scripts/interop-venv.sh VENV root     C++ ROOT (the PyPI package `root`, ~250 MB, about 4 minutes
#                                         to install here) as the judge of the ROOT reader and writer;
#                                         a separate environment so that its size stays out of the other
set -euo pipefail
venv=${1:-.venv-interop}
case "${2:-interop}" in
    interop) requirements="numpy pandas pyarrow awkward uproot safetensors scipy scikit-learn onnx onnxruntime xrootd fsspec-xrootd" ;;
    root) requirements="root numpy" ;;
    *) echo "usage: $0 [VENV] [interop|root]" >&2; exit 2 ;;
esac
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$requirements" ]; then exit 0; fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirements
echo "$requirements" > "$stamp"
