"""How C++ ROOT itself reads trees and histograms, as JSON-ready values, for HEPML's tests.

Numbers are repr() strings (64-bit integers exact) so that no JSON parser can round them."""
import ROOT


def numbers(values):
    return [repr(float(v)) for v in values]


def value_text(leaf, k):
    """64-bit integers exactly (GetValue returns a double), everything else as a double's repr."""
    if leaf.IsA().GetName() in ("TLeafL", "TLeafG"):
        value = int(leaf.GetValueLong64(k))
        return str(value % 2**64 if leaf.IsUnsigned() else value)
    return repr(float(leaf.GetValue(k)))


def read_leaves(tree):
    """ROOT's own reading of every leaf, per entry: the flattened values (TLeaf::GetValue)."""
    out = {}
    for leaf in tree.GetListOfLeaves():
        branch = leaf.GetBranch().GetName()
        name = branch if branch == leaf.GetName() or leaf.GetBranch().GetNleaves() == 1 else f"{branch}.{leaf.GetName()}"
        out[name] = []
    for entry in range(tree.GetEntries()):
        tree.GetEntry(entry)
        for leaf in tree.GetListOfLeaves():
            branch = leaf.GetBranch()
            name = branch.GetName() if branch.GetNleaves() == 1 else f"{branch.GetName()}.{leaf.GetName()}"
            if leaf.IsA().GetName() == "TLeafC":
                out[name].append([str(leaf.GetValueString())])
            else:
                out[name].append([value_text(leaf, k) for k in range(leaf.GetLen())])
    return out


def walk_objects(path, visit):
    """Calls visit(path, object) for every object in the file, directories searched recursively."""
    file = ROOT.TFile.Open(path)
    def walk(directory, prefix):
        for key in directory.GetListOfKeys():
            obj = key.ReadObj()
            name = prefix + key.GetName()
            if obj.InheritsFrom("TDirectory"):
                walk(obj, name + "/")
            else:
                visit(name, obj)
    walk(file, "")
    file.Close()


def read_histograms(path):
    out = {}
    def visit(name, obj):
        if obj.InheritsFrom("TH1"):
            cells = obj.GetNcells()
            out[name] = {"class": obj.ClassName(), "title": obj.GetTitle(), "entries": repr(obj.GetEntries()),
                         "values": numbers(obj.GetBinContent(k) for k in range(cells)),
                         "errors": numbers(obj.GetBinError(k) for k in range(cells)),
                         "xtitle": obj.GetXaxis().GetTitle(), "ytitle": obj.GetYaxis().GetTitle(),
                         "labels": [str(obj.GetXaxis().GetBinLabel(k + 1)) for k in range(obj.GetNbinsX())] if obj.GetXaxis().GetLabels() else []}
    walk_objects(path, visit)
    return out


def read_trees(path):
    out = {}
    def visit(name, obj):
        if obj.InheritsFrom("TTree"):
            out[name] = {"title": obj.GetTitle(), "entries": int(obj.GetEntries()), "leaves": read_leaves(obj)}
    walk_objects(path, visit)
    return out
