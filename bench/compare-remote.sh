#!/bin/sh
# `hepml dqm fetch` over XRootD on loopback against the same fetch from local disk and against
# uproot over XRootD (bench/uproot_fetch.py with a root:// directory: the `xrootd` Python bindings
# list it, uproot + fsspec-xrootd read it), on one generated DQM data set served by Debian's xrootd.
#   bench/compare-remote.sh [python] [runs]   (python defaults to .venv-interop/bin/python, runs to 200)
# Needs xrootd (Debian xrootd-server) and, for the peer, `pip install xrootd fsspec-xrootd` in python.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${1:-.venv-interop/bin/python}
RUNS=${2:-200}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hepml-bench-remote.XXXXXX")
XRD_PID=""
trap '[ -n "$XRD_PID" ] && kill "$XRD_PID" 2>/dev/null; rm -rf "$DIR"' EXIT
# HEPML=path/to/hepml uses an existing binary instead of building one.
if [ -z "${HEPML:-}" ]; then swift build -c release --product hepml; HEPML="$(swift build -c release --show-bin-path)/hepml"; fi
"$HEPML" dqm generate --output-dir "$DIR/data" --runs "$RUNS" > /dev/null
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'all.export %s\nall.adminpath %s/admin\nall.pidpath %s/admin\n' "$DIR/data" "$DIR" "$DIR" > "$DIR/xrootd.cfg"
mkdir -p "$DIR/admin" "$DIR/out-local" "$DIR/out-remote" "$DIR/out-uproot"
chmod -R a+rX "$DIR"
# xrootd refuses to run as root: as root it runs as nobody.
AS_USER=""
if [ "$(id -u)" -eq 0 ]; then AS_USER="-R nobody"; chown -R nobody "$DIR/admin"; chmod a+rwx "$DIR"; fi
# shellcheck disable=SC2086
xrootd -p "$PORT" -c "$DIR/xrootd.cfg" -l "$DIR/admin/log" -n bench $AS_USER > /dev/null 2>&1 &
XRD_PID=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break; sleep 0.1; done
URL="root://127.0.0.1:$PORT/$DIR/data"
seconds() { date +%s.%N; }
fetch() { "$HEPML" dqm fetch --contents "$DIR/data/contents.json" --datasets "$DIR/data/datasets.json" --input "$1" --output-dir "$2" --quiet > /dev/null; }
fetch "$DIR/data" "$DIR/out-local"   # warm the page cache for both
start=$(seconds); fetch "$DIR/data" "$DIR/out-local"; local_end=$(seconds)
fetch "$URL/" "$DIR/out-remote"; remote_end=$(seconds)
cmp "$DIR/out-local/ZeroBias.parquet" "$DIR/out-remote/ZeroBias.parquet" && echo "local and root:// Parquet files are identical"
echo "hepml dqm fetch of $RUNS runs: local $(python3 -c "print(f'{$local_end-$start:.2f}')") s, root:// $(python3 -c "print(f'{$remote_end-$local_end:.2f}')") s"
if "$PYTHON" -c "import XRootD, fsspec_xrootd, uproot" 2>/dev/null; then
    peer_start=$(seconds)
    "$PYTHON" bench/uproot_fetch.py "$DIR/data/contents.json" "$URL/" "$DIR/out-uproot/ZeroBias.parquet"
    peer_end=$(seconds)
    python3 -c "
l=$local_end-$start; r=$remote_end-$local_end; u=$peer_end-$peer_start
print(f'uproot + fsspec-xrootd over root://: {u:.2f} s')
print(f'hepml root:// is {u/r:.1f}x uproot over root://, and {r/l:.2f}x its own local read')"
else
    echo "peer skipped: $PYTHON lacks the xrootd bindings or fsspec-xrootd (pip install xrootd fsspec-xrootd)"
fi
