import Foundation
import HEPMLCore
@testable import HEPMLROOT
import HEPMLTestSupport
import Testing

/// One column of every numeric type, flat and jagged, with deterministic values.
func sampleColumns(entries n: Int, seed: UInt64) -> [TreeBranchData] {
    var random = SeededGenerator(seed: seed)
    let counts = (0..<n).map { _ in Int(random.next() % 4) }
    var offsets = [0]
    for count in counts { offsets.append(offsets[offsets.count - 1] + count) }
    let total = offsets[n]
    func ints<T: FixedWidthInteger>(_: T.Type, _ count: Int) -> [T] { (0..<count).map { _ in T(truncatingIfNeeded: random.next()) } }
    return [
        TreeBranchData(ColumnArray(name: "b", values: .bool((0..<n).map { _ in random.next() & 1 == 1 }))),
        TreeBranchData(ColumnArray(name: "i8", values: .int8(ints(Int8.self, n)))),
        TreeBranchData(ColumnArray(name: "u8", values: .uint8(ints(UInt8.self, n)))),
        TreeBranchData(ColumnArray(name: "i16", values: .int16(ints(Int16.self, n)))),
        TreeBranchData(ColumnArray(name: "u16", values: .uint16(ints(UInt16.self, n)))),
        TreeBranchData(ColumnArray(name: "i32", values: .int32(ints(Int32.self, n)))),
        TreeBranchData(ColumnArray(name: "u32", values: .uint32(ints(UInt32.self, n)))),
        TreeBranchData(ColumnArray(name: "i64", values: .int64(ints(Int64.self, n)))),
        TreeBranchData(ColumnArray(name: "u64", values: .uint64(ints(UInt64.self, n)))),
        TreeBranchData(ColumnArray(name: "f32", values: .float32((0..<n).map { _ in Float(random.nextNormal()) }))),
        TreeBranchData(ColumnArray(name: "f64", values: .float64((0..<n).map { _ in random.nextNormal() }))),
        TreeBranchData(ColumnArray(name: "a3", values: .float64((0..<(3 * n)).map { _ in random.nextNormal() }), itemShape: [3])),
        TreeBranchData(ColumnArray(name: "jf", values: .float32((0..<total).map { _ in Float(random.nextNormal()) }), offsets: offsets), counter: "nj"),
        TreeBranchData(ColumnArray(name: "ji", values: .int64(ints(Int64.self, total)), offsets: offsets), counter: "nj"),
        TreeBranchData(ColumnArray(name: "ju", values: .uint16(ints(UInt16.self, total)), offsets: offsets), counter: "nj"),
    ]
}

func sampleHistograms() -> [(String, Histogram)] {
    var random = SeededGenerator(seed: 7)
    func cells(_ n: Int) -> [Double] { (0..<n).map { _ in Double(random.nextPoisson(mean: 20)) } }
    var result: [(String, Histogram)] = []
    for flavour in ["F", "D"] {
        let x = Axis(title: "x [GeV]", binCount: 5, minimum: 0, maximum: 1, variableEdges: [0, 0.1, 0.2, 0.5, 0.7, 1], labels: [1: "first", 5: "last"])
        let c1 = cells(7)
        result.append(("one/h1\(flavour)", Histogram(className: "TH1\(flavour)", name: "h1\(flavour)", title: "1D", xAxis: x, contents: c1,
                                                     sumw2: c1.map { $0 * 2 }, entries: c1.reduce(0, +))))
        let y = Axis(name: "yaxis", title: "y", binCount: 3, minimum: -1, maximum: 1)
        let c2 = cells(7 * 5)
        result.append(("one/two/h2\(flavour)", Histogram(className: "TH2\(flavour)", name: "h2\(flavour)", xAxis: x, yAxis: y, contents: c2, entries: 10)))
        let z = Axis(name: "zaxis", binCount: 2, minimum: 0, maximum: 4)
        let c3 = cells(7 * 5 * 4)
        result.append(("DQMData/Run 1/Hcal/Run summary/h3\(flavour)", Histogram(className: "TH3\(flavour)", name: "h3\(flavour)", xAxis: x, yAxis: y, zAxis: z,
                                                                            contents: c3, sumw2: c3, entries: 99)))
    }
    // Profiles: fills (x, y, w) accumulated as ROOT's TProfile::Fill does (Σw, Σw², Σw·y, Σw·y²).
    for (dimension, option) in [(1, ProfileErrorOption.spread), (2, .mean)] {
        let x = Axis(title: "x", binCount: 6, minimum: -3, maximum: 3)
        let y = Axis(name: "yaxis", title: "y", binCount: 2, minimum: 0, maximum: 2)
        let className = dimension == 1 ? "TProfile" : "TProfile2D"
        var profile = Histogram(className: className, name: "p\(dimension)", title: "profile \(dimension)D", xAxis: x, yAxis: dimension == 2 ? y : nil,
                                contents: [], entries: 0)
        let cells = profile.cellCount
        profile.contents = [Double](repeating: 0, count: cells)
        profile.sumw2 = profile.contents
        profile.binEntries = profile.contents
        profile.binSumw2 = dimension == 1 ? profile.contents : []
        profile.errorOption = option
        for _ in 0..<300 {
            let ix = Int(random.next() % 8), iy = dimension == 2 ? Int(random.next() % 4) : 0
            let value = random.nextNormal() * 3 + Double(ix), weight = dimension == 1 ? 0.5 + Double(random.next() % 3) : 1
            let cell = ix + 8 * iy
            profile.contents[cell] += weight * value
            profile.sumw2[cell] += weight * value * value
            profile.binEntries[cell] += weight
            if dimension == 1 { profile.binSumw2[cell] += weight * weight }
            profile.entries += 1
        }
        result.append(("profiles/\(className)", profile))
    }
    return result
}

