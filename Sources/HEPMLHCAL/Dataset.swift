import Foundation
import HEPMLColumnar
import HEPMLCore

/// A prepared HCAL data set: one directory that every later step reads (docs/hcal.md, "Dataset
/// directory"):
///
///     dataset.json             this description (runs, LS ranges, subdetector, scaler, sources)
///     lumisections.parquet     one row per LS: run, ls, num_events, total_occupancy, max_occupancy, split
///     maps/Run<run>.npy        float32 [LS, 64, 72, depths]: occupancy / NumEvents of that LS, LS in table order
///     mask.npy, mask.csv       the subdetector's active channels (1 = active)
///     scaler.npy               float32 [2, 64, 72, depths]: per-channel offset and range fitted on the
///                              training LS; the model sees (x − offset) / range
public struct HCALDataset: Sendable {
    /// Inclusive LS numbers; a negative `last` counts from the run's last LS (−1 = the last).
    public struct LumisectionRange: Codable, Equatable, Sendable, CustomStringConvertible {
        public var first: Int
        public var last: Int
        public init(first: Int, last: Int) {
            self.first = first
            self.last = last
        }
        /// Parses "1:500" or "501:-1".
        public init(parsing text: String) throws {
            let parts = text.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let first = parts[0], let last = parts[1] else { throw HCALError("LS range '\(text)' is not first:last") }
            self.init(first: first, last: last)
        }
        public func contains(_ ls: Int, lastOfRun: Int) -> Bool {
            ls >= first && ls <= (last < 0 ? lastOfRun + 1 + last : last)
        }
        public var description: String { "\(first):\(last)" }
    }

    /// Per-channel scaling after the NumEvents renormalization (fitted on training LS only).
    public enum Scaling: String, Codable, Sendable, CaseIterable {
        /// (x − min) / (max − min) per channel; a constant channel keeps range 1 (scikit-learn's MinMaxScaler).
        case minmax
        /// x / max per channel (max 0 → 1), production's `TorchMaxScaler`; the default, because RIN
        /// divides each iphi ring by its mean, which removes the luminosity only when the scaled
        /// value is proportional to the occupancy (min-max's offset breaks that) and which skips
        /// dead (zero) channels only when a zero stays zero (min-max moves it to −min / range).
        case max
        case none
    }

    public struct Run: Codable, Equatable, Sendable {
        public var run: Int
        public var source: String
        public var lumisections: Int
        public var trainingLumisections: Int
        public var testLumisections: Int
    }

    public struct Description: Codable, Equatable, Sendable {
        public var subdetector: HCALSubdetector
        public var emapAdjust: Bool
        public var maskSource: String
        public var scaling: Scaling
        public var trainingRange: LumisectionRange
        public var testRange: LumisectionRange
        public var runs: [Run]
    }

    public let directory: String
    public let description: Description
    public let mask: HCALMask
    /// Per-channel offset and range of the scaling.
    public let offset: [Float]
    public let range: [Float]

    public static func file(_ name: String, in directory: String) -> String { (directory as NSString).appendingPathComponent(name) }
    public static func mapsFile(run: Int, in directory: String) -> String { file("maps/Run\(run).npy", in: directory) }

    /// Opens a prepared data set.
    public init(directory: String) throws {
        self.directory = directory
        let descriptionFile = Self.file("dataset.json", in: directory)
        guard let data = FileManager.default.contents(atPath: descriptionFile) else {
            throw HCALError("\(directory) is not a prepared HCAL data set (no dataset.json; run `hepml hcal prepare`)")
        }
        do { description = try JSONDecoder().decode(Description.self, from: data) } catch {
            throw FileFormatError(file: descriptionFile, reason: "\(error)")
        }
        mask = try HCALMask(file: Self.file("mask.npy", in: directory), subdetector: description.subdetector)
        let scalerFile = Self.file("scaler.npy", in: directory)
        let scaler = try NPY.read(path: scalerFile)
        let channels = mask.active.count
        guard scaler.shape == [2, HCALIndex.etaCount, HCALIndex.phiCount, mask.depthCount] else {
            throw FileFormatError(file: scalerFile, reason: "shape \(scaler.shape), expected [2, 64, 72, \(mask.depthCount)]")
        }
        let values = try scaler.values(as: Float.self)
        offset = Array(values[0..<channels])
        range = Array(values[channels...])
    }

    /// One run's renormalized maps as written by `prepare`, with its LS table rows.
    public struct RunData: Sendable {
        public var run: Int
        public var lumisections: [Int]
        public var numEvents: [Int]
        /// `[LS, 64, 72, depths]` occupancy / NumEvents.
        public var maps: [Float]
        public var lastLumisection: Int { lumisections.last ?? 0 }
    }

    public func runData(_ run: Int) throws -> RunData {
        let table = try TableFile.read(path: Self.file("lumisections.parquet", in: directory))
        guard case .int64(let runs)? = table["run"]?.values, case .int64(let sections)? = table["ls"]?.values,
              case .int64(let events)? = table["num_events"]?.values else {
            throw FileFormatError(file: Self.file("lumisections.parquet", in: directory), reason: "needs int64 columns run, ls, num_events")
        }
        var lumisections: [Int] = [], numEvents: [Int] = []
        for row in runs.indices where runs[row] == Int64(run) {
            lumisections.append(Int(sections[row]))
            numEvents.append(Int(events[row]))
        }
        let path = Self.mapsFile(run: run, in: directory)
        let array = try NPY.read(path: path)
        guard array.shape == [lumisections.count, HCALIndex.etaCount, HCALIndex.phiCount, mask.depthCount] else {
            throw FileFormatError(file: path, reason: "shape \(array.shape), the LS table has \(lumisections.count) LS of run \(run)")
        }
        return RunData(run: run, lumisections: lumisections, numEvents: numEvents, maps: try array.values(as: Float.self))
    }

