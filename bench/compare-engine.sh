#!/usr/bin/env bash
# Runs `hepml bench engine` and bench/torch_reference.py on this machine with the same thread
# count and prints HEPML's samples/s over PyTorch's for each reference model.
#   bench/compare-engine.sh [path/to/python-with-torch]
# Targets (issue 2): >= 2x on dqm-ae, econt-ae, event-ae; >= 0.9x on ldmx-convnet.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-${HEPML_TORCH_PYTHON:-.venv-bench/bin/python}}"
export HEPML_NUM_THREADS="${HEPML_NUM_THREADS:-2}"
swift build -c release --product hepml >/dev/null
HEPML="$(swift build -c release --show-bin-path)/hepml"
hepml_out="$("$HEPML" bench engine)"
torch_out="$("$PYTHON" bench/torch_reference.py)"
echo "$hepml_out"
echo "$torch_out"
echo "# ratio = HEPML samples/s / PyTorch samples/s (target: >= 2 for the first three, >= 0.9 for ldmx-convnet)"
for model in dqm-ae econt-ae event-ae ldmx-convnet; do
    ours=$(awk -v m="$model" '$1 == m { print $3 }' <<<"$hepml_out")
    theirs=$(awk -v m="$model" '$1 == m { print $3 }' <<<"$torch_out")
    awk -v m="$model" -v a="$ours" -v b="$theirs" 'BEGIN { printf "%-13s %.2fx  (%s vs %s samples/s)\n", m, a / b, a, b }'
done
