import Foundation
import HEPMLCore

/// Settings of the synthetic DQM data set behind `hepml dqm generate` and `hepml demo`.
public struct SyntheticDQMConfiguration: Sendable, Equatable {
    public var runCount = 200
    public var primaryDataset = "ZeroBias"
    public var year = 2022
    public var era = "C"
    public var firstRun = 355_100
    /// Fraction of runs labelled bad (each carries one known anomaly).
    public var badFraction = 0.15
    /// Fraction of runs left out of both label lists (unknown); they are anomalous at the same
    /// rate as the rest, as unlabelled runs are in real certification.
    public var unlabelledFraction = 0.10
    public var seed: UInt64 = 2022

    public init() {}

    public var processing: String { "Run\(year)\(era)-PromptReco-v1" }
}

/// The kinds of detector problems the generator plants in bad runs.
public enum SyntheticAnomaly: String, Sendable, CaseIterable, Codable {
    /// A region of one subsystem reads (almost) nothing: occupancy maps, η and φ distributions.
    case deadRegion
    /// One cell of one subsystem fires far too often.
    case hotRegion
    /// The timing peaks of one subsystem move by 0.3–0.7 of their width.
    case timingShift
    /// The energy scale of one subsystem is off by 4–9 %.
    case gainChange
    /// Electronic noise adds low-energy hits, flat timing and flat occupancy to one subsystem.
    case addedNoise
    /// The whole run has a small fraction of the expected events (all histograms).
    case lowStatistics
}

/// One generated run: its histograms and the truth the demo is judged against.
public struct SyntheticRun: Sendable {
    public var run: Int
    /// The label written to the datasets JSON (unknown runs are in neither list).
    public var label: RunLabel
    /// The planted problem, also for unknown runs; nil for a healthy run.
    public var anomaly: SyntheticAnomaly?
    /// The subsystem the problem is in (nil for run-wide `lowStatistics`).
    public var affectedSubsystem: String?
    /// Relative instantaneous luminosity; pileup and statistics follow it.
    public var luminosity: Double
    public var fileName: String
    /// Every monitored histogram of the run, in the contents' order.
    public var histograms: [(path: DQMHistogramPath, histogram: DQMHistogram)]
}

/// The generated data set: what `hepml dqm generate` writes as DQM ROOT files (one per run,
/// each histogram at `path.objectPath(run:)`) plus the matching contents and datasets JSON.
public struct SyntheticDQMDataset: Sendable {
    public var configuration: SyntheticDQMConfiguration
    public var runs: [SyntheticRun]
    public var contents: DQMContents
    public var datasets: DQMDatasets

    /// Generates the data set; runs are independent streams of the seed, made in parallel.
    public static func generate(_ configuration: SyntheticDQMConfiguration = .init()) throws -> SyntheticDQMDataset {
        guard configuration.runCount >= 1, configuration.runCount <= 100_000 else {
            throw DQMError.invalidConfiguration("run count must be between 1 and 100000")
        }
        guard (0...1).contains(configuration.badFraction), (0...1).contains(configuration.unlabelledFraction),
              configuration.badFraction + configuration.unlabelledFraction <= 1
        else {
            throw DQMError.invalidConfiguration("bad and unlabelled fractions must be in [0, 1] and sum to at most 1")
        }
        let detector = SyntheticDetector(seed: configuration.seed)
        var planner = SeededGenerator(seed: configuration.seed, stream: 0)
        let count = configuration.runCount
        let order = planner.permutation(count)
        let badCount = Int((Double(count) * configuration.badFraction).rounded())
        let unknownCount = Int((Double(count) * configuration.unlabelledFraction).rounded())
        var labels = [RunLabel](repeating: .good, count: count)
        for (position, index) in order.enumerated() {
            if position < badCount { labels[index] = .bad } else if position < badCount + unknownCount { labels[index] = .unknown }
        }
        var runNumbers: [Int] = []
        var next = configuration.firstRun
        for _ in 0..<count {
            runNumbers.append(next)
            next += 1 + Int(planner.next() % 4)
        }
        let finalLabels = labels
        let numbers = runNumbers
        let runs = try Parallel.map(count) { index -> SyntheticRun in
            var generator = SeededGenerator(seed: configuration.seed, stream: UInt64(index) + 1)
            let anomalous = finalLabels[index] == .bad || (finalLabels[index] == .unknown && generator.nextUniform() < configuration.badFraction)
            return try detector.makeRun(run: numbers[index], label: finalLabels[index], anomalous: anomalous, configuration: configuration, generator: &generator)
        }
        let year = DQMDatasets.Year(
            productions: ["PromptReco"], eras: [configuration.era], runs: runNumbers,
            goodRuns: runs.filter { $0.label == .good }.map(\.run),
            badRuns: runs.filter { $0.label == .bad }.map(\.run),
            comments: "synthetic DQM data set generated by hepml (seed \(configuration.seed))")
        return SyntheticDQMDataset(
            configuration: configuration, runs: runs,
            contents: DQMContents(histograms: detector.histograms.map(\.path)),
            datasets: DQMDatasets(primaryDatasets: [configuration.primaryDataset], years: [String(configuration.year): year]))
    }

