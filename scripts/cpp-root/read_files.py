"""C++ ROOT reads files that HEPML wrote and reports what it finds, for HEPML's writer tests.

    python read_files.py OUT.json FILE...

For each file: whether ROOT had to recover it, every histogram (reading.read_histograms) and every
tree's leaves per entry (reading.read_leaves), under the paths of their keys. ROOT's own warnings
and errors go to standard error, where the test looks for them."""
import json
import sys

import ROOT
from reading import read_histograms, read_trees

ROOT.gErrorIgnoreLevel = ROOT.kInfo


def main():
    report = {}
    for path in sys.argv[2:]:
        file = ROOT.TFile.Open(path)
        recovered = bool(file.TestBit(ROOT.TFile.kRecovered))
        compression = file.GetCompressionSettings()
        file.Close()
        report[path] = {"recovered": recovered, "compression": compression,
                        "histograms": read_histograms(path), "trees": read_trees(path)}
    with open(sys.argv[1], "w") as out:
        json.dump(report, out)


main()
