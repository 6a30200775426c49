import CVectorKernels
import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLExperiment
import HEPMLNN
@testable import HEPMLLDMX
import HEPMLROOT
import HEPMLTensor
import HEPMLTestSupport
import Testing

@Suite struct GeometryTests {
    @Test func v9AndV12FollowTheSpec() {
        let v9 = ECalGeometry(.v9), v12 = ECalGeometry(.v12)
        #expect(v9.layerCount == 34 && v12.layerCount == 34)
        #expect(abs(v9.layerZ[0] - 204.55) < 1e-9 && abs(v9.layerZ[33] - 483.95) < 1e-9)
        #expect(abs(v12.layerZ[0] - 248.35) < 1e-9)
        #expect(abs(v9.maximumX - 245.37) < 0.05 && abs(v9.maximumY - 255) < 1e-9)
        #expect(abs(v12.maximumY - 256.5) < 1e-9)
        #expect(abs(v9.cellMaxR - 4.816) < 0.001 && abs(v9.cellMinR - 4.171) < 0.001)
        #expect(v9.module(x: 0, y: 0) == 0)
        #expect(v9.module(x: 0, y: 170) == 1)
        #expect(v9.module(x: 147, y: 85) == 2)
        #expect(v9.module(x: 0, y: 256) == nil)
        #expect(v9.module(x: 240, y: 200) == nil)
    }

    @Test func cellsTileTheModules() {
        let geometry = ECalGeometry(.v9)
        let cells = geometry.cells
        // 7 modules of area 2√3·85² each, cells of area 2√3·cellMinR².
        let expected = 7 * (85 * 85) / (geometry.cellMinR * geometry.cellMinR)
        #expect(abs(Double(cells.count) - expected) / expected < 0.02)
        for cell in cells.prefix(500) {
            let centre = geometry.cellCentre(row: cell.row, column: cell.column)
            let nearest = geometry.nearestCell(x: centre.x + 1, y: centre.y - 1)
            #expect(nearest?.row == cell.row && nearest?.column == cell.column)
        }
        // Hit coordinates come from files: NaN, infinite and far-off points have no cell (they trapped in `Int(_:)`).
        for (x, y) in [(Double.nan, 0.0), (0, .nan), (.infinity, 0), (0, -1e300), (1e19, 0)] { #expect(geometry.nearestCell(x: x, y: y) == nil) }
        #expect(geometry.nearestLayer(z: 204) == 0 && geometry.nearestLayer(z: 490) == 33 && geometry.nearestLayer(z: 207.3) == 1)
    }
}

@Suite struct GeneratorTests {
    static func sample(seed: UInt64 = 3) throws -> ECalHitTable {
        let generator = ECalEventGenerator(geometry: ECalGeometry(.v9), seed: seed)
        var table = try generator.events(.signal(massMeV: 1), count: 300, source: 0)
        table.append(try generator.events(.signal(massMeV: 1000), count: 300, source: 1))
        table.append(try generator.events(.background, count: 300, source: 2))
        return table
    }

    @Test func eventsAreSeededTriggeredAndOnCells() throws {
        let geometry = ECalGeometry(.v9)
        let table = try Self.sample()
        #expect(table == (try Self.sample()))
        #expect(table != (try Self.sample(seed: 4)))
        #expect(table.eventCount == 900)
        for event in 0..<table.eventCount {
            var early = 0.0
            for hit in table.hits(of: event) {
                #expect(geometry.defect(x: table.x[hit], y: table.y[hit], z: table.z[hit], energy: table.energy[hit]) == nil)
                let layer = geometry.nearestLayer(z: Double(table.z[hit]))
                #expect(abs(geometry.layerZ[layer] - Double(table.z[hit])) < 1e-3)
                if layer < 20 { early += Double(table.energy[hit]) }
            }
            #expect(early < 1500)
            #expect(!table.hits(of: event).isEmpty)
        }
    }

