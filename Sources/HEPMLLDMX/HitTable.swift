import Foundation
import HEPMLColumnar
import HEPMLCore
import HEPMLROOT

/// ECal hits of many events in one contiguous table: the hit columns back to back, event `i`
/// owning hits `eventOffsets[i] ..< eventOffsets[i + 1]`, and one row of event columns per event
/// (a million events are a few flat arrays, never a million objects).
public struct ECalHitTable: Sendable, Equatable {
    public var x: [Float] = []
    public var y: [Float] = []
    public var z: [Float] = []
    /// Hit energy in MeV.
    public var energy: [Float] = []
    /// `eventCount + 1` offsets into the hit columns.
    public var eventOffsets: [Int] = [0]
    /// The file's event number, full width.
    public var eventNumbers: [Int64] = []
    /// 1 for signal, 0 for background.
    public var labels: [Int32] = []
    /// A′ mass in MeV: the sample's for signal; for background one of the study's masses drawn
    /// per event (seeded), as upstream does, so that a model with the mass as input sees
    /// background at every mass.
    public var massesMeV: [Float] = []
    /// Index of the event's file in `LDMXManifest.samples`.
    public var sources: [Int32] = []

    public init() {}

    public var eventCount: Int { eventOffsets.count - 1 }
    public var hitCount: Int { x.count }

    public func hits(of event: Int) -> Range<Int> { eventOffsets[event]..<eventOffsets[event + 1] }

    /// Appends all events of `other`.
    public mutating func append(_ other: ECalHitTable) {
        let base = hitCount
        x += other.x; y += other.y; z += other.z; energy += other.energy
        eventOffsets += other.eventOffsets.dropFirst().map { $0 + base }
        eventNumbers += other.eventNumbers; labels += other.labels; massesMeV += other.massesMeV; sources += other.sources
    }

    /// The events at `indices`, in that order.
    public func selecting(_ indices: [Int]) -> ECalHitTable {
        var table = ECalHitTable()
        for event in indices {
            let range = hits(of: event)
            table.x += x[range]; table.y += y[range]; table.z += z[range]; table.energy += energy[range]
            table.eventOffsets.append(table.hitCount)
            table.eventNumbers.append(eventNumbers[event]); table.labels.append(labels[event])
            table.massesMeV.append(massesMeV[event]); table.sources.append(sources[event])
        }
        return table
    }

    /// The upstream flattened hit table (spec B.2) as an `(n_hits, 7)` float64 array: tag (mass
    /// in keV for signal, the source index for background), event number, mass (MeV; 0 for
    /// background), x, y, z, E. The numpy reference scripts and `ECalHitReader` read it.
    public func flatArray() throws -> NDArray {
        var values = [Double](repeating: 0, count: hitCount * 7)
        for event in 0..<eventCount {
            let signal = labels[event] == 1
            let tag = signal ? Double(massesMeV[event]) * 1000 : Double(sources[event])
            for hit in hits(of: event) {
                let row = hit * 7
                values[row] = tag
                values[row + 1] = Double(eventNumbers[event])
                values[row + 2] = signal ? Double(massesMeV[event]) : 0
                values[row + 3] = Double(x[hit]); values[row + 4] = Double(y[hit]); values[row + 5] = Double(z[hit])
                values[row + 6] = Double(energy[hit])
            }
        }
        return try NDArray(values, shape: [hitCount, 7])
    }
}

/// What reading left out, per reason: counted and reported, never clamped into the geometry.
public struct HitReadReport: Sendable, Equatable, Codable {
    public var eventsRead = 0
    public var hitsRead = 0
    /// Hits dropped, by `HitDefect`.
    public var droppedHits: [String: Int] = [:]
    /// Events without a single good hit; left out (an empty image carries no information, and
    /// upstream's `correct()` drops them too).
    public var emptyEvents = 0

    public init() {}

    public var droppedHitCount: Int { droppedHits.values.reduce(0, +) }

    public mutating func add(_ other: HitReadReport) {
        eventsRead += other.eventsRead
        hitsRead += other.hitsRead
        emptyEvents += other.emptyEvents
        droppedHits.merge(other.droppedHits, uniquingKeysWith: +)
    }

    public var summary: String {
        var text = "\(eventsRead) events, \(hitsRead) hits read"
        let dropped = HitDefect.allCases.compactMap { defect in droppedHits[defect.rawValue].map { "\($0) \(defect.rawValue)" } }
        text += dropped.isEmpty ? "; no bad hits" : "; hits dropped: " + dropped.joined(separator: ", ")
        if emptyEvents > 0 { text += "; \(emptyEvents) events without good hits skipped" }
        return text
    }
}

