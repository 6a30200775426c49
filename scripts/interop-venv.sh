#!/usr/bin/env bash
# Creates the Python virtual environment that the interoperability tests use to check that
# uproot, pyarrow, pandas, awkward, numpy, safetensors, scipy, scikit-learn and ONNX Runtime read what
# HEPML writes (and the other way round). HEPML itself never needs Python.
set -euo pipefail
venv=${1:-.venv-interop}
requirements="numpy pandas pyarrow awkward uproot safetensors scipy scikit-learn onnx onnxruntime"
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$requirements" ]; then exit 0; fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirements
echo "$requirements" > "$stamp"
