import Foundation
import HEPMLCore
import HEPMLROOT

/// The Hcal4DQMAnalyzer ROOT layout (docs/hcal.md): `Hcal4DQMAnalyzer/hist3D_depth1…7`, TH3I with
/// x = lumisection (2000 bins on [0, 2000)), y = ieta (64 on [−32, 32)), z = iphi (72 on [0, 72)),
/// bin content = events in that LS with the channel's charge over 20 fC; and `evttree` with one
/// entry per event (`RunNum`, `LumiSec`).
public enum HCALAnalyzerLayout {
    public static let directory = "Hcal4DQMAnalyzer"
    public static let lumisectionBins = 2000
    public static let maximumDepth = 7
    public static let eventTree = "Hcal4DQMAnalyzer/evttree"

    public static func histogramPath(depth: Int) -> String { "\(directory)/hist3D_depth\(depth)" }

    static let xAxis = Axis(name: "xaxis", binCount: lumisectionBins, minimum: 0, maximum: Double(lumisectionBins))
    static let yAxis = Axis(name: "yaxis", binCount: 64, minimum: -32, maximum: 32)
    static let zAxis = Axis(name: "zaxis", binCount: 72, minimum: 0, maximum: 72)
}

/// One run's maps from an analyzer file, Emap-adjusted into the canonical index layout and cut to
/// one subdetector's depths, with the events per lumisection.
public struct HCALRunMaps: Sendable {
    public var run: Int
    public var subdetector: HCALSubdetector
    /// Lumisection numbers with at least one event, ascending; row i of `occupancy` is `lumisections[i]`.
    public var lumisections: [Int]
    public var numEvents: [Int]
    /// `[lumisections.count, 64, 72, depths]` counts (inactive channels zeroed).
    public var occupancy: [Float]

    public var channelCount: Int { HCALIndex.slice * subdetector.depthCount }
}

extension HCALRunMaps {
    /// Reads `path` one depth histogram at a time (a run's 7 TH3s are 275 MB as doubles: only one
    /// is decoded at once), keeping the lumisections that have events in `evttree`.
    /// `emapAdjust` moves the analyzer's raw bins (ieta bin k = ieta + 32, iphi bin j = iphi) into
    /// the emap layout; it is false for files converted from DQMIO, which are in emap order already.
    public init(file path: String, subdetector: HCALSubdetector, mask: HCALMask, emapAdjust: Bool = true) throws {
        let file = try ROOTFile(path: path)
        let tree = try file.tree(HCALAnalyzerLayout.eventTree)
        let columns = try tree.arrays(branches: ["RunNum", "LumiSec"])
        guard columns.count == 2 else { throw FileFormatError(file: path, object: HCALAnalyzerLayout.eventTree, reason: "needs branches RunNum and LumiSec") }
        let runs = columns[0].values, sections = columns[1].values
        guard sections.count > 0, runs.count == sections.count else {
            throw FileFormatError(file: path, object: HCALAnalyzerLayout.eventTree, reason: "has no events (RunNum/LumiSec empty): no events per lumisection to normalize by")
        }
        var counts = [Int](repeating: 0, count: HCALAnalyzerLayout.lumisectionBins)
        for entry in 0..<sections.count {
            let value = sections.double(at: entry)
            guard value.isFinite, value >= 1, value < Double(HCALAnalyzerLayout.lumisectionBins) else {
                throw FileFormatError(file: path, object: "\(HCALAnalyzerLayout.eventTree)/LumiSec", offset: entry,
                                      reason: "lumisection \(value) outside 1…\(HCALAnalyzerLayout.lumisectionBins - 1)")
            }
            counts[Int(value)] += 1
        }
        let runValue = runs.double(at: 0)
        guard runValue.isFinite, abs(runValue) < 1e9 else { throw FileFormatError(file: path, object: "\(HCALAnalyzerLayout.eventTree)/RunNum", reason: "run number \(runValue)") }
        run = Int(runValue)
        self.subdetector = subdetector
        let lumisections = counts.indices.filter { counts[$0] > 0 }
        self.lumisections = lumisections
        numEvents = lumisections.map { counts[$0] }
        let depths = subdetector.depthCount, width = HCALIndex.slice * depths
        var occupancy = [Float](repeating: 0, count: lumisections.count * width)
        for depth in 1...depths {
            let objectPath = HCALAnalyzerLayout.histogramPath(depth: depth)
            let histogram: Histogram
            do {
                histogram = try file.histogram(objectPath)
            } catch let error as FileFormatError {
                throw error
            } catch {
                throw FileFormatError(file: path, object: objectPath, reason: "\(error)")
            }
            try Self.checkBinning(histogram, file: path, object: objectPath)
            let nx = HCALAnalyzerLayout.lumisectionBins + 2, ny = 64 + 2
            let contents = histogram.contents, active = mask.active
            contents.withUnsafeBufferPointer { source in
                occupancy.withUnsafeMutableBufferPointer { target in
                    for (row, ls) in lumisections.enumerated() {
                        for etaIndex in 0..<HCALIndex.etaCount {
                            // Raw bin (without flow) of this emap slot: ieta < 0 sits at ieta + 32 = slot,
                            // ieta > 0 at ieta + 32 = slot + 1; iphi slot p is iphi p + 1 = raw bin p + 1.
                            let rawEta = emapAdjust && etaIndex >= 32 ? etaIndex + 1 : etaIndex
                            guard rawEta < 64 else { continue }
                            for phi in 0..<HCALIndex.phiCount {
                                let rawPhi = emapAdjust ? phi + 1 : phi
                                guard rawPhi < 72 else { continue }
                                let cell = (ls + 1) + nx * ((rawEta + 1) + ny * (rawPhi + 1))
                                let index = HCALIndex.flat(eta: etaIndex, phi: phi, depth: depth - 1, depths: depths)
                                let value = source[cell]
                                target[row * width + index] = active[index] && value.isFinite ? Float(value) : 0
                            }
                        }
                    }
                }
            }
        }
        self.occupancy = occupancy
    }

