"""Writes a small Hcal4DQMAnalyzer-layout file with C++ ROOT, as the analyzer does (TFileService
directory Hcal4DQMAnalyzer, TH3I hist3D_depth1..7 filled with Fill(LS, ieta, iphi), TTree evttree
with int branches RunNum and LumiSec, one entry per event), plus what was filled as JSON.

    python write_hcal.py OUTDIR   ->  OUTDIR/hcal.root + OUTDIR/expected.json"""
import array
import json
import os
import random
import sys

import ROOT

ROOT.gErrorIgnoreLevel = ROOT.kWarning
out = sys.argv[1]
rng = random.Random(7)
f = ROOT.TFile(os.path.join(out, "hcal.root"), "RECREATE")
d = f.mkdir("Hcal4DQMAnalyzer")
d.cd()
hists = [ROOT.TH3I(f"hist3D_depth{k}", f"hist3D_depth{k}", 2000, 0, 2000, 64, -32, 32, 72, 0, 72) for k in range(1, 8)]
fills = []
for ls in (1, 2, 5):
    for _ in range(40):
        ieta = rng.choice([-1, 1]) * rng.randint(1, 29)
        iphi = rng.randint(1, 72)
        depth = rng.randint(1, 7)
        count = rng.randint(1, 5)
        for _ in range(count):
            hists[depth - 1].Fill(ls, ieta, iphi)
        fills.append([ls, ieta, iphi, depth, count])
tree = ROOT.TTree("evttree", "evttree")

run_value = array.array("i", [0])
ls_value = array.array("i", [0])
tree.Branch("RunNum", run_value, "RunNum/I")
tree.Branch("LumiSec", ls_value, "LumiSec/I")
events = {1: 7, 2: 3, 5: 11}
for ls, n in events.items():
    for _ in range(n):
        run_value[0] = 362696
        ls_value[0] = ls
        tree.Fill()
f.Write()
f.Close()
with open(os.path.join(out, "expected.json"), "w") as handle:
    json.dump({"run": 362696, "events": {str(k): v for k, v in events.items()}, "fills": fills}, handle)
