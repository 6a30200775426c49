#!/bin/sh
# Runs `hepml bench root` and the uproot peer on the same files and prints the speed ratios.
#   bench/compare-root.sh [python]    (python defaults to .venv-interop/bin/python)
# Then times whole commands as a user runs them (process start included): `hepml root ls -r -l`
# against bench/uproot_ls.py on every DQM file, one process per file each, and `hepml dqm fetch`
# of 200 of the 2,000 histograms of every file (Parquet written) against bench/uproot_fetch.py.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${1:-.venv-interop/bin/python}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hepml-bench-root.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
swift build -c release --product hepml
"$(swift build -c release --show-bin-path)/hepml" bench root --directory "$DIR"
"$PYTHON" bench/uproot_reference.py "$DIR"
HEPML="$(swift build -c release --show-bin-path)/hepml"
# GNU date, not a python3 process per timestamp: that costs 0.2–0.3 s here (a pyenv shim), as much as the fetch.
seconds() { date +%s.%N; }
start=$(seconds)
for file in "$DIR"/dqm_*.root; do "$HEPML" root ls -r -l "$file" > /dev/null; done
middle=$(seconds)
for file in "$DIR"/dqm_*.root; do "$PYTHON" bench/uproot_ls.py "$file" > /dev/null; done
end=$(seconds)
python3 -c "h=$middle-$start; u=$end-$middle; print(f'root ls -r -l, whole commands over every DQM file: hepml {h:.2f} s, uproot {u:.2f} s ({u/h:.1f}x)')"
# The DQM files under DQM names (run 1000 + i), and the contents/datasets JSON of a 200-histogram fetch.
mkdir -p "$DIR/fetch" "$DIR/out"
for file in "$DIR"/dqm_*.root; do
    index=${file##*dqm_}; index=${index%.root}
    ln -s "$file" "$DIR/fetch/$(printf 'DQM_V0001_R%09d__ZeroBias__Run2024A-PromptReco-v1__DQMIO.root' $((1000 + index)))"
done
python3 - "$DIR" <<'PY'
import json, sys
subsystems = ["Hcal", "Ecal", "Pixel", "SiStrip", "Muons", "JetMET", "Tracking", "L1T"]
contents = {}
for i in range(0, 2000, 10):
    contents.setdefault(subsystems[i % len(subsystems)], []).append(f"/Run summary/Folder{i % 25}/h{i}")
json.dump(contents, open(f"{sys.argv[1]}/contents.json", "w"))
json.dump({"primary_datasets": ["ZeroBias"], "years": {"2024": {"productions": [""]}}}, open(f"{sys.argv[1]}/datasets.json", "w"))
PY
start=$(seconds)
"$HEPML" dqm fetch --contents "$DIR/contents.json" --datasets "$DIR/datasets.json" --input "$DIR/fetch" --output-dir "$DIR/out" --quiet > /dev/null
middle=$(seconds)
"$PYTHON" bench/uproot_fetch.py "$DIR/contents.json" "$DIR/fetch" "$DIR/out/uproot.parquet"
end=$(seconds)
python3 -c "h=$middle-$start; u=$end-$middle; print(f'dqm fetch of 200 of 2,000 histograms x 20 files, whole commands: hepml {h:.2f} s, uproot {u:.2f} s ({u/h:.1f}x)')"