    /// What `truth.json` holds per run: the label written to the datasets JSON and what was
    /// really planted (unlabelled runs are anomalous at the bad-run rate).
    public struct RunTruth: Codable, Sendable, Equatable {
        public var run: Int
        public var label: RunLabel
        public var anomaly: SyntheticAnomaly?
        public var subsystem: String?
        public var luminosity: Double
    }

    public var truth: [RunTruth] {
        runs.map { RunTruth(run: $0.run, label: $0.label, anomaly: $0.anomaly, subsystem: $0.affectedSubsystem, luminosity: $0.luminosity) }
    }

    public func truthJSONData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(truth)
    }
}

/// The simulated detector: a fixed catalogue of monitored histograms with a fixed per-cell
/// response pattern (from the seed), from which every run is drawn.
struct SyntheticDetector: Sendable {
    enum Shape: Sendable {
        /// Pseudorapidity with acceptance |η| < `acceptance` (and > `inner`), optional dip at a gap.
        case eta(acceptance: Double, inner: Double, gap: Double?)
        /// Azimuth with `sectors` boundaries where the response dips.
        case phi(sectors: Int)
        /// A timing peak of width `sigma` ns on a pileup-dependent flat floor.
        case timing(sigma: Double)
        /// Falling energy/pT spectrum with a trigger/reconstruction turn-on.
        case spectrum(threshold: Double, slope: Double)
        /// Hit/track multiplicity whose mean grows with pileup.
        case multiplicity(base: Double, perPileup: Double)
        /// Reconstruction quality codes with fixed probabilities.
        case quality(probabilities: [Double])
        /// χ²/ndf of fits.
        case fitQuality
        /// η×φ occupancy with acceptance, sector structure and a per-cell response pattern.
        case occupancy(acceptance: Double, inner: Double, sectors: Int, pattern: [Double])
    }

    struct Monitored: Sendable {
        var path: DQMHistogramPath
        var shape: Shape
        var x: Binning
        var y: Binning?
        /// Entries at luminosity 1 and average run length.
        var baseEntries: Double
        var sectors: Int {
            switch shape {
            case .phi(let sectors), .occupancy(_, _, let sectors, _): return sectors
            default: return 18
            }
        }
    }

    var histograms: [Monitored] = []

