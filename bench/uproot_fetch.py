#!/usr/bin/env python3
"""uproot peer of `hepml dqm fetch`, as a whole command: the files of DIR named
DQM_V0001_R<run>__<PD>__..., the histograms of CONTENTS ({subsystem: [paths]}) read with uproot
(`values()`, as AutoDQM_ML does), one row per run, written to OUT.parquet with awkward.

DIR may be root://host:port//path: the directory is listed with the `xrootd` Python bindings
(`XRootD.client.FileSystem.dirlist`) and uproot opens each file over XRootD (fsspec-xrootd), the
peer of `hepml dqm fetch --input root://…` (bench/compare-remote.sh).

Usage: python bench/uproot_fetch.py CONTENTS.json DIR OUT.parquet"""
import json
import os
import re
import sys

import awkward
import uproot


def list_names(directory):
    if not directory.startswith("root://"):
        return os.listdir(directory)
    from XRootD import client
    server, path = re.match(r"(root://[^/]+)/(/.*)", directory).groups()
    status, listing = client.FileSystem(server).dirlist(path)
    if not status.ok:
        raise SystemExit(f"cannot list {directory}: {status.message}")
    return [entry.name for entry in listing]


def main():
    contents = json.load(open(sys.argv[1]))
    directory, output = sys.argv[2], sys.argv[3]
    files = sorted((int(re.search(r"_R(\d+)", name).group(1)), directory.rstrip("/") + "/" + name)
                   for name in list_names(directory) if name.startswith("DQM_") and name.endswith(".root"))
    names = [f"{subsystem}/{entry.lstrip('/')}" for subsystem in sorted(contents) for entry in contents[subsystem]]
    rows = {name: [] for name in names}
    for run, path in files:
        with uproot.open(path) as file:
            for name in names:
                rows[name].append(file[f"DQMData/Run {run}/{name}"].values())
    rows["run_number"] = [run for run, _ in files]
    awkward.to_parquet(awkward.zip({k: awkward.Array(v) for k, v in rows.items()}, depth_limit=1), output)


main()
