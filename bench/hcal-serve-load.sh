#!/bin/sh
# The bounded loopback load test of `hepml hcal serve` (docs/hcal-serve.md, "Measurements"): the
# issue's rate (50 LS/s offered, 4 requests in flight) for 2,000 LS, then the 10,000-LS memory soak.
# `hepml bench hcal-serve` starts the server from the same binary on 127.0.0.1 (a free port),
# trains the production-like model rin-dc-cnnrnnae (HE) unless MODEL names a run directory, sends
# a fixed count with a time limit, stops the server by PID and prints the sustained rate, the
# POST-until-queryable latency percentiles and the server's RSS over the run.
#   bench/hcal-serve-load.sh            (HEPML=path/to/hepml uses an existing binary; MODEL=RUN_DIR)
set -eu
cd "$(dirname "$0")/.."
if [ -z "${HEPML:-}" ]; then swift build -c release --product hepml; HEPML="$(swift build -c release --show-bin-path)/hepml"; fi
MODEL_ARGS=""
if [ -n "${MODEL:-}" ]; then MODEL_ARGS="--model $MODEL"; fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$HEPML" bench hcal-serve $MODEL_ARGS --count 2000 --rate 50 --parallel 4 --max-seconds 120
# shellcheck disable=SC2086
"$HEPML" bench hcal-serve $MODEL_ARGS --count 10000 --rate 50 --parallel 4 --max-seconds 400
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
