import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLROOT

/// `hepml root …`: inspect and export ROOT files without ROOT or Python.
struct RootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root",
        abstract: "List, show and dump the contents of ROOT files.",
        subcommands: [RootList.self, RootShow.self, RootDump.self, RootScan.self]
    )

    /// Splits `FILE[:PATH]`; the split is at the first ':' after a ".root" suffix so that DQM paths
    /// (which may contain ':') stay whole.
    static func split(_ argument: String) -> (file: String, path: String) {
        if let range = argument.range(of: ".root:") {
            return (String(argument[..<range.upperBound].dropLast()), String(argument[range.upperBound...]))
        }
        return (argument, "")
    }
}

struct RootList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List keys with class, cycle and title (like rootls).")

    @Argument(help: "FILE[:DIRECTORY]") var target: String
    @Flag(name: .short, help: "Long listing: class, cycle, title, histogram binning, tree entries and branches.") var long = false
    @Flag(name: .short, help: "Recurse into subdirectories.") var recursive = false

    func run() throws {
        let (path, directory) = RootCommand.split(target)
        let file = try ROOTFile(path: path)
        let keys = try file.keys(under: directory, recursive: recursive)
        let classWidth = keys.map(\.className.count).max() ?? 0
        // The binning of every histogram, read in parallel from the start of each object only.
        let histogramIndices = long ? keys.indices.filter { keys[$0].className.hasPrefix("TH") || keys[$0].className.hasPrefix("TProfile") } : []
        var axesOfKey = [[Axis]?](repeating: nil, count: keys.count)
        for (index, axes) in zip(histogramIndices, file.histogramAxes(histogramIndices.map { "\(keys[$0].path);\(keys[$0].cycle)" })) {
            axesOfKey[index] = try? axes.get()
        }
        // One write of the whole listing; each key's depth and name come from one split of its path.
        let directoryDepth = directory.split(separator: "/").count
        var listing = ""
        for (index, key) in keys.enumerated() {
            let components = key.path.split(separator: "/")
            listing += String(repeating: "  ", count: max(0, components.count - directoryDepth - 1))
            let name = components.last ?? Substring(key.path)
            guard long else {
                listing += name + "\n"
                continue
            }
            var detail = ""
            if let axes = axesOfKey[index] {
                detail = "  " + RootShow.binning(axes)
            } else if key.className == "TTree" || key.className == "TNtuple", let tree = try? file.tree("\(key.path);\(key.cycle)") {
                detail = "  entries \(tree.entries), \(tree.branchNames.count) branches"
            }
            listing += key.className + String(repeating: " ", count: max(0, classWidth - key.className.count)) + " " + name
            listing += ";\(key.cycle)  \"" + key.title + "\"" + detail + "\n"
        }
        print(listing, terminator: "")
    }
}