/// Reads LDMX hit files into one `ECalHitTable`: ROOT trees `ecalHits` (`eventNumber` and
/// jagged `x, y, z, E`, as counter-jagged arrays or `std::vector<float/double>`) in chunks of
/// entries (the reader decodes each chunk's baskets straight into flat arrays), and the
/// upstream numpy hit tables (`.npy`, spec B.2).
public struct ECalHitReader: Sendable {
    public var geometry: ECalGeometry
    public var treeName = "ecalHits"
    /// Seed of the background events' masses.
    public var seed: UInt64 = 1
    /// Entries decoded at once: bounds the memory of the intermediate columns.
    public var chunkEntries = 200_000

    public init(geometry: ECalGeometry) {
        self.geometry = geometry
    }

    /// All files of `manifest`; background events get masses from the manifest's signal masses.
    public func read(_ manifest: LDMXManifest) throws -> (table: ECalHitTable, report: HitReadReport) {
        let samples = manifest.samples
        guard !samples.isEmpty else { throw LDMXError("no input files: give --signal MASS=FILE and --background FILE, or --manifest") }
        let masses = manifest.masses
        let parts = try Parallel.map(samples.count) { index in
            try self.read(samples[index], source: index, backgroundMasses: masses)
        }
        var table = ECalHitTable(), report = HitReadReport()
        table.x.reserveCapacity(parts.reduce(0) { $0 + $1.table.hitCount })
        for part in parts {
            table.append(part.table)
            report.add(part.report)
        }
        return (table, report)
    }

    /// One file; `source` is its index in the manifest's samples.
    public func read(_ sample: LDMXSample, source: Int, backgroundMasses: [Int]) throws -> (table: ECalHitTable, report: HitReadReport) {
        var builder = Builder(geometry: geometry, sample: sample, source: source, backgroundMasses: backgroundMasses, seed: seed)
        if sample.path.hasSuffix(".npy") {
            try readNumPy(sample.path, into: &builder)
        } else {
            try readROOT(sample.path, into: &builder)
        }
        return (builder.table, builder.report)
    }

    private func readROOT(_ path: String, into builder: inout Builder) throws {
        let file = try ROOTFile(path: path)
        let tree = try file.tree(treeName)
        let names = ["eventNumber", "x", "y", "z", "E"]
        for name in names where !tree.branchNames.contains(name) {
            throw FileFormatError(file: path, object: treeName, reason: "has no branch '\(name)' (branches: \(tree.branchNames.joined(separator: ", ")))")
        }
        var start = 0
        while start < tree.entries {
            let range = start..<min(tree.entries, start + chunkEntries)
            let columns = try tree.arrays(branches: names, entries: range)
            func column(_ name: String) throws -> ColumnArray {
                guard let column = columns.first(where: { $0.name == name }) else {
                    throw FileFormatError(file: path, object: "\(treeName)/\(name)", reason: "was not read")
                }
                return column
            }
            let numbers = try column("eventNumber")
            guard numbers.offsets == nil, numbers.values.count == range.count else {
                throw FileFormatError(file: path, object: "\(treeName)/eventNumber", reason: "must hold one number per event")
            }
            let hitColumns = try ["x", "y", "z", "E"].map(column)
            var hitValues: [[Float]] = []
            for hitColumn in hitColumns {
                guard let offsets = hitColumn.offsets, offsets.count == range.count + 1, hitColumn.itemShape.isEmpty else {
                    throw FileFormatError(file: path, object: "\(treeName)/\(hitColumn.name)", reason: "must hold one list of numbers per event")
                }
                if offsets != hitColumns[0].offsets {
                    let entry = zip(offsets.dropFirst(), hitColumns[0].offsets?.dropFirst() ?? []).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                    throw FileFormatError(file: path, object: "\(treeName)/\(hitColumn.name)",
                                          reason: "entry \(range.lowerBound + entry) has another number of hits than x (jagged lengths differ)")
                }
                hitValues.append(try floats(hitColumn, file: path))
            }
            let offsets = hitColumns[0].offsets ?? []
            for entry in 0..<range.count {
                builder.addEvent(number: Int64(numbers.values.double(at: entry)), x: hitValues[0], y: hitValues[1], z: hitValues[2],
                                 energy: hitValues[3], hits: offsets[entry]..<offsets[entry + 1])
            }
            start = range.upperBound
        }
    }

    private func floats(_ column: ColumnArray, file: String) throws -> [Float] {
        switch column.values {
        case .float32(let values): return values
        case .float64(let values): return values.map { Float($0) }
        default:
            throw FileFormatError(file: file, object: "\(treeName)/\(column.name)", reason: "holds \(column.values) values; float or double expected")
        }
    }

