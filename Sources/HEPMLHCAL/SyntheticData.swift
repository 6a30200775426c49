import Foundation
import HEPMLCore

/// A physically shaped synthetic HCAL data set written as real Hcal4DQMAnalyzer-layout files, so
/// the whole workflow runs without CMS data (docs/hcal.md, "Synthetic data"):
/// - a channel fires (charge over 20 fC) in an event with probability p = 1 − exp(−μ·q): μ is
///   the pile-up, q rises with |ieta| and falls with depth as real occupancy does, times a fixed
///   per-channel gain (log-normal, 15 %) — the saturation in μ is the non-linearity RIN removes;
/// - each run is one fill: μ decays exponentially over the lumisections, and the events per LS
///   follow the luminosity (Poisson);
/// - the digi-occupancy of a channel in an LS is Poisson with mean NumEvents·p (capped at NumEvents);
/// - only channels of the HB and HE geometry (`HCALSubdetector.depths`) are filled;
/// - optional labelled faults in the last 40 % of each run: a dead HE RBX for a stretch of LS,
///   hot HE channels, and one HE channel whose response degrades linearly to 30 %.
public struct HCALSyntheticData: Sendable {
    public struct Options: Codable, Equatable, Sendable {
        public var runs = 3
        public var firstRun = 355_456
        public var lumisections = 800
        /// Events per LS at the start of a fill.
        public var eventsPerLumisection = 400.0
        public var faults = false
        public var seed: UInt64 = 123
        public init() {}
    }

    /// One injected fault: its kind, the LS it covers and the channels (ieta, iphi, depth).
    public struct Fault: Codable, Equatable, Sendable {
        public var run: Int
        public var kind: String
        public var firstLumisection: Int
        public var lastLumisection: Int
        /// Occupancy factor at the first LS (dead 0, hot > 1) and at the last (degradation).
        public var startFactor: Double
        public var endFactor: Double
        public var channels: [[Int]]

        func factor(ls: Int) -> Double {
            guard ls >= firstLumisection, ls <= lastLumisection else { return 1 }
            let span = max(lastLumisection - firstLumisection, 1)
            return startFactor + (endFactor - startFactor) * Double(ls - firstLumisection) / Double(span)
        }
    }

    public var options: Options

    public init(options: Options) { self.options = options }

    /// Pile-up at the start of a fill and its decay length in LS, per run.
    func fill(run index: Int) -> (mu0: Double, decay: Double) {
        var generator = SeededGenerator(seed: options.seed, stream: 1_000 + UInt64(index))
        return (50 + 14 * generator.nextUniform(), 700 + 900 * generator.nextUniform())
    }

    /// Occupancy per event per unit pile-up of the channel, before its gain.
    static func baseResponse(absoluteEta eta: Int, depth: Int) -> Double {
        let depthFactor = [1.0, 0.8, 0.65, 0.5, 0.4, 0.3, 0.25][min(max(depth - 1, 0), 6)]
        return eta >= 16 ? 0.004 * exp(Double(eta - 16) / 8) * depthFactor : 0.002 * (1 + 0.03 * Double(eta)) * depthFactor
    }

    /// Whether the geometry reads out (ieta, iphi, depth) in HB or HE.
    static func isChannel(ieta: Int, iphi: Int, depth: Int) -> Bool {
        HCALSubdetector.allCases.contains { subdetector in
            (subdetector.depths(atAbsoluteEta: abs(ieta))?.contains(depth) ?? false) && depth <= subdetector.depthCount
                && subdetector.isReadOut(absoluteEta: abs(ieta), iphi: iphi)
        }
    }

