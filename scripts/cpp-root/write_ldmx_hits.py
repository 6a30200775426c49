"""Writes an LDMX-layout `ecalHits` tree with C++ ROOT (the PyPI package `root`): `eventNumber`
(int) and std::vector<float> branches x, y, z, E, several baskets; and ROOT's own reading of
it as JSON, for HEPML's LDMX reader test.

    python write_ldmx_hits.py OUTDIR   ->  OUTDIR/ecal_hits.root + OUTDIR/expected.json

Floats are written as repr() of their double value so that no JSON parser rounds them."""
import json
import os
import sys

import ROOT

ROOT.gErrorIgnoreLevel = ROOT.kWarning
ROOT.gInterpreter.Declare(r'''
#include <cmath>
#include <vector>
#include "TFile.h"
#include "TTree.h"

namespace hepml_ldmx {
void write(const char* path) {
  TFile file(path, "RECREATE");
  TTree tree("ecalHits", "LDMX ECal hits");
  tree.SetAutoFlush(40);
  int eventNumber = 0;
  std::vector<float> x, y, z, E;
  tree.Branch("eventNumber", &eventNumber, "eventNumber/I");
  tree.Branch("x", &x); tree.Branch("y", &y); tree.Branch("z", &z); tree.Branch("E", &E);
  const double layers[4] = {204.55, 207.3, 213.8, 218.2};
  for (int event = 0; event < 150; ++event) {
    eventNumber = 1000 + 7 * event;
    x.clear(); y.clear(); z.clear(); E.clear();
    int hits = (event * 37) % 23;
    for (int h = 0; h < hits; ++h) {
      x.push_back(float(8.34 * ((event + h) % 11 - 5)));
      y.push_back(float(7.2238 * ((3 * h + event) % 13 - 6)));
      z.push_back(float(layers[(h + event) % 4]));
      E.push_back(float(0.1 + 0.37 * h + 0.01 * event));
    }
    tree.Fill();
  }
  tree.Write();
}
}
''')

out = sys.argv[1]
path = os.path.join(out, "ecal_hits.root")
ROOT.hepml_ldmx.write(path)

events = []
f = ROOT.TFile.Open(path)
tree = f.Get("ecalHits")
for entry in range(tree.GetEntries()):
    tree.GetEntry(entry)
    events.append({"eventNumber": int(tree.eventNumber),
                   **{name: [repr(float(v)) for v in getattr(tree, name)] for name in ["x", "y", "z", "E"]}})
with open(os.path.join(out, "expected.json"), "w") as handle:
    json.dump({"events": events}, handle)
