#!/bin/sh
# Seeds the libFuzzer corpus of one reader (`make fuzz-<reader>`) from the shared test files:
#   scripts/fuzz-seed-corpus.sh READER CORPUS-DIR HEPML-BINARY
# ROOT files are copied; the other formats are written by `hepml` from the shared ROOT trees and
# from a small `dqm generate` data set, so the corpus starts from valid files of every reader.
set -eu
reader=$1 corpus=$(cd "$2" && pwd) hepml=$3
shared=${HEPML_SHARED_DIR:-../shared}
roots="uproot-histograms.root uproot-issue33.root uproot-simple.root uproot-leaflist.root uproot-issue-227a.root
uproot-vectorVectorDouble.root uproot-small-flat-tree.root uproot-small-evnt-tree-fullsplit.root"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

dqm_data() {
    "$hepml" dqm generate --runs 6 --output-dir "$scratch/dqm" --quiet --seed 3 >/dev/null
}

case $reader in
root)
    for seed in $roots; do [ ! -f "$shared/testdata/root/$seed" ] || cp -n "$shared/testdata/root/$seed" "$corpus/"; done
    [ ! -f "$shared/repro/uproot-issue21.root" ] || cp -n "$shared/repro/uproot-issue21.root" "$corpus/"
    ;;
parquet | npz | csv | npy)
    for tree in uproot-small-flat-tree.root:tree uproot-simple.root:tree uproot-leaflist.root:tree uproot-HZZ.root:events; do
        name=$(echo "$tree" | sed 's/\.root:/_/')
        if [ "$reader" = npy ]; then
            "$hepml" root dump "$shared/testdata/root/$tree" --entries 0:30 --to "$scratch/$name.npz" >/dev/null 2>&1 || continue
            (cd "$scratch" && unzip -o -q "$name.npz" -d "$name" && for member in "$name"/*.npy; do cp "$member" "$corpus/${name}_$(basename "$member")"; done) || true
        else
            "$hepml" root dump "$shared/testdata/root/$tree" --entries 0:30 --to "$corpus/$name.$reader" >/dev/null 2>&1 || true
        fi
    done
    if [ "$reader" = parquet ]; then
        dqm_data
        "$hepml" dqm fetch --contents "$scratch/dqm/contents.json" --datasets "$scratch/dqm/datasets.json" --input "$scratch/dqm" \
            --output-dir "$scratch/fetch" --quiet >/dev/null
        cp "$scratch/fetch/"*.parquet "$corpus/"
    fi
    ;;
dqm-config)
    dqm_data
    cp "$scratch/dqm/contents.json" "$scratch/dqm/datasets.json" "$corpus/"
    ;;
econt-config)
    dqm_data
    "$hepml" dqm fetch --contents "$scratch/dqm/contents.json" --datasets "$scratch/dqm/datasets.json" --input "$scratch/dqm" \
        --output-dir "$scratch/out" --quiet >/dev/null
    "$hepml" dqm train --algorithm ae --epochs 1 --low-stat-threshold 0 --input-file "$scratch/out/ZeroBias.parquet" \
        --output-dir "$scratch/out" --quiet >/dev/null
    for run in "$scratch/out"/autoencoder_*; do
        cp "$run/model.json" "$corpus/$(basename "$run")-model.json"
        cp "$run/weights.safetensors" "$corpus/$(basename "$run")-weights.safetensors"
    done
    ;;
*)
    echo "unknown reader $reader" >&2
    exit 1
    ;;
esac
[ -n "$(ls -A "$corpus")" ] || { echo "no seed for $reader (are the shared test files in $shared?)" >&2; exit 1; }