    init(seed: UInt64) {
        var pattern = SeededGenerator(seed: seed, stream: 0xDE7EC7)
        func bins(_ count: Int, _ low: Double, _ high: Double) -> Binning { Binning(count: count, lower: low, upper: high) }
        func cells(_ count: Int) -> [Double] {
            // Fixed channel response 0.9–1.1; about 1 % of channels permanently dead, which is
            // normal and must not be flagged.
            (0..<count).map { _ in pattern.nextUniform() < 0.01 ? 0 : 0.9 + 0.2 * pattern.nextUniform() }
        }
        func codes(_ count: Int) -> [Double] {
            var probabilities = (0..<count).map { _ in 0.002 + 0.03 * pattern.nextUniform() }
            probabilities[0] = 1 - probabilities.dropFirst().reduce(0, +)
            return probabilities
        }
        func add(_ subsystem: String, _ entry: String, _ shape: Shape, _ x: Binning, _ y: Binning? = nil, entries: Double) {
            histograms.append(Monitored(path: DQMHistogramPath(subsystem: subsystem, entry: entry), shape: shape, x: x, y: y, baseEntries: entries))
        }
        let pi = Double.pi
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/TrackEta", .eta(acceptance: 2.5, inner: 0, gap: nil), bins(60, -3, 3), entries: 250_000)
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/TrackPhi", .phi(sectors: 8), bins(64, -pi, pi), entries: 250_000)
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/TrackPt", .spectrum(threshold: 0.5, slope: 1.6), bins(50, 0, 20), entries: 250_000)
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/NumberOfTracks", .multiplicity(base: 20, perPileup: 3), bins(60, 0, 300), entries: 120_000)
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/TrackAlgoQuality", .quality(probabilities: codes(8)), bins(8, -0.5, 7.5), entries: 250_000)
        add("Tracking", "/Run summary/TrackParameters/GeneralProperties/Chi2oNDF", .fitQuality, bins(50, 0, 10), entries: 250_000)
        add("Tracking", "/Run summary/Pixel/Clusters/ClusterOccupancyEtaPhi", .occupancy(acceptance: 2.5, inner: 0, sectors: 8, pattern: cells(24 * 32)), bins(24, -3, 3), bins(32, -pi, pi), entries: 800_000)
        add("Tracking", "/Run summary/Pixel/Clusters/ClusterCharge", .spectrum(threshold: 12, slope: 18), bins(50, 0, 100), entries: 250_000)

        add("EcalBarrel", "/Run summary/EBOccupancyTask/EBOT rec hit occupancy", .occupancy(acceptance: 1.479, inner: 0, sectors: 18, pattern: cells(34 * 36)), bins(34, -1.479, 1.479), bins(36, -pi, pi), entries: 1_000_000)
        add("EcalBarrel", "/Run summary/EBRecHitTask/EBRHT energy", .spectrum(threshold: 0.2, slope: 2), bins(50, 0, 20), entries: 300_000)
        add("EcalBarrel", "/Run summary/EBTimingTask/EBTMT timing 1D", .timing(sigma: 2.5), bins(50, -25, 25), entries: 300_000)
        add("EcalBarrel", "/Run summary/EBClusterTask/EBCLT BC eta", .eta(acceptance: 1.479, inner: 0, gap: nil), bins(50, -1.6, 1.6), entries: 200_000)
        add("EcalBarrel", "/Run summary/EBClusterTask/EBCLT BC phi", .phi(sectors: 18), bins(72, -pi, pi), entries: 200_000)
        add("EcalBarrel", "/Run summary/EBIntegrityTask/EBIT channel status", .quality(probabilities: codes(16)), bins(16, -0.5, 15.5), entries: 200_000)
        add("EcalEndcap", "/Run summary/EERecHitTask/EERHT energy", .spectrum(threshold: 0.5, slope: 4), bins(50, 0, 40), entries: 200_000)
        add("EcalEndcap", "/Run summary/EETimingTask/EETMT timing 1D", .timing(sigma: 3.5), bins(50, -25, 25), entries: 200_000)

        add("Hcal", "/Run summary/DigiTask/Occupancy/depth/depth1", .occupancy(acceptance: 3.0, inner: 0, sectors: 18, pattern: cells(32 * 36)), bins(32, -3.2, 3.2), bins(36, -pi, pi), entries: 1_000_000)
        add("Hcal", "/Run summary/RecHitTask/Energy/HBHE", .spectrum(threshold: 1, slope: 5), bins(50, 0, 50), entries: 250_000)
        add("Hcal", "/Run summary/RecHitTask/Timing/HBHE", .timing(sigma: 4), bins(50, -25, 25), entries: 250_000)
        add("Hcal", "/Run summary/RecHitTask/Energy/HF", .spectrum(threshold: 2, slope: 12), bins(50, 0, 100), entries: 150_000)
        add("Hcal", "/Run summary/RecHitTask/Timing/HF", .timing(sigma: 3), bins(50, -25, 25), entries: 150_000)
        add("Hcal", "/Run summary/DigiTask/DigiSize/HBHE", .multiplicity(base: 6, perPileup: 0.05), bins(20, 0, 20), entries: 250_000)
        add("Hcal", "/Run summary/RecHitTask/Quality/HBHE", .quality(probabilities: codes(10)), bins(10, -0.5, 9.5), entries: 250_000)

        add("CSC", "/Run summary/CSCOfflineMonitor/Occupancy/hOStripsAndWiresAndCLCT", .occupancy(acceptance: 2.4, inner: 0.9, sectors: 36, pattern: cells(10 * 36)), bins(10, 0.9, 2.4), bins(36, -pi, pi), entries: 300_000)
        add("CSC", "/Run summary/CSCOfflineMonitor/Segments/hSGlobalEta", .eta(acceptance: 2.4, inner: 0.9, gap: nil), bins(50, -2.5, 2.5), entries: 150_000)
        add("CSC", "/Run summary/CSCOfflineMonitor/Segments/hSGlobalPhi", .phi(sectors: 36), bins(72, -pi, pi), entries: 150_000)
        add("CSC", "/Run summary/CSCOfflineMonitor/Segments/hSnhits", .quality(probabilities: codes(7)), bins(7, -0.5, 6.5), entries: 150_000)
        add("CSC", "/Run summary/CSCOfflineMonitor/Timing/hSTimeCombined", .timing(sigma: 5), bins(50, -50, 50), entries: 150_000)

        add("DT", "Run summary/02-Segments/SegmentOccupancyWheelSector", .occupancy(acceptance: 1.2, inner: 0, sectors: 12, pattern: cells(5 * 12)), bins(5, -1.25, 1.25), bins(12, -pi, pi), entries: 200_000)
        add("DT", "Run summary/02-Segments/SegmentTiming", .timing(sigma: 6), bins(50, -50, 50), entries: 150_000)
        add("DT", "Run summary/02-Segments/SegmentChi2oNDF", .fitQuality, bins(40, 0, 10), entries: 150_000)

        add("L1T", "/Run summary/L1TStage2CaloLayer2/Central-Jets/CenJetsEt", .spectrum(threshold: 10, slope: 20), bins(64, 0, 256), entries: 200_000)
        add("L1T", "/Run summary/L1TStage2CaloLayer2/Central-Jets/CenJetsEta", .eta(acceptance: 3.0, inner: 0, gap: 1.48), bins(60, -3.5, 3.5), entries: 200_000)
        add("L1T", "/Run summary/L1TStage2CaloLayer2/Central-Jets/CenJetsPhi", .phi(sectors: 18), bins(72, -pi, pi), entries: 200_000)
        add("L1T", "/Run summary/L1TStage2uGMT/ugmtMuonEta", .eta(acceptance: 2.4, inner: 0, gap: 1.24), bins(48, -2.5, 2.5), entries: 120_000)
        add("L1T", "/Run summary/L1TStage2uGMT/ugmtMuonBX", .quality(probabilities: [0.96, 0.015, 0.015, 0.005, 0.005]), bins(5, -0.5, 4.5), entries: 120_000)
    }

