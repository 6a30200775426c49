#!/usr/bin/env bash
# Runs `hepml bench engine` and bench/torch_reference.py on this machine with the same thread
# count, alternating RUNS times (default 3), and prints each side's best run per model (the
# least disturbed by other processes on a shared machine), the range over the runs, and HEPML's
# best samples/s over PyTorch's.
#   bench/compare-engine.sh [path/to/python-with-torch]
# Targets (issue 2): >= 2x on dqm-ae, econt-ae, event-ae; >= 0.9x on ldmx-convnet.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-${HEPML_TORCH_PYTHON:-.venv-bench/bin/python}}"
RUNS="${RUNS:-3}"
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    echo "bench/compare-engine.sh needs a Python with PyTorch's CPU build, for example:" >&2
    echo "  python3 -m venv .venv-bench && .venv-bench/bin/pip install numpy torch --index-url https://download.pytorch.org/whl/cpu" >&2
    echo "(or pass another interpreter as the first argument or in HEPML_TORCH_PYTHON)" >&2
    exit 2
fi
export HEPML_NUM_THREADS="${HEPML_NUM_THREADS:-2}"
swift build -c release --product hepml >/dev/null
HEPML="$(swift build -c release --show-bin-path)/hepml"
hepml_runs="" torch_runs=""
for _ in $(seq "$RUNS"); do
    hepml_runs+="$("$HEPML" bench engine)"$'\n'
    torch_runs+="$("$PYTHON" bench/torch_reference.py 2>/dev/null)"$'\n'
done
# The line of the run with the highest samples/s for each model, then "min-max" over the runs.
best() { awk '$1 !~ /^#/ && NF > 2 { if (!($1 in top) || $3 > top[$1]) { top[$1] = $3; line[$1] = $0 }
                                      if (!($1 in low) || $3 < low[$1]) low[$1] = $3 }
              END { for (m in line) printf "%s  (runs: %s-%s)\n", line[m], low[m], top[m] }' <<<"$1" | sort; }
hepml_best="$(best "$hepml_runs")"
torch_best="$(best "$torch_runs")"
grep -m1 '^#' <<<"$hepml_runs"
echo "$hepml_best"
grep -m1 '^#' <<<"$torch_runs"
echo "$torch_best"
echo "# ratio = HEPML best samples/s / PyTorch best samples/s over $RUNS alternating runs (target: >= 2 for the first three, >= 0.9 for ldmx-convnet)"
for model in dqm-ae econt-ae event-ae ldmx-convnet; do
    ours=$(awk -v m="$model" '$1 == m { print $3 }' <<<"$hepml_best")
    theirs=$(awk -v m="$model" '$1 == m { print $3 }' <<<"$torch_best")
    awk -v m="$model" -v a="$ours" -v b="$theirs" 'BEGIN { printf "%-13s %.2fx  (%s vs %s samples/s)\n", m, a / b, a, b }'
done
