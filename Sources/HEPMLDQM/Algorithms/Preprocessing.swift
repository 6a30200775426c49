import HEPMLCore

/// The preprocessing AutoDQM_ML applies before any algorithm sees a histogram.
public enum DQMPreprocessing {
    /// AutoDQM_ML v1's `--low_stat_threshold` default: runs with fewer entries are too noisy to
    /// train on or judge.
    public static let defaultLowStatisticsThreshold = 10_000.0

    /// Contents divided by their sum, so runs of different luminosity compare by shape. An empty
    /// (or net-zero) histogram stays all zeros instead of becoming NaN.
    public static func normalized(_ contents: [Double]) -> [Double] {
        let scale = normalizingScale(contents)
        return scale == 0 ? [Double](repeating: 0, count: contents.count) : contents.map { $0 * scale }
    }

    /// The factor `normalized` multiplies by: 1/sum, or 0 for an empty or net-zero histogram.
    static func normalizingScale<C: Collection>(_ contents: C) -> Double where C.Element == Double {
        let sum = contents.reduce(0, +)
        guard sum != 0, sum.isFinite else { return 0 }
        return 1 / sum
    }

    /// Which runs pass the low-statistics cut: a run is kept only if every histogram has at
    /// least `threshold` entries. A histogram whose every present run already sums to 1 (stored
    /// normalized) is not cut on; a run missing a histogram fails the cut, because it cannot be
    /// scored for that histogram anyway.
    ///
    /// - Parameter histograms: per histogram, per run the contents (nil when missing).
    public static func passesLowStatistics(_ histograms: [[[Double]?]], threshold: Double) -> [Bool] {
        let runCount = histograms.first?.count ?? 0
        var keep = [Bool](repeating: true, count: runCount)
        for runs in histograms {
            let entries = runs.map { $0.map { $0.reduce(0, +) } }
            let alreadyNormalized = entries.allSatisfy { $0.map { abs($0 - 1) <= 1e-6 } ?? true }
            for run in 0..<min(runCount, entries.count) {
                guard let count = entries[run] else {
                    keep[run] = false
                    continue
                }
                if !alreadyNormalized && !(count >= threshold) { keep[run] = false }
            }
        }
        return keep
    }
}

/// A run's role in training, stored as the `train_label` column (v1's encoding).
public enum SplitRole: Int, Sendable, Codable {
    /// A good run the model is fitted on.
    case train = 0
    /// A held-out good run: early stopping and unbiased good-run scores.
    case heldOut = 1
    /// Bad or unlabelled runs: never trained or validated on, only scored.
    case excluded = -1
    /// Runs below the low-statistics cut: kept in the table, never trained on, scored or assessed.
    case belowThreshold = -2

    /// Whether assessment counts the run: held-out good, bad and unlabelled runs.
    public var isEvaluated: Bool { self == .heldOut || self == .excluded }

    /// A seeded split of the good runs: `trainFraction` of them (at least one, and at least one
    /// held out when there are two or more) go to training. Bad and unknown runs are excluded,
    /// so neither label leaks into fitting nor into early stopping.
    public static func split(labels: [RunLabel], trainFraction: Double = 0.5, seed: UInt64) -> [SplitRole] {
        var roles = [SplitRole](repeating: .excluded, count: labels.count)
        let good = labels.indices.filter { labels[$0] == .good }
        guard !good.isEmpty else { return roles }
        var generator = SeededGenerator(seed: seed, stream: 1)
        let order = generator.permutation(good.count)
        var trainCount = Int((Double(good.count) * min(max(trainFraction, 0), 1)).rounded())
        trainCount = good.count == 1 ? 1 : min(max(trainCount, 1), good.count - 1)
        for (position, index) in order.enumerated() {
            roles[good[index]] = position < trainCount ? .train : .heldOut
        }
        return roles
    }
}

/// A grouping of consecutive bins into wider bins so that every group is populated enough for
/// its reconstruction error to mean something (AutoDQM_ML's minimum-occupancy rebinning, with
/// the merge it intended rather than the one its code performs).
public struct RebinMap: Codable, Sendable, Equatable {
    /// Number of (flattened) input bins.
    public var inputBinCount: Int
    /// First input bin of each output bin, ascending, starting at 0.
    public var groupStarts: [Int]

    public var outputBinCount: Int { groupStarts.count }

    enum CodingKeys: String, CodingKey {
        case inputBinCount = "input_bin_count"
        case groupStarts = "group_starts"
    }

    /// Greedy left-to-right merge: bins are accumulated into a group until its mean normalized
    /// occupancy reaches `minimumOccupancy` (upstream: 0.0033), so a low bin joins the bins after
    /// it. A trailing group that never reaches the minimum joins the group before it.
    ///
    /// - Parameter meanOccupancy: per (flattened) bin, the mean over runs of the normalized
    ///   contents. Derive it from the training runs and store the map with the model, so scores
    ///   do not depend on which other runs happen to be in the file.
    public static func minimumOccupancy(meanOccupancy: [Double], minimumOccupancy: Double) -> RebinMap {
        var starts: [Int] = []
        var groupStart = 0
        var accumulated = 0.0
        for (bin, occupancy) in meanOccupancy.enumerated() {
            accumulated += occupancy.isFinite ? occupancy : 0
            if accumulated >= minimumOccupancy {
                starts.append(groupStart)
                groupStart = bin + 1
                accumulated = 0
            }
        }
        // Bins after the last complete group (if any) simply extend it.
        return RebinMap(inputBinCount: meanOccupancy.count, groupStarts: starts.isEmpty && !meanOccupancy.isEmpty ? [0] : starts)
    }

    /// The mean over runs of each bin's normalized content, the input of `minimumOccupancy`.
    public static func meanOccupancy(normalizedRuns: [[Double]]) -> [Double] {
        guard let binCount = normalizedRuns.first?.count else { return [] }
        var sums = [Double](repeating: 0, count: binCount)
        for run in normalizedRuns where run.count == binCount {
            for bin in 0..<binCount where run[bin].isFinite { sums[bin] += run[bin] }
        }
        return sums.map { $0 / Double(normalizedRuns.count) }
    }

    /// Sums each group of `contents`; throws when the length differs from the map's input.
    public func apply(_ contents: [Double]) throws -> [Double] {
        guard contents.count == inputBinCount else {
            throw DQMError.invalidHistogram("rebinning expects \(inputBinCount) bins, got \(contents.count)")
        }
        var output = [Double](repeating: 0, count: groupStarts.count)
        for group in groupStarts.indices {
            let end = group + 1 < groupStarts.count ? groupStarts[group + 1] : inputBinCount
            for bin in groupStarts[group]..<end { output[group] += contents[bin] }
        }
        return output
    }
}