    /// Reads every analyzer file (one run in memory at a time), renormalizes by NumEvents, fits the
    /// scaling on the training LS and writes the data set directory.
    @discardableResult
    public static func prepare(files: [String], output directory: String, subdetector: HCALSubdetector, emapCSV: String? = nil,
                               emapAdjust: Bool = true, scaling: Scaling = .max,
                               trainingRange: LumisectionRange = LumisectionRange(first: 1, last: 500),
                               testRange: LumisectionRange = LumisectionRange(first: 501, last: -1),
                               log: (String) -> Void = { _ in }) throws -> HCALDataset {
        guard !files.isEmpty else { throw HCALError("no analyzer files given") }
        let mask = try emapCSV.map { try HCALMask(emapCSV: $0, subdetector: subdetector) } ?? HCALMask(geometry: subdetector)
        try FileManager.default.createDirectory(atPath: file("maps", in: directory), withIntermediateDirectories: true)
        try mask.write(to: directory)
        let channels = mask.active.count
        var minimum = [Float](repeating: .infinity, count: channels), maximum = [Float](repeating: -.infinity, count: channels)
        var runs: [Run] = []
        var columns: (run: [Int64], ls: [Int64], events: [Int64], total: [Double], peak: [Double], split: [String?]) = ([], [], [], [], [], [])
        for path in files {
            let maps = try HCALRunMaps(file: path, subdetector: subdetector, mask: mask, emapAdjust: emapAdjust)
            guard !runs.contains(where: { $0.run == maps.run }) else { throw FileFormatError(file: path, reason: "run \(maps.run) appears in two files") }
            var normalized = maps.occupancy
            let last = maps.lumisections.last ?? 0
            var training = 0, test = 0
            for (row, ls) in maps.lumisections.enumerated() {
                let scale = 1 / Float(max(maps.numEvents[row], 1))
                var total = 0.0, peak = 0.0
                normalized.withUnsafeMutableBufferPointer { values in
                    for channel in 0..<channels {
                        let raw = values[row * channels + channel]
                        total += Double(raw)
                        peak = Swift.max(peak, Double(raw))
                        values[row * channels + channel] = raw * scale
                    }
                }
                let split: String?
                if trainingRange.contains(ls, lastOfRun: last) {
                    split = "train"
                    training += 1
                    normalized.withUnsafeBufferPointer { values in
                        for channel in 0..<channels where mask.active[channel] {
                            let value = values[row * channels + channel]
                            minimum[channel] = Swift.min(minimum[channel], value)
                            maximum[channel] = Swift.max(maximum[channel], value)
                        }
                    }
                } else if testRange.contains(ls, lastOfRun: last) {
                    split = "test"
                    test += 1
                } else {
                    split = nil
                }
                columns.run.append(Int64(maps.run)); columns.ls.append(Int64(ls)); columns.events.append(Int64(maps.numEvents[row]))
                columns.total.append(total); columns.peak.append(peak); columns.split.append(split)
            }
            try NPY.write(try NDArray(normalized, shape: [maps.lumisections.count, HCALIndex.etaCount, HCALIndex.phiCount, mask.depthCount]),
                          to: mapsFile(run: maps.run, in: directory))
            runs.append(Run(run: maps.run, source: path, lumisections: maps.lumisections.count, trainingLumisections: training, testLumisections: test))
            log("run \(maps.run): \(maps.lumisections.count) LS (\(training) training, \(test) test) from \(path)")
        }
        guard runs.contains(where: { $0.trainingLumisections > 0 }) else {
            throw HCALError("no lumisection falls in the training range \(trainingRange) of any run")
        }
        var offset = [Float](repeating: 0, count: channels), range = [Float](repeating: 1, count: channels)
        for channel in 0..<channels where mask.active[channel] && minimum[channel].isFinite {
            switch scaling {
            case .minmax:
                offset[channel] = minimum[channel]
                let span = maximum[channel] - minimum[channel]
                range[channel] = span > 0 ? span : 1
            case .max:
                range[channel] = maximum[channel] > 0 ? maximum[channel] : 1
            case .none:
                break
            }
        }
        try NPY.write(try NDArray(offset + range, shape: [2, HCALIndex.etaCount, HCALIndex.phiCount, mask.depthCount]), to: file("scaler.npy", in: directory))
        let table = try Table(columns: [
            try Column(name: "run", int64: columns.run), try Column(name: "ls", int64: columns.ls), try Column(name: "num_events", int64: columns.events),
            try Column(name: "total_occupancy", float64: columns.total), try Column(name: "max_occupancy", float64: columns.peak),
            try Column(name: "split", strings: columns.split),
        ])
        try TableFile.write(table, to: file("lumisections.parquet", in: directory))
        let description = Description(subdetector: subdetector, emapAdjust: emapAdjust, maskSource: emapCSV ?? "geometry", scaling: scaling,
                                      trainingRange: trainingRange, testRange: testRange, runs: runs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(description), to: file("dataset.json", in: directory))
        return try HCALDataset(directory: directory)
    }

    /// Which LS rows of `data` are in `split`.
    public func rows(of data: RunData, in split: LumisectionRange) -> [Int] {
        data.lumisections.indices.filter { split.contains(data.lumisections[$0], lastOfRun: data.lastLumisection) }
    }
}