    /// The faults of run `index` (none without `options.faults`).
    public func faults(run index: Int) -> [Fault] {
        guard options.faults else { return [] }
        let run = options.firstRun + index, n = options.lumisections
        var generator = SeededGenerator(seed: options.seed, stream: 2_000 + UInt64(index))
        func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(generator.nextUniform() * Double(range.count)) % range.count }
        let start = max(1, n * 6 / 10)
        let side = generator.nextUniform() < 0.5 ? -1 : 1, rbx = draw(1...18)
        var rbxChannels: [[Int]] = []
        for iphi in 1...72 where HCALIndex.rbx(iphi: iphi) == rbx && iphi != 72 {
            for eta in 16...29 {
                for depth in 1...7 where HCALSubdetector.he.depths(atAbsoluteEta: eta)?.contains(depth) ?? false
                    && HCALSubdetector.he.isReadOut(absoluteEta: eta, iphi: iphi) {
                    rbxChannels.append([side * eta, iphi, depth])
                }
            }
        }
        let deadFirst = draw(start...max(start, n - 60))
        var faults = [Fault(run: run, kind: "dead RBX \(side < 0 ? "HEM" : "HEP")\(String(format: "%02d", rbx))", firstLumisection: deadFirst,
                            lastLumisection: min(n, deadFirst + 20 + draw(0...30)), startFactor: 0, endFactor: 0, channels: rbxChannels)]
        for _ in 0..<3 {
            let eta = draw(18...28), depth = draw(1...5), iphi = 2 * draw(1...35) - 1
            let first = draw(start...max(start, n - 30))
            faults.append(Fault(run: run, kind: "hot channel", firstLumisection: first, lastLumisection: min(n, first + 10 + draw(0...20)),
                                startFactor: 2.5, endFactor: 2.5, channels: [[generator.nextUniform() < 0.5 ? -eta : eta, iphi, depth]]))
        }
        let eta = draw(18...25), depth = draw(1...4), iphi = 2 * draw(1...35) - 1
        faults.append(Fault(run: run, kind: "degrading channel", firstLumisection: start, lastLumisection: n, startFactor: 1, endFactor: 0.3,
                            channels: [[generator.nextUniform() < 0.5 ? -eta : eta, iphi, depth]]))
        return faults
    }

    /// Writes `Run<number>.root` per run into `directory` (and `faults.json` with the labelled
    /// faults); returns the files.
    @discardableResult
    public func write(to directory: String, progress: (String) -> Void = { _ in }) throws -> [String] {
        guard options.runs > 0, options.lumisections > 0, options.lumisections < HCALAnalyzerLayout.lumisectionBins, options.eventsPerLumisection > 0 else {
            throw HCALError("synthetic data needs ≥ 1 run, 1…1999 lumisections and positive events per lumisection")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Per-channel gains are one detector's: the same for every run.
        var gainGenerator = SeededGenerator(seed: options.seed, stream: 0)
        let gains = (0..<(64 * 73 * 7)).map { _ in exp(0.15 * gainGenerator.nextNormal()) }
        var files: [String] = []
        var allFaults: [Fault] = []
        for index in 0..<options.runs {
            let run = options.firstRun + index
            let (mu0, decay) = fill(run: index)
            var eventGenerator = SeededGenerator(seed: options.seed, stream: 3_000 + UInt64(index))
            var numEvents: [Int: Int] = [:]
            var mu = [Double](repeating: 0, count: options.lumisections + 1)
            for ls in 1...options.lumisections {
                let luminosity = exp(-Double(ls) / decay)
                mu[ls] = mu0 * luminosity
                numEvents[ls] = max(1, eventGenerator.nextPoisson(mean: options.eventsPerLumisection * luminosity))
            }
            let faults = self.faults(run: index)
            allFaults += faults
            var faultIndex: [Int: [Fault]] = [:]
            for fault in faults {
                for channel in fault.channels where channel.count == 3 { faultIndex[(channel[0] + 32) * 1000 + channel[1] * 10 + channel[2], default: []].append(fault) }
            }
            let path = (directory as NSString).appendingPathComponent("Run\(run).root")
            try HCALAnalyzerWriter.write(to: path, run: run, numEvents: numEvents) { depth, contents in
                var generator = SeededGenerator(seed: options.seed, stream: 10_000 + UInt64(index) * 16 + UInt64(depth))
                for ieta in -29...29 where ieta != 0 {
                    for iphi in 1...72 where Self.isChannel(ieta: ieta, iphi: iphi, depth: depth) {
                        let q = Self.baseResponse(absoluteEta: abs(ieta), depth: depth) * gains[((ieta + 32) * 73 + iphi) * 7 + depth - 1]
                        let channelFaults = faultIndex[(ieta + 32) * 1000 + iphi * 10 + depth] ?? []
                        for ls in 1...options.lumisections {
                            let events = Double(numEvents[ls] ?? 0)
                            var mean = events * (1 - exp(-mu[ls] * q))
                            for fault in channelFaults { mean *= fault.factor(ls: ls) }
                            let count = min(Double(generator.nextPoisson(mean: mean)), events)
                            contents[HCALAnalyzerWriter.cell(ls: ls, ieta: ieta, iphi: iphi)] += count
                        }
                    }
                }
            }
            progress("wrote \(path)")
            files.append(path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(allFaults), to: (directory as NSString).appendingPathComponent("faults.json"))
        return files
    }
}

public struct HCALError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
