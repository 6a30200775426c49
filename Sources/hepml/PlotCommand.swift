import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLPlot
import HEPMLROOT

/// `hepml plot`: a quick look at one stored histogram, from a ROOT file or from a row of a table
/// column (the AutoDQM_ML layout keeps one histogram per run as a list or list-of-lists cell).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a histogram from FILE.root:PATH or from a table cell (--column, --row) as PNG, SVG or PDF.",
        discussion: """
        Examples:
          hepml plot run.root:"DQMData/Run 1/L1T/Run summary/occupancy" -o occupancy.png
          hepml plot HLTPhysics.parquet --column "L1T/Run summary/occupancy" --row 3 -o row3.svg
        """
    )

    @Argument(help: "FILE.root:PATH, or a .parquet/.npz/.csv table with --column and --row.") var target: String
    @Option(help: "Column holding one histogram per row (list or list of lists).") var column: String?
    @Option(help: "Row of the column to draw (0-based).") var row = 0
    @Option(name: .shortAndLong, help: "Output file; the extension (.png, .svg, .pdf) picks the format.") var output: String = "plot.png"
    @Option(help: "Resolution of PNG output.") var dpi: Double = 100
    @Flag(help: "Logarithmic y axis (1D) or colour scale (2D).") var log = false

    func validate() throws {
        guard ["png", "svg", "pdf"].contains(URL(fileURLWithPath: output).pathExtension.lowercased()) else {
            throw ValidationError("--output must end in .png, .svg or .pdf")
        }
        guard row >= 0 else { throw ValidationError("--row must be 0 or more") }
    }

    func run() throws {
        let figure: Figure
        if target.contains(".root:") {
            let (file, path) = RootCommand.split(target)
            figure = try Self.figure(for: try ROOTFile(path: file).histogram(path), log: log)
        } else {
            guard let column else { throw ValidationError("a table needs --column NAME (and --row K)") }
            figure = try Self.figure(forCell: row, of: try TableFile.read(path: target, columns: [column]).column(column), log: log)
        }
        try figure.save(to: output, dpi: dpi)
        print("wrote \(output)")
    }

    static func figure(for histogram: Histogram, log: Bool) throws -> Figure {
        let title = histogram.title.isEmpty ? histogram.name : histogram.title
        switch histogram.dimension {
        case 1:
            return .histogram(edges: histogram.xAxis.edges, contents: histogram.valuesWithoutFlow,
                              errors: histogram.variancesWithoutFlow.map { $0.squareRoot() }, title: title,
                              xLabel: histogram.xAxis.title, yLabel: histogram.isProfile ? (histogram.yAxis.title.isEmpty ? "mean" : histogram.yAxis.title) : "Entries", logY: log)
        case 2:
            let nx = histogram.xAxis.binCount, ny = histogram.yAxis.binCount
            return .heatmap(xEdges: histogram.xAxis.edges, yEdges: histogram.yAxis.edges,
                            values: Heatmap.rowsAlongY(xMajor: histogram.valuesWithoutFlow, columns: nx, rows: ny),
                            colorScale: ColorScale(scale: log ? .log : .linear), title: title,
                            xLabel: histogram.xAxis.title, yLabel: histogram.yAxis.title)
        default:
            // A TH3 is drawn as its projections onto x, y and z, side by side.
            let axes = [histogram.xAxis, histogram.yAxis, histogram.zAxis]
            let panels = try (0..<3).map { axis -> Panel in
                guard let projection = histogram.projection(onto: axis) else {
                    throw ValidationError("\(histogram.name) is a \(histogram.className); plot draws 1D and 2D histograms and projections of TH3")
                }
                let figure = Figure.histogram(edges: axes[axis].edges, contents: projection.values,
                                              errors: projection.variances.map { $0.magnitude.squareRoot() },
                                              title: "projection on \(["x", "y", "z"][axis])", xLabel: axes[axis].title, logY: log)
                return figure.panels[0]
            }
            return Figure(width: 1200, height: 345, rows: 1, columns: 3, panels: panels, title: title)
        }
    }

    /// A 1D cell is drawn against bin numbers; a 2D cell (outer list over x, inner over y, as
    /// AutoDQM_ML stores `values()`) as a map.
    static func figure(forCell row: Int, of column: Column, log: Bool) throws -> Figure {
        guard row < column.rowCount else { throw ValidationError("row \(row) is outside the column's \(column.rowCount) rows") }
        guard !column.isNull(row) else { throw ValidationError("row \(row) of \(column.name) is null") }
        guard let leaves = column.leafValuesAsFloat() else { throw ValidationError("\(column.name) is not numeric") }
        let title = "\(column.name) [row \(row)]"
        switch column.listOffsets.count {
        case 1:
            let range = column.listOffsets[0][row]..<column.listOffsets[0][row + 1]
            let contents = leaves[range].map(Double.init)
            return .histogram(edges: (0...contents.count).map(Double.init), contents: contents, title: title, xLabel: "bin", logY: log)
        case 2:
            let outer = column.listOffsets[0][row]..<column.listOffsets[0][row + 1]
            let inner = column.listOffsets[1]
            let nx = outer.count
            let ny = nx > 0 ? inner[outer.lowerBound + 1] - inner[outer.lowerBound] : 0
            guard outer.allSatisfy({ inner[$0 + 1] - inner[$0] == ny }) else {
                throw ValidationError("row \(row) of \(column.name) is ragged; a map needs equal inner lists")
            }
            let xMajor = leaves[inner[outer.lowerBound]..<inner[outer.upperBound]].map(Double.init)
            return .heatmap(xEdges: (0...nx).map(Double.init), yEdges: (0...ny).map(Double.init),
                            values: Heatmap.rowsAlongY(xMajor: xMajor, columns: nx, rows: ny), colorScale: ColorScale(scale: log ? .log : .linear),
                            title: title, xLabel: "x bin", yLabel: "y bin")
        default:
            throw ValidationError("\(column.name) holds scalars; plot draws list (1D) or list-of-list (2D) cells")
        }
    }
}