    /// The concrete problem of one bad run.
    struct Distortion {
        var anomaly: SyntheticAnomaly
        var subsystem: String?
        /// Dead region: η range and φ range.
        var deadEta = 0.0...0.0
        var deadPhi = 0.0...0.0
        /// Hot spot position and the fraction of the histogram's entries it adds.
        var hotEta = 0.0, hotPhi = 0.0, hotFraction = 0.0
        var timingShift = 0.0
        var gain = 1.0
        var noiseFraction = 0.0
        var statisticsScale = 1.0
    }

    func makeRun(run: Int, label: RunLabel, anomalous: Bool, configuration: SyntheticDQMConfiguration, generator: inout SeededGenerator) throws -> SyntheticRun {
        let luminosity = min(2.5, max(0.35, exp(0.35 * generator.nextNormal())))
        let runLength = 0.6 + 0.8 * generator.nextUniform()
        let pileup = 35 * pow(luminosity, 0.8)
        let timingJitter = 0.1 * generator.nextNormal()
        let gainJitter = 1 + 0.004 * generator.nextNormal()
        let distortion = anomalous ? makeDistortion(&generator) : nil
        var output: [(path: DQMHistogramPath, histogram: DQMHistogram)] = []
        for monitored in histograms {
            let affected = distortion.map { $0.subsystem == nil || $0.subsystem == monitored.path.subsystem } ?? false
            let local = affected ? distortion : nil
            var shape = expectedShape(monitored, pileup: pileup, timingJitter: timingJitter, gain: gainJitter, distortion: local, generator: &generator)
            var entries = monitored.baseEntries * luminosity * runLength
            if let local, local.anomaly == .lowStatistics { entries *= local.statisticsScale }
            for bin in shape.indices { shape[bin] = Double(generator.nextPoisson(mean: shape[bin] * entries)) }
            output.append((monitored.path, try DQMHistogram(xEdges: monitored.x.edges, yEdges: monitored.y?.edges, contents: shape)))
        }
        let name = DQMFileName.standardName(run: run, primaryDataset: configuration.primaryDataset, processing: configuration.processing)
        return SyntheticRun(run: run, label: label, anomaly: distortion?.anomaly, affectedSubsystem: distortion?.subsystem,
                            luminosity: luminosity, fileName: name, histograms: output)
    }