struct RootShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Summarize and draw a histogram, or list a tree's branches.")

    @Argument(help: "FILE:PATH") var target: String
    @Option(help: "Width of the drawing in characters (1 to 1000).") var width = 60

    func validate() throws {
        guard (1...RootShow.maximumWidth).contains(width) else {
            throw ValidationError("--width must be between 1 and \(RootShow.maximumWidth) characters, not \(width)")
        }
    }

    /// Wider than any terminal; bounds the lines a typo in --width could ask for.
    static let maximumWidth = 1000

    /// The binning of a histogram's axes (as many as its dimension), as `ls -l` and `show` print it.
    static func binning(_ axes: some Sequence<Axis>) -> String {
        axes.map { axis in
            axis.variableEdges.isEmpty ? "\(axis.binCount) bins [\(axis.minimum), \(axis.maximum)]" : "\(axis.binCount) variable bins [\(axis.minimum), \(axis.maximum)]"
        }.joined(separator: " × ")
    }

    func run() throws {
        let (path, objectPath) = RootCommand.split(target)
        let file = try ROOTFile(path: path)
        let key = try file.key(at: objectPath)
        if key.className == "TTree" || key.className == "TNtuple" {
            let tree = try file.tree(objectPath)
            print("\(key.className) \(tree.name) \"\(tree.title)\": \(tree.entries) entries")
            let summaries = tree.branchSummaries()
            let nameWidth = max(32, summaries.map(\.name.count).max() ?? 0), typeWidth = max(28, summaries.map(\.typeName.count).max() ?? 0)
            print("name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + "type".padding(toLength: typeWidth, withPad: " ", startingAt: 0) + " jagged  compressed  uncompressed")
            for branch in summaries {
                print(branch.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + branch.typeName.padding(toLength: typeWidth, withPad: " ", startingAt: 0)
                      + " " + (branch.isJagged ? "yes   " : "no    ") + String(format: " %10d  %12d", branch.compressedBytes, branch.uncompressedBytes))
            }
            for leftOut in tree.unsupportedBranches { print("unsupported: \(leftOut)") }
            return
        }
        let histogram = try file.histogram(objectPath)
        print("\(histogram.className) \(histogram.name) \"\(histogram.title)\"")
        print("binning: \(RootShow.binning([histogram.xAxis, histogram.yAxis, histogram.zAxis].prefix(histogram.dimension)))")
        let values = histogram.valuesWithoutFlow
        if histogram.isProfile {
            // ROOT's GetBinContent/GetBinError of a profile: bin means and the error option's errors.
            print("entries \(histogram.entries), bin means with errors of option '\(histogram.errorOption.option)'")
        } else {
            print("entries \(histogram.entries), sum of contents \(values.reduce(0, +)), sumw2 \(histogram.sumw2.isEmpty ? "off" : "on")")
        }
        if histogram.dimension == 1 {
            drawBars(values, errors: histogram.isProfile ? histogram.variancesWithoutFlow.map { $0.squareRoot() } : nil,
                     edges: histogram.xAxis.edges, labels: histogram.xAxis.labels)
        } else if histogram.dimension == 2 {
            drawGrid(values, nx: histogram.xAxis.binCount, ny: histogram.yAxis.binCount)
        }
    }

    /// One row per bin (neighbouring bins summed when there are more than 40); profiles (with
    /// `errors`) print each mean with its error, and neighbouring means are averaged instead.
    private func drawBars(_ values: [Double], errors: [Double]?, edges: [Double], labels: [Int: String]) {
        let group = max(1, (values.count + 39) / 40)
        let rows = stride(from: 0, to: values.count, by: group).map { start -> (Int, Double, String) in
            let members = values[start..<min(values.count, start + group)]
            guard let errors else { return (start, members.reduce(0, +), "") }
            let mean = members.reduce(0, +) / Double(members.count)
            return (start, mean, group == 1 ? " ± \(errors[start])" : "")
        }
        // Bars are as long as the magnitude (negative profile means are common); the number shows the sign.
        let peak = rows.map(\.1.magnitude).filter(\.isFinite).max() ?? 0
        for (start, value, error) in rows {
            let length = peak > 0 && value.isFinite ? Int((value.magnitude / peak * Double(width)).rounded()) : 0
            let name = labels[start + 1] ?? String(format: "%10.4g", edges[start])
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0) + "|" + String(repeating: "#", count: max(0, length)) + " \(value)\(error)")
        }
    }

    /// A shaded grid, y upwards, cells summed down to the drawing size and shaded by magnitude
    /// relative to the largest finite one; negative cells take their own shades and NaN or
    /// infinite cells a marker, so that no value is drawn as if it were a small positive one.
    private func drawGrid(_ values: [Double], nx: Int, ny: Int) {
        let positiveShades = Array(" .:-=+*#%@"), negativeShades = Array(" ,;~ox0OX&")
        let columns = min(nx, width), rows = min(ny, 30)
        guard columns > 0, rows > 0 else { return }
        var grid = [[Double]](repeating: [Double](repeating: 0, count: columns), count: rows)
        for ix in 0..<nx {
            for iy in 0..<ny { grid[iy * rows / ny][ix * columns / nx] += values[ix * ny + iy] }
        }
        let peak = grid.joined().filter(\.isFinite).map(\.magnitude).max() ?? 0
        let levels = Double(positiveShades.count - 1)
        var seen = Set<String>()
        for row in grid.reversed() {
            let line = row.map { value -> Character in
                if value.isNaN { seen.insert("? NaN"); return "?" }
                if value.isInfinite { seen.insert(value > 0 ? "> +inf" : "< -inf"); return value > 0 ? ">" : "<" }
                guard peak > 0 else { return " " }
                let level = min(positiveShades.count - 1, Int(value.magnitude / peak * levels + 0.5))
                guard value < 0 else { return positiveShades[level] }
                if level > 0 { seen.insert("negative \(String(negativeShades.dropFirst()))") }
                return negativeShades[level]
            }
            print("|" + String(line) + "|")
        }
        if !seen.isEmpty { print("(" + seen.sorted().joined(separator: ", ") + ")") }
    }
}