    @Test func classesDifferAsDescribed() throws {
        let table = try Self.sample()
        func mean(_ events: Range<Int>, _ value: (Int) -> Double) -> Double { events.map(value).reduce(0, +) / Double(events.count) }
        func energy(_ event: Int) -> Double { table.hits(of: event).reduce(0) { $0 + Double(table.energy[$1]) } }
        func deep(_ event: Int) -> Double { Double(table.hits(of: event).filter { table.z[$0] > 350 }.count) }
        let light = 0..<300, heavy = 300..<600, background = 600..<900
        #expect(mean(light, energy) < mean(heavy, energy))
        #expect(mean(heavy, energy) < mean(background, energy))
        #expect(mean(background, deep) > 3 * mean(heavy, deep))
    }
}

@Suite struct ReadingTests {
    @Test func rootAndNumPyRoundTrip() throws {
        let directory = try TestEnvironment.temporaryDirectory("ldmx-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generator = ECalEventGenerator(geometry: ECalGeometry(.v9), seed: 5)
        let signal = try generator.events(.signal(massMeV: 10), count: 200, source: 0)
        let background = try generator.events(.background, count: 150, source: 1)
        try ECalHitWriter.write(signal, to: directory.appendingPathComponent("s.root").path)
        try ECalHitWriter.write(background, to: directory.appendingPathComponent("b.root").path)
        try NPY.write(try background.flatArray(), to: directory.appendingPathComponent("b.npy").path)
        var reader = ECalHitReader(geometry: ECalGeometry(.v9))
        reader.chunkEntries = 64
        let manifest = try LDMXManifest(geometry: .v9, signalArguments: ["10=\(directory.path)/s.root"], background: [directory.appendingPathComponent("b.root").path])
        let (table, report) = try reader.read(manifest)
        #expect(report.eventsRead == 350 && report.droppedHitCount == 0 && report.emptyEvents == 0)
        #expect(table.eventCount == 350)
        #expect(Array(table.x[..<signal.hitCount]) == signal.x && Array(table.energy[signal.hitCount...]) == background.energy)
        #expect(Array(table.eventNumbers[..<200]) == signal.eventNumbers)
        #expect(table.labels.filter { $0 == 1 }.count == 200)
        #expect(table.massesMeV[200...].allSatisfy { $0 == 10 })

        let fromNumPy = try reader.read(LDMXSample(path: directory.appendingPathComponent("b.npy").path, massMeV: nil), source: 1, backgroundMasses: [10])
        #expect(fromNumPy.table.x == background.x && fromNumPy.table.energy == background.energy)
        #expect(fromNumPy.table.eventOffsets == background.eventOffsets && fromNumPy.table.eventNumbers == background.eventNumbers)
    }

    @Test func badHitsAreCountedAndBadFilesRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory("ldmx-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        var table = ECalHitTable()
        // Event 1: a good hit, a NaN, one beside the modules, one behind the ECal. Event 2: only bad hits. Event 3: no hits.
        table.x = [0, .nan, 250, 10, 300]
        table.y = [0, 0, 0, 10, 0]
        table.z = [210, 210, 210, 600, 210]
        table.energy = [1, 1, 1, 1, 1]
        table.eventOffsets = [0, 4, 5, 5]
        table.eventNumbers = [1, 2, 3]
        table.labels = [0, 0, 0]; table.massesMeV = [0, 0, 0]; table.sources = [0, 0, 0]
        let path = directory.appendingPathComponent("bad.root").path
        try ECalHitWriter.write(table, to: path)
        let reader = ECalHitReader(geometry: ECalGeometry(.v9))
        let (read, report) = try reader.read(LDMXSample(path: path, massMeV: nil), source: 0, backgroundMasses: [])
        #expect(read.eventCount == 1 && read.hitCount == 1)
        #expect(report.droppedHits == ["notFinite": 1, "outsideGeometry": 3])
        #expect(report.emptyEvents == 2)

        // x and E with different hit counts per event.
        let writer = ROOTWriter(path: directory.appendingPathComponent("mismatch.root").path)
        try writer.writeTree([
            TreeBranchData(ColumnArray(name: "eventNumber", values: .int32([1, 2]))),
            TreeBranchData(ColumnArray(name: "x", values: .float32([0, 1, 2]), offsets: [0, 1, 3]), counter: "n"),
            TreeBranchData(ColumnArray(name: "y", values: .float32([0, 1, 2]), offsets: [0, 1, 3]), counter: "n"),
            TreeBranchData(ColumnArray(name: "z", values: .float32([210, 210, 210]), offsets: [0, 1, 3]), counter: "n"),
            TreeBranchData(ColumnArray(name: "E", values: .float32([1, 1, 1]), offsets: [0, 2, 3]), counter: "nE"),
        ], to: "ecalHits")
        try writer.close()
        #expect(throws: FileFormatError.self) {
            try reader.read(LDMXSample(path: directory.appendingPathComponent("mismatch.root").path, massMeV: nil), source: 0, backgroundMasses: [])
        }
        #expect(throws: LDMXError.self) { try SignalMass.parse("7") }
        #expect(throws: LDMXError.self) { try LDMXManifest(geometry: .v9, signalArguments: ["3=a.root"], background: []) }
        let manifest = directory.appendingPathComponent("m.json")
        try Data(#"{"geometry": "v9", "signal": {"2": ["a.root"]}, "background": []}"#.utf8).write(to: manifest)
        #expect(throws: LDMXError.self) { try LDMXManifest.read(path: manifest.path) }
    }

    @Test(.requiresCppROOT) func hepmlReadsTheHitsCppROOTWrites() throws {
        let directory = try TestEnvironment.temporaryDirectory("ldmx-cpp-root")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/cpp-root/write_ldmx_hits.py").path
        let result = try TestEnvironment.run(try TestEnvironment.cppROOTPython(), [script, directory.path], environment: ["PYTHONWARNINGS": "ignore"])
        try #require(result.status == 0, "write_ldmx_hits.py failed: \(result.output)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json"))) as? [String: Any]
        let events = try #require(json?["events"] as? [[String: Any]])
        var reader = ECalHitReader(geometry: ECalGeometry(.v9))
        reader.chunkEntries = 37
        let (table, report) = try reader.read(LDMXSample(path: directory.appendingPathComponent("ecal_hits.root").path, massMeV: 100),
                                              source: 0, backgroundMasses: [])
        #expect(report.eventsRead == 150 && report.droppedHitCount == 0)
        let nonEmpty = events.filter { ($0["x"] as? [String])?.isEmpty == false }
        #expect(report.emptyEvents == events.count - nonEmpty.count)
        try #require(table.eventCount == nonEmpty.count)
        for (event, expected) in nonEmpty.enumerated() {
            #expect(table.eventNumbers[event] == Int64(expected["eventNumber"] as? Int ?? -1))
            for (name, column) in [("x", table.x), ("y", table.y), ("z", table.z), ("E", table.energy)] {
                let values = table.hits(of: event).map { Double(column[$0]) }
                let rootValues = (expected[name] as? [String] ?? []).compactMap(Double.init)
                #expect(values == rootValues, "event \(event) \(name)")
            }
        }
    }
}

@Suite struct ImageTests {
    static func table() throws -> ECalHitTable { try GeneratorTests.sample() }