@Suite struct WriterTests {
    @Test(arguments: [ROOTWriter.Compression.none, .zlib(level: 1), .lzma(level: 7), .lz4(level: 4), .zstd(level: 5)])
    func roundTripHistogramsAndTrees(compression: ROOTWriter.Compression) throws {
        let directory = try TestEnvironment.temporaryDirectory("root-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("round.root").path
        let writer = ROOTWriter(path: path, compression: compression)
        let histograms = sampleHistograms()
        for (histogramPath, histogram) in histograms { try writer.write(histogram, to: histogramPath) }
        let branches = sampleColumns(entries: 2500, seed: 3)
        try writer.writeTree(branches, to: "trees/events", title: "events", entriesPerBasket: 700)
        try writer.close()

        let file = try ROOTFile(path: path)
        for (histogramPath, histogram) in histograms {
            let back = try file.histogram(histogramPath)
            #expect(back.contents == histogram.contents)
            #expect(back.sumw2 == histogram.sumw2)
            #expect(back.binEntries == histogram.binEntries && back.binSumw2 == histogram.binSumw2 && back.errorOption == histogram.errorOption)
            #expect(back.binValues == histogram.binValues && back.binErrors == histogram.binErrors)
            #expect(back.xAxis.edges == histogram.xAxis.edges && back.xAxis.labels == histogram.xAxis.labels)
            #expect(back.xAxis.title == histogram.xAxis.title && back.entries == histogram.entries)
        }
        let tree = try file.tree("trees/events")
        #expect(tree.entries == 2500)
        let columns = try tree.arrays()
        for branch in branches {
            let back = try #require(columns.first { $0.name == branch.column.name })
            #expect(back.values == branch.column.values, "\(branch.column.name)")
            #expect(back.offsets == branch.column.offsets)
            #expect(back.itemShape == branch.column.itemShape)
        }
        let slice = try tree.arrays(branches: ["jf", "i32"], entries: 650..<1450)
        let full = try column(columns, "jf")
        let offsets = try #require(full.offsets)
        #expect(doubles(slice[0]) == Array(doubles(full)[offsets[650]..<offsets[1450]]))
        #expect(doubles(slice[1]) == Array(doubles(try column(columns, "i32"))[650..<1450]))
    }

    @Test func cyclesAndLargeMultiBlockPayload() throws {
        let directory = try TestEnvironment.temporaryDirectory("root-writer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big.root").path
        let writer = ROOTWriter(path: path)
        // 3 million doubles = 24 MB uncompressed: needs two compression blocks.
        var random = SeededGenerator(seed: 11)
        let n = 3_000_000
        let values = (0..<n).map { _ in Double(random.next() % 1000) }
        try writer.writeTree([TreeBranchData(ColumnArray(name: "x", values: .float64(values)))], to: "t", entriesPerBasket: n)
        let h = Histogram(className: "TH1D", name: "h", xAxis: Axis(binCount: 1, minimum: 0, maximum: 1), contents: [0, 1, 0], entries: 1)
        try writer.write(h, to: "h")
        var h2 = h
        h2.contents = [0, 2, 0]
        try writer.write(h2, to: "h")
        try writer.close()
        let file = try ROOTFile(path: path)
        #expect(try file.histogram("h").contents == [0, 2, 0])
        #expect(try file.histogram("h;1").contents == [0, 1, 0])
        #expect(try file.tree("t").arrays()[0].values == .float64(values))
    }

    @Test func compressionNamesAsROOTGivesThem() throws {
        #expect(try ROOTWriter.Compression(parsing: "zstd") == .zstd(level: 5))
        #expect(try ROOTWriter.Compression(parsing: "LZMA:9") == .lzma(level: 9))
        #expect(try ROOTWriter.Compression(parsing: "lz4") == .lz4(level: 4))
        #expect(try ROOTWriter.Compression(parsing: "zlib:6") == .zlib(level: 6))
        #expect(try ROOTWriter.Compression(parsing: "none") == .none)
        #expect(throws: ROOTWriter.Compression.InvalidName.self) { try ROOTWriter.Compression(parsing: "gzip") }
        #expect(throws: ROOTWriter.Compression.InvalidName.self) { try ROOTWriter.Compression(parsing: "zstd:12") }
    }

    /// Keys carry TDatime of the time of writing, or of SOURCE_DATE_EPOCH.
    @Test func keyDatesFollowTDatimePacking() {
        // 2026-12-05 15:30:45 UTC
        let date = Date(timeIntervalSince1970: 1_796_484_645)
        #expect(ROOTWriter.datime(for: date) == (31 << 26 | 12 << 22 | 5 << 17 | 15 << 12 | 30 << 6 | 45))
    }
}