    /// The `(n_hits, 7)` table of spec B.2: consecutive rows with the same tag and event number
    /// are one event; columns 3…6 are x, y, z, E. The file's role (signal mass or background)
    /// comes from how it was given, as for ROOT files.
    private func readNumPy(_ path: String, into builder: inout Builder) throws {
        let array = try NPY.read(path: path)
        guard array.shape.count == 2, array.shape[1] == 7 else {
            throw FileFormatError(file: path, object: "hit table", reason: "shape \(array.shape); the flattened LDMX hit table is (n_hits, 7)")
        }
        let values: [Double]
        switch array.dtype {
        case .float64: values = try array.values(as: Double.self)
        case .float32: values = try array.values(as: Float.self).map(Double.init)
        default: throw FileFormatError(file: path, object: "hit table", reason: "dtype \(array.dtype.rawValue); float32 or float64 expected")
        }
        let rows = array.shape[0]
        var x = [Float](), y = [Float](), z = [Float](), energy = [Float]()
        x.reserveCapacity(rows); y.reserveCapacity(rows); z.reserveCapacity(rows); energy.reserveCapacity(rows)
        for row in 0..<rows {
            x.append(Float(values[row * 7 + 3])); y.append(Float(values[row * 7 + 4]))
            z.append(Float(values[row * 7 + 5])); energy.append(Float(values[row * 7 + 6]))
        }
        var start = 0
        while start < rows {
            let tag = values[start * 7], number = values[start * 7 + 1]
            var end = start + 1
            while end < rows && values[end * 7] == tag && values[end * 7 + 1] == number { end += 1 }
            guard number.isFinite, abs(number) < 9e18 else {
                throw FileFormatError(file: path, object: "hit table row \(start)", reason: "event number \(number) is not an integer")
            }
            builder.addEvent(number: Int64(number), x: x, y: y, z: z, energy: energy, hits: start..<end)
            start = end
        }
    }

    /// Filters hits against the geometry and appends events, counting what it leaves out.
    struct Builder {
        let geometry: ECalGeometry
        let sample: LDMXSample
        let source: Int
        let backgroundMasses: [Int]
        var generator: SeededGenerator
        var table = ECalHitTable()
        var report = HitReadReport()

        init(geometry: ECalGeometry, sample: LDMXSample, source: Int, backgroundMasses: [Int], seed: UInt64) {
            self.geometry = geometry
            self.sample = sample
            self.source = source
            self.backgroundMasses = backgroundMasses
            generator = SeededGenerator(seed: seed, stream: 0x1D3C_0000 + UInt64(source))
        }

        mutating func addEvent(number: Int64, x: [Float], y: [Float], z: [Float], energy: [Float], hits: Range<Int>) {
            report.eventsRead += 1
            report.hitsRead += hits.count
            var kept = 0
            for hit in hits {
                if let defect = geometry.defect(x: x[hit], y: y[hit], z: z[hit], energy: energy[hit]) {
                    report.droppedHits[defect.rawValue, default: 0] += 1
                    continue
                }
                table.x.append(x[hit]); table.y.append(y[hit]); table.z.append(z[hit]); table.energy.append(energy[hit])
                kept += 1
            }
            guard kept > 0 else { report.emptyEvents += 1; return }
            table.eventOffsets.append(table.hitCount)
            table.eventNumbers.append(number)
            table.sources.append(Int32(source))
            if let mass = sample.massMeV {
                table.labels.append(1)
                table.massesMeV.append(Float(mass))
            } else {
                table.labels.append(0)
                let mass = backgroundMasses.isEmpty ? 0 : backgroundMasses[Int(generator.next() % UInt64(backgroundMasses.count))]
                table.massesMeV.append(Float(mass))
            }
        }
    }
}

/// Writes an `ECalHitTable` as LDMX-layout ROOT files: tree `ecalHits` with `eventNumber` and
/// jagged `x, y, z, E` (counted by `nHits`), the record `root_numpy` turned into
/// `[eventNumber, nHits, x[nHits], y[nHits], z[nHits], E[nHits]]` (spec B.1).
public enum ECalHitWriter {
    public static func write(_ table: ECalHitTable, to path: String, treeName: String = "ecalHits") throws {
        let writer = ROOTWriter(path: path)
        let offsets = table.eventOffsets
        try writer.writeTree([
            TreeBranchData(ColumnArray(name: "eventNumber", values: .int64(table.eventNumbers))),
            TreeBranchData(ColumnArray(name: "x", values: .float32(table.x), offsets: offsets), counter: "nHits"),
            TreeBranchData(ColumnArray(name: "y", values: .float32(table.y), offsets: offsets), counter: "nHits"),
            TreeBranchData(ColumnArray(name: "z", values: .float32(table.z), offsets: offsets), counter: "nHits"),
            TreeBranchData(ColumnArray(name: "E", values: .float32(table.energy), offsets: offsets), counter: "nHits"),
        ], to: treeName, title: "LDMX ECal hits")
        try writer.close()
    }
}