    static func checkBinning(_ histogram: Histogram, file: String, object: String) throws {
        func same(_ axis: Axis, _ expected: Axis) -> Bool {
            axis.binCount == expected.binCount && axis.minimum == expected.minimum && axis.maximum == expected.maximum && axis.variableEdges.isEmpty
        }
        guard histogram.dimension == 3, !histogram.isProfile else {
            throw FileFormatError(file: file, object: object, reason: "is a \(histogram.className), not a TH3")
        }
        guard same(histogram.xAxis, HCALAnalyzerLayout.xAxis), same(histogram.yAxis, HCALAnalyzerLayout.yAxis), same(histogram.zAxis, HCALAnalyzerLayout.zAxis) else {
            func text(_ axis: Axis) -> String { "\(axis.binCount) bins on [\(axis.minimum), \(axis.maximum))" }
            throw FileFormatError(file: file, object: object,
                                  reason: "binning LS \(text(histogram.xAxis)) × ieta \(text(histogram.yAxis)) × iphi \(text(histogram.zAxis)); the Hcal4DQMAnalyzer layout is 2000 on [0, 2000) × 64 on [-32, 32) × 72 on [0, 72)")
        }
        guard histogram.contents.count == histogram.cellCount else {
            throw FileFormatError(file: file, object: object, reason: "holds \(histogram.contents.count) cells, its axes need \(histogram.cellCount)")
        }
    }
}

/// Writes analyzer-layout files: per-depth counts in raw TH3 bin order and the event tree.
public enum HCALAnalyzerWriter {
    /// `fill(depth, into:)` adds counts into a flow-included TH3 contents buffer of the layout
    /// (cell = lsBin + 2002·(etaBin + 66·phiBin)); it is called once per depth, so one depth's
    /// buffer is alive at a time.
    public static func write(to path: String, run: Int, numEvents: [Int: Int], depths: Int = HCALAnalyzerLayout.maximumDepth,
                             fill: (_ depth: Int, _ contents: inout [Double]) throws -> Void) throws {
        let writer = ROOTWriter(path: path)
        for depth in 1...depths {
            var histogram = Histogram(className: "TH3I", name: "hist3D_depth\(depth)", title: "hist3D_depth\(depth)",
                                      xAxis: HCALAnalyzerLayout.xAxis, yAxis: HCALAnalyzerLayout.yAxis, zAxis: HCALAnalyzerLayout.zAxis,
                                      contents: [], entries: 0)
            var contents = [Double](repeating: 0, count: histogram.cellCount)
            try fill(depth, &contents)
            histogram.entries = contents.reduce(0, +)
            histogram.contents = contents
            try writer.write(histogram, to: HCALAnalyzerLayout.histogramPath(depth: depth))
        }
        var runs: [Int32] = [], sections: [Int32] = []
        for ls in numEvents.keys.sorted() {
            let count = numEvents[ls] ?? 0
            runs.append(contentsOf: repeatElement(Int32(clamping: run), count: count))
            sections.append(contentsOf: repeatElement(Int32(clamping: ls), count: count))
        }
        try writer.writeTree([TreeBranchData(ColumnArray(name: "RunNum", values: .int32(runs))),
                              TreeBranchData(ColumnArray(name: "LumiSec", values: .int32(sections)))],
                             to: HCALAnalyzerLayout.eventTree, title: "evttree")
        try writer.close()
    }

    /// Raw cell of (LS, ieta, iphi) as `TH3::Fill(LS, ieta, iphi)` puts it: ieta in bin ieta + 33,
    /// iphi in bin iphi + 1 (iphi 72 in the overflow, as in the analyzer).
    @inline(__always)
    public static func cell(ls: Int, ieta: Int, iphi: Int) -> Int {
        (ls + 1) + (HCALAnalyzerLayout.lumisectionBins + 2) * ((ieta + 33) + 66 * (iphi + 1))
    }
}