    private func makeDistortion(_ generator: inout SeededGenerator) -> Distortion {
        let anomaly = SyntheticAnomaly.allCases[Int(generator.next() % UInt64(SyntheticAnomaly.allCases.count))]
        let subsystems: [String]
        switch anomaly {
        case .deadRegion, .hotRegion: subsystems = Array(Set(histograms.filter { if case .occupancy = $0.shape { return true } else { return false } }.map(\.path.subsystem))).sorted()
        case .timingShift: subsystems = Array(Set(histograms.filter { if case .timing = $0.shape { return true } else { return false } }.map(\.path.subsystem))).sorted()
        case .gainChange: subsystems = Array(Set(histograms.filter { if case .spectrum = $0.shape { return true } else { return false } }.map(\.path.subsystem))).sorted()
        case .addedNoise: subsystems = Array(Set(histograms.map(\.path.subsystem))).sorted()
        case .lowStatistics: subsystems = []
        }
        var distortion = Distortion(anomaly: anomaly, subsystem: subsystems.isEmpty ? nil : subsystems[Int(generator.next() % UInt64(subsystems.count))])
        let acceptance = histograms.first { $0.path.subsystem == distortion.subsystem && $0.y != nil }.flatMap { monitored -> (Double, Double, Int)? in
            if case .occupancy(let acceptance, let inner, let sectors, _) = monitored.shape { return (acceptance, inner, sectors) }
            return nil
        } ?? (2.5, 0, 18)
        switch anomaly {
        case .deadRegion:
            let sectorWidth = 2 * Double.pi / Double(acceptance.2)
            let sectors = Double(1 + Int(generator.next() % UInt64(max(1, acceptance.2 / 18 + 1))))
            let firstSector = Double(generator.next() % UInt64(acceptance.2))
            distortion.deadPhi = (-Double.pi + firstSector * sectorWidth)...(-Double.pi + (firstSector + sectors) * sectorWidth)
            let span = acceptance.0 - acceptance.1
            let width = span * (0.2 + 0.3 * generator.nextUniform())
            let start = acceptance.1 + (span - width) * generator.nextUniform()
            let side = generator.nextUniform() < 0.5 ? -1.0 : 1.0
            distortion.deadEta = side > 0 ? start...(start + width) : (-start - width)...(-start)
        case .hotRegion:
            let magnitude = acceptance.1 + (acceptance.0 - acceptance.1) * generator.nextUniform()
            distortion.hotEta = generator.nextUniform() < 0.5 ? -magnitude : magnitude
            distortion.hotPhi = -Double.pi + 2 * Double.pi * generator.nextUniform()
            distortion.hotFraction = 0.002 + 0.006 * generator.nextUniform()
        case .timingShift:
            distortion.timingShift = (0.3 + 0.4 * generator.nextUniform()) * (generator.nextUniform() < 0.5 ? -1 : 1)
        case .gainChange:
            distortion.gain = 1 + (0.04 + 0.05 * generator.nextUniform()) * (generator.nextUniform() < 0.5 ? -1 : 1)
        case .addedNoise:
            distortion.noiseFraction = 0.02 + 0.06 * generator.nextUniform()
        case .lowStatistics:
            distortion.statisticsScale = 0.05 + 0.15 * generator.nextUniform()
        }
        return distortion
    }