    @Test func everyHitCountsAndEveryEventStartsEmpty() throws {
        let table = try Self.table()
        for binning in [try ImageBinning(format: .xyz, dim: 20), try ImageBinning(format: .zSplit, dim: 13, depth: 5),
                        try ImageBinning(format: .zSplit, dim: 20, depth: 4, logarithmic: true),
                        try ImageBinning(format: .xyz, dim: 20, upstreamBinning: true)] {
            let images = ECalImages.build(table, binning: binning)
            let pixels = binning.pixelsPerEvent, plane = binning.dim * binning.dim
            #expect(images.count == table.eventCount * pixels)
            for event in [0, 1, 450, 899] {
                let energy = table.hits(of: event).reduce(0.0) { $0 + Double(table.energy[$1]) }
                let image = images[(event * pixels)..<((event + 1) * pixels)].map(Double.init)
                if binning.format == .xyz {
                    for channel in 0..<3 {
                        let sum = image[(channel * plane)..<((channel + 1) * plane)].reduce(0, +)
                        #expect(abs(sum - energy) <= 1e-4 * energy)
                    }
                } else {
                    #expect(abs(image.reduce(0, +) - energy) <= 1e-4 * energy)
                }
            }
            // The same event built alone gives the same image: nothing carries over.
            let alone = ECalImages.build(table.selecting([450]), binning: binning)
            #expect(alone == Array(images[(450 * pixels)..<(451 * pixels)]))
        }
    }