struct RootDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write tree branches to a Parquet, NumPy .npz or CSV table, or to a tree in a new ROOT file.",
        discussion: """
        Jagged branches (x[n], vector<T>) become list columns: Arrow lists in Parquet, `name.values` +
        `name.offsets` arrays in .npz; vector<vector<T>> and x[n][k] become lists of lists. CSV gets
        one row per element of the jagged branches (which must share a counter), numbered by `entry`
        and `subentry` columns, with scalar branches repeated: the long format of uproot 4's pandas output.
        Branches are named as `root show` lists them, by uproot's full path (event/fMCHits/fMCHits.fEneDep),
        or by shell wildcards (Jet_*). Without --branches every branch that can be converted is, and
        the others are named on standard error with the reason.
        """
    )

    @Argument(help: "FILE:TREE") var target: String
    @Option(help: "Comma-separated branch names, full paths or wildcards (default: all supported).") var branches: String?
    @OptionGroup var range: EntryRangeOptions
    @Option(help: "Output file (.parquet, .npz, .csv or .root).") var to: String
    @Option(help: "Tree name in a .root output (default: the input tree's path).") var tree: String?
    @Option(help: "Compression of a .root output: zlib, lzma, lz4 or zstd, optionally :level.") var compression = "zstd"

    func run() throws {
        let (path, treePath) = RootCommand.split(target)
        let source = try ROOTFile(path: path).tree(treePath)
        let converted = try source.table(branches: branches?.split(separator: ",").map(String.init), entries: try range.entries(of: source))
        for leftOut in converted.leftOut {
            FileHandle.standardError.write(Data("left out \(leftOut)\n".utf8))
        }
        var table = converted.table
        if to.hasSuffix(".root") {
            let writer = ROOTWriter(path: to, compression: try ROOTWriter.Compression(parsing: compression))
            try writer.writeTree(table: table, to: tree ?? treePath, title: source.title)
            try writer.close()
            return
        }
        if try TableFile.format(of: to) == .csv { table = try table.explodingLists() }
        try TableFile.write(table, to: to)
    }
}

/// `--entries a:b` or `--entry-start`/`--entry-stop` (uproot's names), shared by dump and scan.
struct EntryRangeOptions: ParsableArguments {
    @Option(help: "Entry range a:b (half-open; either side may be empty).") var entries: String?
    @Option(help: "First entry to read (uproot's entry_start).") var entryStart: Int?
    @Option(help: "Entry to stop before (uproot's entry_stop).") var entryStop: Int?

    func validate() throws {
        if entries != nil, entryStart != nil || entryStop != nil {
            throw ValidationError("give --entries or --entry-start/--entry-stop, not both")
        }
    }

    /// The requested range clamped to the tree, or nil for all entries.
    func entries(of tree: Tree) throws -> Range<Int>? {
        var low = entryStart, high = entryStop
        if let entries {
            let parts = entries.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--entries must look like a:b") }
            low = parts[0].isEmpty ? nil : Int(parts[0]) ?? -1
            high = parts[1].isEmpty ? nil : Int(parts[1]) ?? -1
        }
        guard low != nil || high != nil else { return nil }
        let start = low ?? 0, stop = high ?? tree.entries
        guard start >= 0, stop >= start else { throw ValidationError("the entry range must have 0 <= start <= stop") }
        return start..<min(stop, tree.entries)
    }
}

/// `hepml root scan`: values on the terminal, one row per entry and array element, like TTree::Scan.
struct RootScan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Print branch values per entry (like TTree::Scan).",
        discussion: "Arrays print one row per element (Instance), with the scalars of the entry repeated."
    )

    @Argument(help: "FILE:TREE") var target: String
    @Option(help: "Comma-separated branch names, full paths or wildcards (default: all supported).") var branches: String?
    @OptionGroup var range: EntryRangeOptions
    @Option(help: "Width of each column in characters (4 to 1000).") var columnWidth = 12

    func validate() throws {
        guard (4...RootShow.maximumWidth).contains(columnWidth) else {
            throw ValidationError("--column-width must be between 4 and \(RootShow.maximumWidth) characters, not \(columnWidth)")
        }
    }

    func run() throws {
        let (path, treePath) = RootCommand.split(target)
        let tree = try ROOTFile(path: path).tree(treePath)
        let entryRange = try range.entries(of: tree) ?? 0..<tree.entries
        let columns = try tree.arrays(branches: branches?.split(separator: ",").map(String.init), entries: entryRange)
        let hasInstances = columns.contains { $0.offsets != nil || !$0.itemShape.isEmpty }
        let width = columnWidth
        func cell(_ text: String) -> String {
            let clipped = text.count > width ? String(text.prefix(width - 1)) + "…" : text
            return " " + String(repeating: " ", count: width - clipped.count) + clipped + " *"
        }
        let header = "*" + cell("Row") + (hasInstances ? cell("Instance") : "") + columns.map { cell($0.name) }.joined()
        let rule = String(repeating: "*", count: header.count)
        print(rule)
        print(header)
        print(rule)
        for (row, entry) in entryRange.enumerated() {
            let items = columns.map { $0.itemTexts(entry: row) }
            let instances = hasInstances ? max(1, items.map(\.count).max() ?? 1) : 1
            for instance in 0..<instances {
                // Scalars repeat on every instance row, as in TTree::Scan; shorter arrays leave blanks.
                let values = zip(columns, items).map { column, texts -> String in
                    column.offsets == nil && column.itemShape.isEmpty ? texts.first ?? "" : (instance < texts.count ? texts[instance] : "")
                }
                print("*" + cell(String(entry)) + (hasInstances ? cell(String(instance)) : "") + values.map(cell).joined())
            }
        }
        print(rule)
    }
}
