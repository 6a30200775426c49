#!/usr/bin/env python3
"""uproot peer of `hepml bench root`: the same DQM fetches and whole-tree reads on the same files.

Usage: python bench/uproot_reference.py DIR   (DIR was filled by `hepml bench root --directory DIR`)
Prints uproot's rates and, when DIR/hepml-bench-root.json exists, the HEPML/uproot ratios.
Run it with the same number of worker processes as HEPML's threads (HEPML_NUM_THREADS, default: cores).
"""
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import awkward as ak
import uproot

SUBSYSTEMS = ["Hcal", "Ecal", "Pixel", "SiStrip", "Muons", "JetMET", "Tracking", "L1T"]


def dqm_paths(count, run):
    return [f"DQMData/Run {run}/{SUBSYSTEMS[i % len(SUBSYSTEMS)]}/Run summary/Folder{i % 25}/h{i}" for i in range(count)]


def subset(paths, size):
    step = max(1, len(paths) // max(1, size))
    return paths[::step][:size]


def fetch(args):
    path, index, count, size = args
    with uproot.open(path) as f:
        names = subset(dqm_paths(count, 1000 + index), size)
        return sum(1 for name in names if len(f[name].values(flow=True)) > 0)


def main():
    directory = sys.argv[1]
    workers = int(os.environ.get("HEPML_NUM_THREADS", os.cpu_count() or 1))
    files = sorted(n for n in os.listdir(directory) if n.startswith("dqm_") and n.endswith(".root"))
    count = sum(1 for _ in uproot.open(os.path.join(directory, files[0])).iterkeys(filter_classname=["TH1F", "TH2F"]))
    results = {}
    print(f"uproot {uproot.__version__}: {workers} worker processes, {len(files)} files x {count} histograms")
    for label, size in [("fetch_subset", min(200, count)), ("fetch_all", count)]:
        jobs = [(os.path.join(directory, name), int(name[4:-5]), count, size) for name in files]
        start = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            total = sum(pool.map(fetch, jobs))
        seconds = time.perf_counter() - start
        results[label + "_seconds"], results[label + "_histograms"] = seconds, total
        print(f"{label}: {total} histograms in {seconds:.3f} s = {total / seconds:.0f} histograms/s")
    for label, name, tree in [("tree_wide", "nano.root", "Events"), ("tree_long", "long.root", "tree")]:
        # Awkward is uproot's native (and fastest) form for jagged branches; NumPy would build
        # one object array per jagged branch. Best of five, as in `hepml bench root`.
        seconds = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            arrays = uproot.open(os.path.join(directory, name))[tree].arrays(library="ak")
            seconds = min(seconds, time.perf_counter() - start)
        columns = {field: arrays[field] for field in arrays.fields}
        megabytes = sum(ak.flatten(a, axis=None).nbytes for a in columns.values()) / 1e6
        arrays = columns
        results[label + "_seconds"], results[label + "_megabytes"] = seconds, megabytes
        print(f"{label}: {len(arrays)} branches, {megabytes:.1f} MB in {seconds:.3f} s = {megabytes / seconds:.0f} MB/s")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3
    print(f"peak RSS: {own:.0f} MB (main process, tree reads), {workers_peak:.0f} MB (largest fetch worker)")

    reference = os.path.join(directory, "hepml-bench-root.json")
    if os.path.exists(reference):
        with open(reference) as handle:
            hepml = json.load(handle)
        print("HEPML / uproot speed ratio (higher is faster):")
        for label in ["fetch_subset", "fetch_all", "tree_wide", "tree_long"]:
            if label + "_seconds" in hepml:
                print(f"  {label}: {results[label + '_seconds'] / hepml[label + '_seconds']:.1f}x")


if __name__ == "__main__":
    main()