    @Test func binningUsesTheRealExtentAndUpstreamParityClampsZ() throws {
        var table = ECalHitTable()
        table.x = [1, -245, 100]; table.y = [1, 254, -30]; table.z = [204.55, 483.95, 300]; table.energy = [1, 2, 4]
        table.eventOffsets = [0, 3]; table.eventNumbers = [1]; table.labels = [1]; table.massesMeV = [1]; table.sources = [0]
        let fixed = ECalImages.build(table, binning: try ImageBinning(format: .xyz, dim: 20))
        // x = y = 1 mm lie in pixel 10 of 20 over ±245.4 and ±255 mm; z = 204.55 in the first of [200, 490].
        #expect(fixed[10 * 20 + 10] == 1)
        #expect(fixed[400 + 10 * 20 + 0] == 1)
        #expect(fixed[400 + 19 * 20 + 19] == 2)
        let upstream = ECalImages.build(table, binning: try ImageBinning(format: .xyz, dim: 20, upstreamBinning: true))
        // Every v9 z beyond 200 mm lands on the last lattice point.
        let yz = upstream[400..<800]
        for row in 0..<20 { for column in 0..<19 { #expect(yz[400 + row * 20 + column] == 0) } }
        #expect(yz.reduce(0, +) == 7)
        let logarithmic = try ImageBinning(format: .zSplit, depth: 5, logarithmic: true)
        let edges = logarithmic.depthEdges
        #expect(abs(edges[0] - 200) < 1e-9 && abs(edges[5] - 490) < 1e-9)
        let widths = zip(edges.dropFirst(), edges).map { $0 - $1 }
        #expect(zip(widths.dropFirst(), widths).allSatisfy { $0 > $1 })
        // Upstream's logspace lattice puts every z on its middle point.
        let upstreamLog = ECalImages.build(table, binning: try ImageBinning(format: .zSplit, depth: 3, logarithmic: true, upstreamBinning: true))
        #expect(upstreamLog[400..<800].reduce(0, +) == 7)
    }

    @Test func pixelIndexFollowsBothRules() {
        let upstream = ECalImages.NearestLatticeAxis(-200...200, bins: 20)
        let step = Float(400.0 / 19)
        // The nearest lattice point of linspace(−200, 200, 20), the lower one on a tie (argmin).
        #expect(upstream.index(-200) == 0 && upstream.index(-250) == 0 && upstream.index(250) == 19 && upstream.index(.nan) == 0)
        #expect(upstream.index(-200 + 2.4 * step) == 2 && upstream.index(-200 + 2.6 * step) == 3)
        let midpoint = Float(-200 + 2.5 * 400.0 / 19)
        #expect(upstream.index(midpoint.nextDown) == 2 && upstream.index(midpoint.nextUp) == 3)
        let fixed = ECalImages.FloorAxis(200...490, bins: 20)
        #expect(fixed.index(200) == 0 && fixed.index(490) == 19 && fixed.index(214.4) == 0 && fixed.index(214.6) == 1 && fixed.index(.nan) == 0)
    }

    /// The rules written the plain way, hit by hit with checked conversions: what the
    /// branch-free axes and the block-wise xyz fill must reproduce bit for bit.
    static func plainFloorIndex(_ axis: ECalImages.FloorAxis, _ value: Float) -> Int {
        let t = (value - axis.lower) * axis.scale
        guard t >= 0 else { return 0 }
        return t < axis.last ? Int(t) : Int(axis.last)
    }

    static func plainNearestIndex(_ axis: ECalImages.NearestLatticeAxis, _ value: Float) -> Int {
        let u = (value - axis.lower) * axis.scale - 0.5
        guard u > -1 else { return 0 }
        return u < axis.last ? Int(u.rounded(.up)) : Int(axis.last)
    }

    /// Values that probe the rules: every pixel edge and the floats right around it, the range's
    /// ends and beyond, NaN, infinities, signed zeros, and seeded uniform values.
    static func probeValues(_ range: ClosedRange<Double>, bins: Int, random count: Int) -> [Float] {
        var values: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for step in 0...(2 * bins) {
            var up = Float(range.lowerBound + (range.upperBound - range.lowerBound) * Double(step) / Double(2 * bins)), down = up
            for _ in 0..<8 {
                values += [up, down]
                up = up.nextUp
                down = down.nextDown
            }
        }
        var generator = SeededGenerator(seed: 15)
        let margin = (range.upperBound - range.lowerBound) / 4
        for _ in 0..<count { values.append(Float(range.lowerBound - margin + generator.nextUniform() * (range.upperBound - range.lowerBound + 2 * margin))) }
        return values
    }

    @Test func branchFreeAxesMatchThePlainRules() {
        for (range, bins) in [(-245.4...245.4, 20), (200.0...490.0, 20), (-200.0...200.0, 1024), (0.0...1.0, 2), (200.0...490.0, 7)] {
            let floor = ECalImages.FloorAxis(range, bins: bins), nearest = ECalImages.NearestLatticeAxis(range, bins: bins)
            for value in Self.probeValues(range, bins: bins, random: 20_000) {
                #expect(Int(floor.index(value)) == Self.plainFloorIndex(floor, value), "floor rule, \(bins) bins over \(range), v = \(value)")
                #expect(Int(nearest.index(value)) == Self.plainNearestIndex(nearest, value), "nearest rule, \(bins) bins over \(range), v = \(value)")
            }
        }
    }

    /// The xyz fill works on blocks of hits that cross event boundaries; events with no hits, and
    /// one with more hits than several blocks, must come out as the hit-by-hit sums in hit order.
    @Test func blockwiseImagesEqualHitByHitSums() throws {
        var generator = SeededGenerator(seed: 16)
        var table = ECalHitTable()
        let hitCounts = [0, 3, 0, 1, 2_500, 117, 0, 1_023, 1_025, 60, 0]
        let geometry = ECalGeometry(.v9)
        let special: [Float] = [.nan, .infinity, -.infinity, Float(geometry.maximumX), -Float(geometry.maximumX), 490, 200]
        for (event, count) in hitCounts.enumerated() {
            for hit in 0..<count {
                let wide = { (half: Double) in Float((generator.nextUniform() * 2 - 1) * half * 1.2) }
                table.x.append(hit % 97 == 5 ? special[hit % special.count] : wide(geometry.maximumX))
                table.y.append(wide(geometry.maximumY))
                table.z.append(Float(190 + generator.nextUniform() * 310))
                table.energy.append(Float(generator.nextUniform() * 50))
            }
            table.eventOffsets.append(table.hitCount)
            table.eventNumbers.append(Int64(event)); table.labels.append(0); table.massesMeV.append(1); table.sources.append(0)
        }
        for binning in [try ImageBinning(format: .xyz, dim: 20), try ImageBinning(format: .xyz, dim: 7, upstreamBinning: true),
                        try ImageBinning(format: .zSplit, dim: 9, depth: 4), try ImageBinning(format: .zSplit, dim: 20, depth: 3, upstreamBinning: true)] {
            let r = binning.ranges, dim = binning.dim, plane = dim * dim, pixels = binning.pixelsPerEvent
            let pixel: (Float, ClosedRange<Double>, Int) -> Int = { value, range, bins in
                binning.upstreamBinning ? Self.plainNearestIndex(ECalImages.NearestLatticeAxis(range, bins: bins), value)
                    : Self.plainFloorIndex(ECalImages.FloorAxis(range, bins: bins), value)
            }
            var expected = [Float](repeating: 0, count: table.eventCount * pixels)
            for event in 0..<table.eventCount {
                for hit in table.hits(of: event) {
                    let i = pixel(table.x[hit], r.x, dim), j = pixel(table.y[hit], r.y, dim), e = table.energy[hit], start = event * pixels
                    if binning.format == .xyz {
                        let k = pixel(table.z[hit], r.z, dim)
                        expected[start + i * dim + j] += e
                        expected[start + plane + j * dim + k] += e
                        expected[start + 2 * plane + k * dim + i] += e
                    } else {
                        expected[start + pixel(table.z[hit], r.z, binning.channels) * plane + i * dim + j] += e
                    }
                }
            }
            #expect(ECalImages.build(table, binning: binning) == expected, "\(binning.description)")
            // The portable kernels give the same images as the vector ones.
            #expect(ECalImages.build(table, binning: binning, instructions: .baseline) == expected, "\(binning.description), baseline")
        }
    }

    @Test func cellImagesKeepEveryHitInItsCell() throws {
        let table = try Self.table()
        let geometry = ECalGeometry(.v9)
        let cells = ECalImages.cellImages(table, events: [0, 700], geometry: geometry)
        let perEvent = cells.shape.reduce(1, *)
        #expect(cells.shape == [34, geometry.latticeRows, geometry.latticeColumns])
        for (position, event) in [0, 700].enumerated() {
            let slice = cells.values[(position * perEvent)..<((position + 1) * perEvent)]
            #expect(slice.filter { $0 != 0 }.count == table.hits(of: event).count)
            let energy = table.hits(of: event).reduce(Float(0)) { $0 + table.energy[$1] }
            #expect(abs(slice.reduce(0, +) - energy) <= 1e-4 * energy)
        }
    }
}

@Suite(.serialized) struct ModelTests {
    @Test func specsMatchTheUpstreamArchitectures() throws {
        let binning = try ImageBinning(format: .xyz, dim: 20)
        // PyTorch: 2432 + 51264 + 800500 + 1002, and 2432 + 51264 + 32020 + 1320 + 122.
        #expect(try LDMXModelKind.convNet.spec(binning: binning).summary().parameters == 855_198)
        #expect(try LDMXModelKind.extraInput.spec(binning: binning).summary().parameters == 87_158)
        // One ConvNet definition: the engine benchmark's model.
        #expect(try ReferenceModel(.ldmxConvNet, seed: 1).spec.blocks == LDMXModelKind.convNet.spec(binning: binning).blocks)
        let wide = try ImageBinning(format: .zSplit, dim: 32, depth: 5)
        #expect(try LDMXModelKind.convNet.spec(binning: wide).summary().shapes["layers"] == [2])
    }

    /// The split rearranged in place gives the data sets that copying each part's rows gives, and
    /// leaves a caller's own copy of the images untouched.
    @Test func splitInPlaceEqualsCopiedRows() throws {
        let generator = ECalEventGenerator(geometry: ECalGeometry(.v9), seed: 5)
        var table = try generator.events(.signal(massMeV: 100), count: 40, source: 0)
        table.append(try generator.events(.background, count: 60, source: 1))
        let images = LDMXImageSet(table, binning: try ImageBinning(format: .xyz, dim: 8))
        let original = images.images
        let split = try LDMXSplit(count: images.count, trainFraction: 0.7, seed: 3)
        for normalization in ImageNormalization.allCases {
            let (training, test) = try LDMXTraining.datasets(images, split: split, normalization: normalization, withMass: true)
            for (data, rows) in [(training, split.training), (test, split.test)] {
                let copied = try LDMXTraining.dataset(images, rows: rows, normalization: normalization, withMass: true)
                #expect(data.inputs.shape == copied.inputs.shape && data.inputs.scalars == copied.inputs.scalars)
                #expect(data.targets.scalars == copied.targets.scalars && data.sideInputs[0].scalars == copied.sideInputs[0].scalars)
            }
        }
        #expect(images.images == original)
    }

    @Test(.requiresPython) func trainEvaluateAndExportToONNX() throws {
        let directory = try TestEnvironment.temporaryDirectory("ldmx-train")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generator = ECalEventGenerator(geometry: ECalGeometry(.v9), seed: 11)
        var table = try generator.events(.signal(massMeV: 10), count: 300, source: 0)
        table.append(try generator.events(.signal(massMeV: 1000), count: 300, source: 1))
        var background = try generator.events(.background, count: 600, source: 2)
        background.massesMeV = (0..<600).map { $0 % 2 == 0 ? 10 : 1000 }
        table.append(background)
        let images = LDMXImageSet(table, binning: try ImageBinning(format: .xyz, dim: 20))
        let path = directory.appendingPathComponent("images.npz").path
        try images.write(to: path)
        let set = try LDMXImageSet.read(path: path)
        #expect(set.images == images.images && set.eventNumbers == images.eventNumbers && set.binning == images.binning)

        var options = LDMXTrainingOptions()
        options.model = .extraInput
        options.normalization = .maximum
        options.epochs = 3
        options.learningRate = 1e-3
        let run = RunDirectory(directory.appendingPathComponent("run").path)
        let outcome = try LDMXTraining.train(set, options: options, run: run, showProgress: false, log: { _ in })
        #expect(outcome.history?.epochs.count == 3)
        #expect(outcome.history?.epochs.allSatisfy { $0.validationLoss != nil } == true)
        let evaluation = try LDMXEvaluator.evaluate(run: run, images: set, hits: table, displays: 2, log: { _ in })
        let results = evaluation.evaluation.results
        #expect(results.map(\.massMeV) == [nil, 10, 1000])
        #expect(results.allSatisfy { $0.auc > 0.8 })
        #expect(results[0].efficiencies[0].signalEfficiency != nil && results[0].efficiencies[2].signalEfficiency == nil)
        #expect(FileManager.default.fileExists(atPath: evaluation.reportPath))
        // The same run loads instead of training again.
        #expect(try LDMXTraining.train(set, options: options, run: run, showProgress: false, log: { _ in }).history == nil)

        // ONNX Runtime gives the logits HEPML gives.
        let model = try run.loadModel()
        let rows = Array(0..<8)
        let data = try LDMXTraining.dataset(set, rows: rows, normalization: .maximum, withMass: true)
        let logits = try #require(try model(data.modelInputsForTest).first).value.scalars
        try NPY.write(try NDArray(data.inputs.scalars, shape: data.inputs.shape), to: directory.appendingPathComponent("x.npy").path)
        try NPY.write(try NDArray(data.sideInputs[0].scalars, shape: data.sideInputs[0].shape), to: directory.appendingPathComponent("m.npy").path)
        try NPY.write(try NDArray(logits, shape: [8, 2]), to: directory.appendingPathComponent("y.npy").path)
        let script = """
        import sys, numpy as np, onnxruntime as ort
        d = sys.argv[1]
        s = ort.InferenceSession(d + "/run/ldmx.onnx")
        names = [i.name for i in s.get_inputs()]
        out = s.run(None, {names[0]: np.load(d + "/x.npy"), names[1]: np.load(d + "/m.npy")})[0]
        err = float(np.max(np.abs(out - np.load(d + "/y.npy"))))
        print("max error", err)
        sys.exit(0 if err < 1e-4 else 1)
        """
        let result = try TestEnvironment.runPython(try TestEnvironment.python(), script: script, arguments: [directory.path])
        #expect(result.status == 0, "\(result.output)")

        // Weights that give no finite score (damaged, or a diverged training): an error naming the
        // weights file, not a ROC error about empty classes.
        let (weights, metadata) = try SafeTensors.read(run.weightsFile, as: Float.self)
        try SafeTensors.write(try weights.sorted { $0.key < $1.key }.map { ($0.key, try Tensor(shape: $0.value.shape, scalars: [Float](repeating: .nan, count: $0.value.count))) },
                              metadata: metadata, to: run.weightsFile)
        #expect { _ = try LDMXEvaluator.evaluate(run: run, images: set, displays: 0, log: { _ in }) } throws: { error in
            "\(error)".contains("weights.safetensors") && "\(error)".contains("no finite score")
        }
    }
}

extension Dataset where T == Float {
    var modelInputsForTest: [Variable<Float>] { ([inputs] + sideInputs).map { Variable($0) } }
}
