"""Writes ROOT files with C++ ROOT (the PyPI package `root`) for HEPML's reading tests, and
ROOT's own reading of them as JSON: every leaf type, strings, vectors, split and unsplit objects,
every compression algorithm, every histogram and profile class.

    python write_files.py OUTDIR   ->  OUTDIR/*.root + OUTDIR/expected.json

Numbers are written as repr() strings so that no JSON parser can round them."""
import json
import os
import sys

import ROOT
from reading import numbers, read_histograms, read_leaves

ROOT.gErrorIgnoreLevel = ROOT.kWarning
ROOT.gInterpreter.Declare(r'''
#include <string>
#include <vector>
#include "TClonesArray.h"
#include "TFile.h"
#include "TH1.h"
#include "TH2.h"
#include "TH3.h"
#include "TProfile.h"
#include "TProfile2D.h"
#include "TProfile3D.h"
#include "TString.h"
#include "TTree.h"

class MCHit : public TObject {
public:
  float fEneDep = 0; int fId = 0; double fPos[3] = {0, 0, 0};
  ClassDef(MCHit, 1)
};
struct Cell { float e = 0; short ix = 0; float w[2] = {0, 0}; };
class Event : public TObject {
public:
  int fN = 0; float fX = 0; float fArr[4] = {0, 0, 0, 0}; std::string fName; std::vector<float> fVec;
  std::vector<std::vector<float>> fVV; TClonesArray* fMCHits = nullptr; std::vector<Cell> fCells;
  Event() { fMCHits = new TClonesArray("MCHit", 10); }
  ClassDef(Event, 1)
};

namespace hepml {
const int kEntries = 57;

// One entry of every leaf type: flat, fixed arrays, counter-jagged arrays, a leaf list, strings, vectors.
void writeTrees(const char* path, int compression) {
  TFile file(path, "RECREATE", "", compression);
  TTree leaves("leaves", "every leaf type");
  leaves.SetAutoFlush(20);  // several baskets per branch
  Char_t b; UChar_t ub; Short_t s; UShort_t us; Int_t i; UInt_t ui; Long64_t l; ULong64_t ul; Long_t g;
  Float_t f; Double_t d; Bool_t o; char c[32]; Float_t arr[3]; Int_t n; Double_t jag[8]; Int_t jag2[8][2];
  struct { Double_t x; Int_t y; Char_t z; } __attribute__((packed)) record;
  leaves.Branch("b", &b, "b/B"); leaves.Branch("ub", &ub, "ub/b"); leaves.Branch("s", &s, "s/S");
  leaves.Branch("us", &us, "us/s"); leaves.Branch("i", &i, "i/I"); leaves.Branch("ui", &ui, "ui/i");
  leaves.Branch("l", &l, "l/L"); leaves.Branch("ul", &ul, "ul/l"); leaves.Branch("g", &g, "g/G");
  leaves.Branch("f", &f, "f/F"); leaves.Branch("d", &d, "d/D"); leaves.Branch("o", &o, "o/O");
  leaves.Branch("c", c, "c/C"); leaves.Branch("arr", arr, "arr[3]/F"); leaves.Branch("n", &n, "n/I");
  leaves.Branch("jag", jag, "jag[n]/D"); leaves.Branch("jag2", jag2, "jag2[n][2]/I");
  leaves.Branch("record", &record, "x/D:y/I:z/B");
  std::string str; TString tstr; std::vector<int> vi; std::vector<double> vd; std::vector<std::string> vs;
  std::vector<std::vector<float>> vvf;
  TTree stl("stl", "strings and vectors");
  stl.SetAutoFlush(20);
  stl.Branch("str", &str); stl.Branch("tstr", &tstr); stl.Branch("vi", &vi); stl.Branch("vd", &vd);
  stl.Branch("vs", &vs); stl.Branch("vvf", &vvf);
  for (int e = 0; e < kEntries; ++e) {
    b = -64 + e; ub = 200 + e % 50; s = -30000 + 997 * e; us = 60000 - e; i = -2000000000 + 70000001 * e;
    ui = 4000000000u - 12345u * e; l = -9000000000000000000LL + 123456789012345LL * e;
    ul = 18000000000000000000ULL - 98765432109ULL * e; g = -5000000000LL * (e % 3);
    f = 0.1f * e - 2.5f; d = 1.0 / (e + 1) - 0.25; o = e % 3 == 0;
    snprintf(c, sizeof c, "chars%d%s", e, std::string(e % 7, 'x').c_str());
    for (int k = 0; k < 3; ++k) arr[k] = e * 3 + k + 0.5f;
    n = e % 5;
    for (int k = 0; k < n; ++k) { jag[k] = e + k / 8.0; jag2[k][0] = e * 10 + k; jag2[k][1] = -e * 10 - k; }
    record.x = e * 1.25; record.y = -e; record.z = e % 2;
    leaves.Fill();
    str = "string " + std::to_string(e) + std::string(e % 4, '!'); tstr = Form("TString %d", e * e);
    vi.assign(e % 4, e); vd.clear(); for (int k = 0; k < e % 3; ++k) vd.push_back(e + 0.5 * k);
    vs.clear(); for (int k = 0; k < e % 3; ++k) vs.push_back("v" + std::to_string(e) + "_" + std::to_string(k));
    vvf.clear(); for (int k = 0; k < e % 4; ++k) vvf.push_back(std::vector<float>(k, e + 0.25f * k));
    stl.Fill();
  }
  file.Write();
  file.Close();
}

void fillEvent(Event& ev, int e) {
  ev.fN = e; ev.fX = 0.5f * e; for (int k = 0; k < 4; ++k) ev.fArr[k] = e * 10 + k;
  ev.fName = "ev" + std::to_string(e); ev.fVec.assign(e % 3, 1.5f * e);
  ev.fVV.clear(); for (int k = 0; k < e % 3; ++k) ev.fVV.push_back(std::vector<float>(k + 1, float(e + k)));
  ev.fMCHits->Clear();
  for (int k = 0; k < e % 4; ++k) {
    auto* hit = new ((*ev.fMCHits)[k]) MCHit();
    hit->fEneDep = e + 0.25f * k; hit->fId = 100 * e + k;
    for (int j = 0; j < 3; ++j) hit->fPos[j] = e + k + 0.1 * j;
  }
  ev.fCells.clear();
  for (int k = 0; k < (e + 1) % 3; ++k) { Cell cell; cell.e = e * 2 + k; cell.ix = k; cell.w[0] = k; cell.w[1] = -k; ev.fCells.push_back(cell); }
}

// A split (99) and an unsplit (0) object branch of the same class.
void writeObjects(const char* path) {
  TFile file(path, "RECREATE");
  for (int split : {99, 0}) {
    TTree tree(split ? "split" : "unsplit", "objects");
    tree.SetAutoFlush(20);
    Event ev;
    tree.Branch("event", &ev, 32000, split);
    for (int e = 0; e < kEntries; ++e) { fillEvent(ev, e); tree.Fill(); }
    tree.Write();
  }
  file.Close();
}

// Every histogram class, with variable bins, labels, Sumw2 and weights; profiles in every error option.
template <class H> void fill1(H& h, int seed) {
  for (int k = 0; k < 200; ++k) h.Fill(-3 + 6.0 * ((k * 37 + seed) % 101) / 100.0, 1 + (k % 3));
}
void writeHistograms(const char* path) {
  TFile file(path, "RECREATE");
  auto* dir = file.mkdir("dir");
  auto* sub = dir->mkdir("sub");
  file.cd();
  TH1C h1c("h1c", "TH1C;x title", 10, -3, 3); fill1(h1c, 1); h1c.Write();
  TH1S h1s("h1s", "TH1S", 10, -3, 3); fill1(h1s, 2); h1s.Write();
  TH1I h1i("h1i", "TH1I", 10, -3, 3); fill1(h1i, 3); h1i.Write();
  double edges[] = {-3, -2, -0.5, 0, 0.25, 1, 3};
  TH1F h1f("h1f", "TH1F variable", 6, edges); h1f.Sumw2(); fill1(h1f, 4); h1f.Write();
  TH1D h1d("h1d", "TH1D labels", 4, 0, 4);
  const char* names[] = {"alpha", "beta", "gamma", "delta"};
  for (int k = 0; k < 4; ++k) { h1d.GetXaxis()->SetBinLabel(k + 1, names[k]); h1d.Fill(k + 0.5, k * 1.5); }
  h1d.Write();
  dir->cd();
  TH2C h2c("h2c", "TH2C", 4, 0, 4, 3, 0, 3); TH2S h2s("h2s", "TH2S", 4, 0, 4, 3, 0, 3);
  TH2I h2i("h2i", "TH2I", 4, 0, 4, 3, 0, 3); TH2F h2f("h2f", "TH2F;x;y", 4, 0, 4, 3, 0, 3);
  TH2D h2d("h2d", "TH2D", 4, 0, 4, 3, 0, 3); h2d.Sumw2();
  for (int k = 0; k < 150; ++k) {
    double x = (k * 7 % 50) / 10.0 - 0.5, y = (k * 11 % 40) / 10.0 - 0.5;
    h2c.Fill(x, y); h2s.Fill(x, y); h2i.Fill(x, y); h2f.Fill(x, y, 0.5); h2d.Fill(x, y, 1 + k % 4);
  }
  h2c.Write(); h2s.Write(); h2i.Write(); h2f.Write(); h2d.Write();
  sub->cd();
  TH3C h3c("h3c", "TH3C", 3, 0, 3, 2, 0, 2, 2, 0, 2); TH3S h3s("h3s", "TH3S", 3, 0, 3, 2, 0, 2, 2, 0, 2);
  TH3I h3i("h3i", "TH3I", 3, 0, 3, 2, 0, 2, 2, 0, 2); TH3F h3f("h3f", "TH3F", 3, 0, 3, 2, 0, 2, 2, 0, 2);
  TH3D h3d("h3d", "TH3D", 3, 0, 3, 2, 0, 2, 2, 0, 2); h3d.Sumw2();
  for (int k = 0; k < 120; ++k) {
    double x = (k * 7 % 40) / 10.0 - 0.5, y = (k * 3 % 25) / 10.0 - 0.2, z = (k % 23) / 10.0 - 0.1;
    h3c.Fill(x, y, z); h3s.Fill(x, y, z); h3i.Fill(x, y, z); h3f.Fill(x, y, z, 2); h3d.Fill(x, y, z, 0.5 + k % 3);
  }
  h3c.Write(); h3s.Write(); h3i.Write(); h3f.Write(); h3d.Write();
  file.cd();
  const char* options[] = {"", "s", "i", "g"};
  for (int m = 0; m < 4; ++m) {
    TProfile p(Form("prof%s", options[m]), Form("TProfile '%s';x;mean y", options[m]), 8, -2, 2, options[m]);
    for (int k = 0; k < 300; ++k) {
      double x = -2 + 4.0 * ((k * 13) % 97) / 97.0, y = std::sin(k * 0.7) * 5 - x;
      p.Fill(x, y, m == 1 ? 1 + k % 3 : 1);  // weighted fills give fBinSumw2
    }
    p.Fill(-1.9, 3);  // a bin with one entry (zero spread)
    p.Write();
  }
  TProfile2D p2("prof2d", "TProfile2D", 3, 0, 3, 2, 0, 2);
  TProfile3D p3("prof3d", "TProfile3D", 2, 0, 2, 2, 0, 2, 2, 0, 2);
  for (int k = 0; k < 100; ++k) {
    double x = (k % 31) / 10.0, y = (k % 19) / 10.0, z = (k % 17) / 10.0;
    p2.Fill(x, y, k * 0.1, 1 + k % 2); p3.Fill(x, y, z, k * 0.3);
  }
  p2.Write(); p3.Write();
  file.Close();
}
}
''')