    /// Bin probabilities (summing to 1) of one histogram in one run.
    private func expectedShape(_ monitored: Monitored, pileup: Double, timingJitter: Double, gain: Double, distortion: Distortion?, generator: inout SeededGenerator) -> [Double] {
        let x = monitored.x.edges
        let pileupOffset = pileup - 35
        let noise = distortion?.anomaly == .addedNoise ? distortion?.noiseFraction ?? 0 : 0
        var shape: [Double]
        switch monitored.shape {
        case .eta(let acceptance, let inner, let gap):
            let sectorsLost = deadPhiFraction(distortion)
            shape = integrate(x) { eta in
                var density = Self.acceptance(eta, acceptance, inner) * (1 + (0.05 + 0.001 * pileupOffset) * eta * eta)
                if let gap { density *= 1 - 0.4 * exp(-pow(abs(eta) - gap, 2) / (2 * 0.05 * 0.05)) }
                if let distortion, distortion.anomaly == .deadRegion, distortion.deadEta.contains(eta) { density *= 1 - 0.98 * sectorsLost }
                return density
            }
        case .phi(let sectors):
            let etaLost = deadEtaFraction(distortion, monitored: monitored)
            shape = integrate(x) { phi in
                var density = (1 + 0.03 * sin(phi + 0.4)) * Self.sectorResponse(phi, sectors)
                if let distortion, distortion.anomaly == .deadRegion, distortion.deadPhi.contains(phi) { density *= 1 - 0.98 * etaLost }
                return density
            }
        case .timing(let sigma):
            let mean = timingJitter + sigma * (distortion?.timingShift ?? 0)
            let floor = 0.01 + 0.0004 * pileupOffset
            shape = mix(integrate(x) { t in exp(-pow(t - mean, 2) / (2 * sigma * sigma)) }, integrate(x) { _ in 1 }, fraction: max(0.002, floor) + noise)
        case .spectrum(let threshold, let slope):
            let scale = gain * (distortion?.gain ?? 1)
            let effectiveSlope = slope * (1 + 0.002 * pileupOffset)
            let main = integrate(x) { energy in
                let e = energy / scale
                let turnOn = 1 / (1 + exp(-(e - threshold) / (0.15 * threshold + 0.05)))
                return turnOn * (exp(-e / effectiveSlope) + 0.02 * pow(1 + e / effectiveSlope, -4)) / scale
            }
            let range = (x.last ?? 1) - (x.first ?? 0)
            shape = mix(main, integrate(x) { energy in exp(-energy / (range / 25)) }, fraction: noise)
        case .multiplicity(let base, let perPileup):
            let mean = (base + perPileup * pileup) * (1 + 2 * noise)
            let k = 8.0
            shape = integrate(x) { n in n <= 0 ? 0 : exp((k - 1) * log(n) - n * k / mean) }
        case .quality(let probabilities):
            var jittered = probabilities.map { $0 * (1 + 0.02 * generator.nextNormal()) }
            if noise > 0 {
                let moved = jittered[0] * noise
                jittered[0] -= moved
                let rest = jittered.dropFirst().reduce(0, +)
                for code in 1..<jittered.count { jittered[code] += moved * jittered[code] / max(rest, 1e-12) }
            }
            shape = jittered.map { max(0, $0) }
        case .fitQuality:
            let scale = 0.2 * (1 + 0.002 * pileupOffset)
            shape = mix(integrate(x) { c in c <= 0 ? 0 : exp(4 * log(c) - c / scale) }, integrate(x) { c in exp(-c / 3) }, fraction: 0.01 + noise)
        case .occupancy(let acceptance, let inner, let sectors, let pattern):
            let yBinning = monitored.y ?? Binning(count: 1, lower: 0, upper: 1)
            let y = yBinning.edges
            let ny = y.count - 1
            var cells = [Double](repeating: 0, count: (x.count - 1) * ny)
            for ix in 0..<(x.count - 1) {
                let eta = (x[ix] + x[ix + 1]) / 2
                let etaDensity = Self.acceptance(eta, acceptance, inner) * (1 + (0.05 + 0.001 * pileupOffset) * eta * eta)
                for iy in 0..<ny {
                    let phi = (y[iy] + y[iy + 1]) / 2
                    var density = etaDensity * Self.sectorResponse(phi, sectors) * pattern[ix * ny + iy]
                    if let distortion, distortion.anomaly == .deadRegion, distortion.deadEta.contains(eta), distortion.deadPhi.contains(phi) { density *= 0.02 }
                    cells[ix * ny + iy] = density * (x[ix + 1] - x[ix]) * (y[iy + 1] - y[iy])
                }
            }
            shape = mix(normalize(cells), pattern.map { $0 > 0 ? $0 : 0 }, fraction: noise)
            if let distortion, distortion.anomaly == .hotRegion,
               let ix = monitored.x.bin(of: distortion.hotEta), let iy = yBinning.bin(of: distortion.hotPhi) {
                shape[ix * ny + iy] += distortion.hotFraction
            }
            return normalize(shape)
        }
        shape = normalize(shape)
        if let distortion, distortion.anomaly == .hotRegion {
            let coordinate: Double?
            switch monitored.shape {
            case .eta: coordinate = distortion.hotEta
            case .phi: coordinate = distortion.hotPhi
            default: coordinate = nil
            }
            if let coordinate, let index = monitored.x.bin(of: coordinate) {
                shape[index] += distortion.hotFraction
                shape = normalize(shape)
            }
        }
        return shape
    }

