import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLROOT

/// `hepml root …`: inspect and export ROOT files without ROOT or Python.
struct RootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root",
        abstract: "List, show and dump the contents of ROOT files.",
        subcommands: [RootList.self, RootShow.self, RootDump.self]
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
        for key in try file.keys(under: directory, recursive: recursive) {
            let depth = key.path.split(separator: "/").count - directory.split(separator: "/").count - 1
            let indent = String(repeating: "  ", count: max(0, depth))
            let name = key.path.split(separator: "/").last.map(String.init) ?? key.path
            guard long else {
                print("\(indent)\(name)")
                continue
            }
            var detail = ""
            if key.className.hasPrefix("TH") || key.className.hasPrefix("TProfile"), let histogram = try? file.histogram("\(key.path);\(key.cycle)") {
                detail = "  " + RootShow.binning(histogram)
            } else if key.className == "TTree" || key.className == "TNtuple", let tree = try? file.tree("\(key.path);\(key.cycle)") {
                detail = "  entries \(tree.entries), \(tree.branchNames.count) branches"
            }
            print("\(indent)\(key.className.padding(toLength: 12, withPad: " ", startingAt: 0)) \(name);\(key.cycle)  \"\(key.title)\"\(detail)")
        }
    }
}

struct RootShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Summarize and draw a histogram, or list a tree's branches.")

    @Argument(help: "FILE:PATH") var target: String
    @Option(help: "Width of the drawing in characters.") var width = 60

    static func binning(_ histogram: Histogram) -> String {
        let axes = [histogram.xAxis, histogram.yAxis, histogram.zAxis].prefix(histogram.dimension)
        return axes.map { axis in
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
            print("name".padding(toLength: 32, withPad: " ", startingAt: 0) + " " + "type".padding(toLength: 28, withPad: " ", startingAt: 0) + " jagged  compressed  uncompressed")
            for branch in tree.branchSummaries() {
                print(branch.name.padding(toLength: 32, withPad: " ", startingAt: 0) + " " + branch.typeName.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + " " + (branch.isJagged ? "yes   " : "no    ") + String(format: " %10d  %12d", branch.compressedBytes, branch.uncompressedBytes))
            }
            return
        }
        let histogram = try file.histogram(objectPath)
        print("\(histogram.className) \(histogram.name) \"\(histogram.title)\"")
        print("binning: \(RootShow.binning(histogram))")
        let values = histogram.valuesWithoutFlow
        print("entries \(histogram.entries), sum of contents \(values.reduce(0, +)), sumw2 \(histogram.sumw2.isEmpty ? "off" : "on")")
        if histogram.dimension == 1 {
            drawBars(values, edges: histogram.xAxis.edges, labels: histogram.xAxis.labels)
        } else if histogram.dimension == 2 {
            drawGrid(values, nx: histogram.xAxis.binCount, ny: histogram.yAxis.binCount)
        }
    }

    /// One row per bin (neighbouring bins summed when there are more than 40).
    private func drawBars(_ values: [Double], edges: [Double], labels: [Int: String]) {
        let group = max(1, (values.count + 39) / 40)
        let rows = stride(from: 0, to: values.count, by: group).map { start in (start, values[start..<min(values.count, start + group)].reduce(0, +)) }
        let peak = rows.map(\.1).max() ?? 0
        for (start, value) in rows {
            let length = peak > 0 ? Int((value / peak * Double(width)).rounded()) : 0
            let name = labels[start + 1] ?? String(format: "%10.4g", edges[start])
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0) + "|" + String(repeating: "#", count: max(0, length)) + " \(value)")
        }
    }

    /// A shaded grid, y upwards, cells averaged down to the drawing size.
    private func drawGrid(_ values: [Double], nx: Int, ny: Int) {
        let shades = Array(" .:-=+*#%@")
        let columns = min(nx, width), rows = min(ny, 30)
        var grid = [[Double]](repeating: [Double](repeating: 0, count: columns), count: rows)
        for ix in 0..<nx {
            for iy in 0..<ny { grid[iy * rows / ny][ix * columns / nx] += values[ix * ny + iy] }
        }
        let peak = grid.flatMap { $0 }.max() ?? 0
        let levels = Double(shades.count - 1)
        for row in grid.reversed() {
            let line = row.map { value -> Character in
                guard peak > 0 else { return " " }
                return shades[min(shades.count - 1, Int(value / peak * levels + 0.5))]
            }
            print("|" + String(line) + "|")
        }
    }
}

struct RootDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write tree branches to a Parquet, NumPy .npz or CSV table.",
        discussion: """
        Jagged branches (x[n], vector<T>) become list columns: Arrow lists in Parquet, `name.values` +
        `name.offsets` arrays in .npz; vector<vector<T>> and x[n][k] become lists of lists. CSV gets
        one row per element of the jagged branches (which must share a counter), numbered by `entry`
        and `subentry` columns, with scalar branches repeated: the long format of uproot 4's pandas output.
        """
    )

    @Argument(help: "FILE:TREE") var target: String
    @Option(help: "Comma-separated branch names (default: all supported).") var branches: String?
    @Option(help: "Entry range a:b (half-open).") var entries: String?
    @Option(help: "Output file (.parquet, .npz or .csv).") var to: String

    func run() throws {
        let (path, treePath) = RootCommand.split(target)
        let format = try TableFile.format(of: to)
        let tree = try ROOTFile(path: path).tree(treePath)
        var range: Range<Int>?
        if let entries {
            let parts = entries.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--entries must look like a:b") }
            let low = parts[0].isEmpty ? 0 : Int(parts[0]) ?? -1
            let high = parts[1].isEmpty ? tree.entries : Int(parts[1]) ?? -1
            guard low >= 0, high >= low else { throw ValidationError("--entries must look like a:b with 0 <= a <= b") }
            range = low..<high
        }
        var table = try tree.table(branches: branches?.split(separator: ",").map(String.init), entries: range)
        if format == .csv { table = try table.explodingLists() }
        try TableFile.write(table, to: to)
    }
}
