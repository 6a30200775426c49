#!/usr/bin/env python3
"""uproot peer of `hepml dqm fetch`, as a whole command: the files of DIR named
DQM_V0001_R<run>__<PD>__..., the histograms of CONTENTS ({subsystem: [paths]}) read with uproot
(`values()`, as AutoDQM_ML does), one row per run, written to OUT.parquet with awkward.

Usage: python bench/uproot_fetch.py CONTENTS.json DIR OUT.parquet"""
import json
import os
import re
import sys

import awkward
import uproot


def main():
    contents = json.load(open(sys.argv[1]))
    directory, output = sys.argv[2], sys.argv[3]
    files = sorted((int(re.search(r"_R(\d+)", name).group(1)), os.path.join(directory, name))
                   for name in os.listdir(directory) if name.startswith("DQM_") and name.endswith(".root"))
    names = [f"{subsystem}{entry}" for subsystem in sorted(contents) for entry in contents[subsystem]]
    rows = {name: [] for name in names}
    for run, path in files:
        with uproot.open(path) as file:
            for name in names:
                rows[name].append(file[f"DQMData/Run {run}/{name}"].values())
    rows["run_number"] = [run for run, _ in files]
    awkward.to_parquet(awkward.zip({k: awkward.Array(v) for k, v in rows.items()}, depth_limit=1), output)


main()