def read_stl(tree):
    out = {name: [] for name in ("str", "tstr", "vi", "vd", "vs", "vvf")}
    for entry in range(tree.GetEntries()):
        tree.GetEntry(entry)
        out["str"].append([str(tree.str)])
        out["tstr"].append([str(tree.tstr)])
        out["vi"].append(numbers(tree.vi))
        out["vd"].append(numbers(tree.vd))
        out["vs"].append([str(x) for x in tree.vs])
        out["vvf"].append([numbers(inner) for inner in tree.vvf])
    return out


def read_objects(tree):
    names = ["fN", "fX", "fArr[4]", "fName", "fVec", "fVV", "fMCHits", "fMCHits.fEneDep", "fMCHits.fId",
             "fMCHits.fPos[3]", "fCells", "fCells.e", "fCells.ix", "fCells.w[2]"]
    # TObject members through ROOT's leaves. In memory fBits also carries kIsOnHeap and kNotDeleted
    # (0x03000000), which TObject::Streamer never writes; the file holds (and uproot reads) the rest.
    leaf_names = ["fUniqueID", "fBits", "fMCHits.fUniqueID", "fMCHits.fBits"]
    out = {name: [] for name in names + leaf_names}
    for entry in range(tree.GetEntries()):
        tree.GetEntry(entry)
        for name in leaf_names:
            leaf = tree.GetLeaf(name)
            memory_bits = 0x03000000 if name.endswith("fBits") else 0
            out[name].append(numbers(int(leaf.GetValue(k)) & ~memory_bits for k in range(leaf.GetLen())))
        ev = tree.event
        hits = [ev.fMCHits.At(k) for k in range(ev.fMCHits.GetEntriesFast())]
        out["fN"].append(numbers([ev.fN]))
        out["fX"].append(numbers([ev.fX]))
        out["fArr[4]"].append(numbers(ev.fArr[k] for k in range(4)))
        out["fName"].append([str(ev.fName)])
        out["fVec"].append(numbers(ev.fVec))
        out["fVV"].append([numbers(inner) for inner in ev.fVV])
        out["fMCHits"].append(numbers([len(hits)]))
        out["fMCHits.fEneDep"].append(numbers(h.fEneDep for h in hits))
        out["fMCHits.fId"].append(numbers(h.fId for h in hits))
        out["fMCHits.fPos[3]"].append(numbers(h.fPos[j] for h in hits for j in range(3)))
        out["fCells"].append(numbers([ev.fCells.size()]))
        out["fCells.e"].append(numbers(c.e for c in ev.fCells))
        out["fCells.ix"].append(numbers(c.ix for c in ev.fCells))
        out["fCells.w[2]"].append(numbers(c.w[j] for c in ev.fCells for j in range(2)))
    return out


def main():
    outdir = sys.argv[1]
    expected = {"trees": {}, "histograms": {}}
    codecs = {"none": 0, "zlib": 101, "lzma": 207, "lz4": 404, "zstd": 505}
    for codec, setting in codecs.items():
        path = os.path.join(outdir, f"trees-{codec}.root")
        ROOT.hepml.writeTrees(path, setting)
        file = ROOT.TFile.Open(path)
        expected["trees"][f"trees-{codec}.root"] = {"leaves": read_leaves(file.Get("leaves")), "stl": read_stl(file.Get("stl"))}
        file.Close()
    path = os.path.join(outdir, "objects.root")
    ROOT.hepml.writeObjects(path)
    file = ROOT.TFile.Open(path)
    expected["trees"]["objects.root"] = {"split": read_objects(file.Get("split"))}
    file.Close()
    path = os.path.join(outdir, "histograms.root")
    ROOT.hepml.writeHistograms(path)
    expected["histograms"]["histograms.root"] = read_histograms(path)
    with open(os.path.join(outdir, "expected.json"), "w") as out:
        json.dump(expected, out)


main()
