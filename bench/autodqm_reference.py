"""AutoDQM_ML's way of fetching DQM histograms, for `hepml bench dqm`.

Reads every listed histogram of every file with uproot, one `file[path].values()` at a time as
`autodqm_ml/data_prep/data_fetcher.py` does (serially), builds the awkward record array and
writes it with `awkward.to_parquet`. Usage: python bench/autodqm_reference.py MANIFEST.json
(the manifest is written by `hepml bench dqm --directory DIR`). Prints one JSON line of results.
"""
import json
import os
import resource
import sys
import tempfile
import time

import awkward
import uproot


def main():
    manifest = json.load(open(sys.argv[1]))
    start = time.perf_counter()
    records = []
    for path, run in zip(manifest["files"], manifest["runs"]):
        with uproot.open(path) as file:
            record = {}
            for name in manifest["histograms"]:
                in_file = "/".join(part for part in f"DQMData/Run {run}/{name}".split("/") if part)
                record[name] = file[in_file].values()
            records.append(record)
    read_seconds = time.perf_counter() - start
    rows = {name: [r[name] for r in records] for name in manifest["histograms"]}
    rows["run_number"] = manifest["runs"]
    array = awkward.zip({k: awkward.Array(v) for k, v in rows.items()}, depth_limit=1)
    with tempfile.TemporaryDirectory() as directory:
        awkward.to_parquet(array, os.path.join(directory, "Bench.parquet"))
    fetch_seconds = time.perf_counter() - start
    count = len(manifest["files"]) * len(manifest["histograms"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux
    print(f"uproot read (per histogram): {read_seconds:.3f} s = {count / read_seconds:9.0f} histograms/s")
    print(f"uproot read + Parquet:       {fetch_seconds:.3f} s = {count / fetch_seconds:9.0f} histograms/s, peak RSS {peak:.0f} MB")
    print(json.dumps({"read_seconds": read_seconds, "fetch_seconds": fetch_seconds, "histograms": count,
                      "fetch_histograms_per_second": count / fetch_seconds, "peak_rss_megabytes": peak}))


if __name__ == "__main__":
    main()