    /// The φ fraction a dead region removes from an η bin it covers.
    private func deadPhiFraction(_ distortion: Distortion?) -> Double {
        guard let distortion, distortion.anomaly == .deadRegion else { return 0 }
        return (distortion.deadPhi.upperBound - distortion.deadPhi.lowerBound) / (2 * Double.pi)
    }

    /// The share of a φ bin's entries a dead η range removes, from the subsystem's η acceptance.
    private func deadEtaFraction(_ distortion: Distortion?, monitored: Monitored) -> Double {
        guard let distortion, distortion.anomaly == .deadRegion else { return 0 }
        let acceptance = histograms.first { $0.path.subsystem == monitored.path.subsystem && $0.y != nil }.flatMap { other -> (Double, Double)? in
            if case .occupancy(let acceptance, let inner, _, _) = other.shape { return (acceptance, inner) }
            return nil
        } ?? (2.5, 0)
        let covered = 2 * (acceptance.0 - acceptance.1)
        return min(1, (distortion.deadEta.upperBound - distortion.deadEta.lowerBound) / max(covered, 1e-9))
    }

    private static func acceptance(_ eta: Double, _ outer: Double, _ inner: Double) -> Double {
        let edge = 0.04
        var value = 1 / (1 + exp((abs(eta) - outer) / edge))
        if inner > 0 { value *= 1 / (1 + exp((inner - abs(eta)) / edge)) }
        return value
    }

    /// Response dips at the boundaries between `sectors` equal φ sectors.
    private static func sectorResponse(_ phi: Double, _ sectors: Int) -> Double {
        let width = 2 * Double.pi / Double(sectors)
        let offset = (phi + Double.pi).truncatingRemainder(dividingBy: width)
        let distance = min(offset, width - offset)
        let dipWidth = 0.06 * width
        return 1 - 0.35 * exp(-distance * distance / (2 * dipWidth * dipWidth))
    }

    /// Bin integrals of `density` by three-point sampling per bin.
    private func integrate(_ edges: [Double], _ density: (Double) -> Double) -> [Double] {
        (0..<(edges.count - 1)).map { bin in
            let low = edges[bin], width = edges[bin + 1] - edges[bin]
            let samples = (0..<3).reduce(0.0) { $0 + max(0, density(low + width * (Double($1) + 0.5) / 3)) }
            return samples * width / 3
        }
    }

    private func mix(_ main: [Double], _ extra: [Double], fraction: Double) -> [Double] {
        let a = normalize(main), b = normalize(extra)
        return zip(a, b).map { (1 - fraction) * $0 + fraction * $1 }
    }

    private func normalize(_ values: [Double]) -> [Double] {
        let sum = values.reduce(0, +)
        return sum > 0 ? values.map { $0 / sum } : values
    }
}
