import ArgumentParser
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLROOT

struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Inspect and convert columnar data files (.parquet, .npz, .npy, .csv).",
        subcommands: [TableShowCommand.self, TableConvertCommand.self]
    )
}

struct TableShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a file's schema and first rows.")

    @Argument(help: "A .parquet, .npz, .npy or .csv file.") var file: String
    @Option(help: "Comma-separated column names to show.") var columns: String?
    @Option(help: "Number of rows to print.") var head = 5
    @Flag(help: "Print the schema only.") var schema = false

    func run() throws {
        let selected = columns.map { $0.split(separator: ",").map { String($0) } }
        if try TableFile.format(of: file) == .parquet {
            let parquet = try ParquetFile(path: file)
            print("\(file): Parquet, \(parquet.rowCount) rows, \(parquet.rowGroupRowCounts.count) row groups \(parquet.rowGroupRowCounts)\(parquet.createdBy.map { ", created by \($0)" } ?? "")")
            for column in parquet.columns where selected?.contains(column.name) ?? true {
                let type = column.type.map { "\($0)" } ?? "unsupported: \(column.unsupportedReason ?? "")"
                print("  \(column.name): \(type)  [\(column.compression?.name ?? "-"); \(column.encodings.joined(separator: ", "))]")
            }
            for (key, value) in parquet.metadata.sorted(by: { $0.key < $1.key }) where key != "ARROW:schema" {
                print("  metadata \(key) = \(value.count > 80 ? String(value.prefix(80)) + "…" : value)")
            }
            if schema { return }
            try printRows(parquet.read(columns: selected, rowGroups: parquet.rowGroups(coveringFirst: head)), totalRows: parquet.rowCount)
            return
        }
        if try TableFile.format(of: file) == .npy {
            let array = try NPY.read(path: file)
            print("\(file): NumPy \(array.dtype) shape \(array.shape)\(array.bigEndian ? " big-endian" : "")\(array.fortranOrder ? " Fortran order" : "")")
        }
        let table = try TableFile.read(path: file, columns: selected)
        print("\(file): \(try TableFile.format(of: file).rawValue), \(table.rowCount) rows")
        for column in table.columns {
            print("  \(column.name): \(column.type)\(column.nullCount > 0 ? " (\(column.nullCount) nulls)" : "")")
        }
        if !schema { printRows(table, totalRows: table.rowCount) }
    }

    private func printRows(_ table: Table, totalRows: Int) {
        let rows = min(max(0, head), table.rowCount)
        guard rows > 0 else { return }
        print(table.columnNames.joined(separator: "\t"))
        for row in 0..<rows {
            print(table.columns.map { Self.abbreviated($0[row].description) }.joined(separator: "\t"))
        }
        if totalRows > rows { print("… \(totalRows - rows) more rows") }
    }

    static func abbreviated(_ text: String) -> String { text.count > 60 ? String(text.prefix(57)) + "…" : text }
}

struct TableConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between Parquet, .npz and CSV by file extension (list columns go to .npz as values + offsets arrays), or to a ROOT TTree.",
        discussion: """
        To OUT.root (with --tree NAME) scalar columns become one-leaf branches and numeric list columns
        jagged branches counted by an int32 branch n<name>; --compression then takes ROOT's algorithms:
        zlib, lzma, lz4 or zstd, optionally with :level.
        """
    )

    @Argument(help: "Input file.") var input: String
    @Argument(help: "Output file (.parquet, .npz, .csv or .root).") var output: String
    @Option(help: "Comma-separated column names to keep.") var columns: String?
    @Option(help: "Compression: zstd, snappy or none (Parquet; .npz deflates unless none); zlib, lzma, lz4 or zstd[:level] for .root.")
    var compression = "zstd"
    @Option(help: "Tree name (and directory path) for a .root output.") var tree: String?

    func run() throws {
        let table = try TableFile.read(path: input, columns: columns.map { $0.split(separator: ",").map { String($0) } })
        if output.hasSuffix(".root") {
            guard let tree else { throw ValidationError("a .root output needs --tree NAME") }
            let writer = ROOTWriter(path: output, compression: try ROOTWriter.Compression(parsing: compression))
            try writer.writeTree(table: table, to: tree)
            try writer.close()
        } else {
            guard let codec = [ParquetCompression.zstd, .snappy, .none].first(where: { $0.name == compression }) else {
                throw ValidationError("--compression must be zstd, snappy or none")
            }
            do {
                try TableFile.write(table, to: output, compression: codec)
            } catch let error as TableError {
                // The columns come from the input, so a column the output format cannot hold is named with both files.
                throw OutputFileError(path: output, reason: "\(error.description) (read from \(input))")
            }
        }
        print("wrote \(output): \(table.rowCount) rows, \(table.columns.count) columns")
    }
}

/// `hepml bench columnar`: the AutoDQM_ML table shape (runs × 1D histograms) written and read back
/// with ZSTD; bench/pyarrow_reference.py times pyarrow on the very file written here.
struct ColumnarBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "columnar", abstract: "Parquet write/read throughput on runs × histograms, beside pyarrow.")

    @Option(help: "Number of runs (rows).") var runs = 2000
    @Option(help: "Number of list<float32> histogram columns.") var histograms = 60
    @Option(help: "Bins per histogram.") var bins = 100
    @Option(help: "Timed repetitions; the best is reported.") var repeats = 3
    @Option(help: "Directory for the benchmark file (kept for the pyarrow script).") var output = "out/bench-columnar"
    @Option(help: "Seed of the synthetic histograms.") var seed: UInt64 = 1

    func run() throws {
        let table = try Table.benchmarkHistogramRuns(runs: runs, histograms: histograms, bins: bins, seed: seed)
        let payload = Double(runs * histograms * bins * 4) / 1e6
        let path = output + "/hepml_columnar.parquet"
        var writeTime = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = ResourceUsage.now()
            try Parquet.write(table, to: path)
            writeTime = min(writeTime, ResourceUsage.now() - start)
        }
        var readTime = Double.infinity
        var back = table
        for _ in 0..<max(1, repeats) {
            let start = ResourceUsage.now()
            back = try Parquet.read(path: path)
            readTime = min(readTime, ResourceUsage.now() - start)
        }
        guard back == table else { throw ValidationError("read-back table differs from the written one") }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("hepml columnar: \(runs) runs × \(histograms) list<float32>[\(bins)] + run_number/year/label, ZSTD, \(Parallel.threadCount) threads")
        print(String(format: "  write  %.3f s  %7.1f MB/s", writeTime, payload / writeTime))
        print(String(format: "  read   %.3f s  %7.1f MB/s", readTime, payload / readTime))
        print(String(format: "  file   %.2f MB (histogram payload %.1f MB)", Double(size) / 1e6, payload))
        print(String(format: "  peak RSS %.0f MB", Double(ResourceUsage.peakResidentBytes()) / 1e6))
        print("  file kept at \(path) for bench/pyarrow_reference.py")
    }
}
