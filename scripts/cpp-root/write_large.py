"""Writes a ROOT file over 2 GiB with C++ ROOT, uncompressed, so that 64-bit key, basket and
directory offsets are exercised: tree `big` with one Double_t branch x = entry / 2 (ENTRIES
entries), then a TH1D `after` whose key lies beyond 2 GiB.

    python write_large.py PATH [ENTRIES]"""
import sys

import ROOT

ROOT.gErrorIgnoreLevel = ROOT.kWarning
ROOT.gInterpreter.Declare(r'''
#include "TFile.h"
#include "TH1D.h"
#include "TTree.h"
namespace hepml {
void writeLarge(const char* path, Long64_t entries) {
  TFile file(path, "RECREATE", "", 0);
  TTree tree("big", "over 2 GiB");
  Double_t x;
  tree.Branch("x", &x, "x/D");
  for (Long64_t e = 0; e < entries; ++e) { x = e * 0.5; tree.Fill(); }
  tree.Write();
  TH1D after("after", "written after the tree", 4, 0, 4);
  for (int k = 0; k < 4; ++k) after.SetBinContent(k + 1, k * 1.5);
  after.Write();
  file.Close();
}
}
''')
ROOT.hepml.writeLarge(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 280_000_000)
