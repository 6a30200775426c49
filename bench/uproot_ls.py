#!/usr/bin/env python3
"""uproot peer of `hepml root ls -r -l FILE`, as a whole command: every key of the file, recursively,
with class, cycle, title and a histogram's binning (which needs the histogram read), one line each.

Usage: python bench/uproot_ls.py FILE"""
import sys

import uproot


def main():
    with uproot.open(sys.argv[1]) as file:
        for path, classname in file.classnames(recursive=True).items():
            detail = ""
            if classname.startswith(("TH", "TProfile")):
                axes = file[path].axes
                detail = "  " + " × ".join(f"{len(axis)} bins [{axis.edges()[0]}, {axis.edges()[-1]}]" for axis in axes)
            print(f"{classname} {path}{detail}")


main()
