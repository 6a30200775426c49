import HEPMLMetrics

/// Run-level evaluation of an algorithm over many histograms (AutoDQM_ML's HF-ROC and RF-ROC).
///
/// Each histogram gets a ladder of thresholds from the good runs' scores, so that at working
/// point k about k good runs are flagged in every histogram; a run's flag count is the number of
/// its histograms at or above their threshold. Pass held-out good runs (not the runs a model was
/// trained on), bad runs and, if wanted, unknown runs: unknown runs appear in the flag tables
/// but in neither ROC class.
public struct RunLevelAssessment: Sendable {
    public var runs: [Int]
    public var labels: [RunLabel]
    public var histogramNames: [String]
    /// Per histogram, the descending threshold ladder (empty when fewer than two good runs have
    /// a finite score: such a histogram never flags).
    public private(set) var thresholds: [[Double]]
    /// Number of working points: the longest ladder.
    public let workingPointCount: Int
    /// Per histogram and run, the first working point at which it is flagged (`Int.max` never).
    private var firstFlaggedAt: [[Int]]

    /// - Parameter scores: per histogram, per run (NaN where a run lacks the histogram).
    public init(runs: [Int], labels: [RunLabel], histogramNames: [String], scores: [[Double]]) throws {
        guard labels.count == runs.count, scores.count == histogramNames.count, scores.allSatisfy({ $0.count == runs.count }) else {
            throw DQMError.invalidConfiguration("run-level assessment needs one score per run and histogram")
        }
        self.runs = runs
        self.labels = labels
        self.histogramNames = histogramNames
        let goodRuns = runs.indices.filter { labels[$0] == .good }
        thresholds = scores.map { histogramScores in
            let good = goodRuns.map { histogramScores[$0] }.filter(\.isFinite).sorted(by: >)
            guard good.count >= 2 else { return [] }
            return [good[0] + 0.5 * (good[0] - good[1])] + (0..<(good.count - 1)).map { (good[$0] + good[$0 + 1]) / 2 }
        }
        workingPointCount = thresholds.map(\.count).max() ?? 0
        firstFlaggedAt = zip(scores, thresholds).map { histogramScores, ladder in
            histogramScores.map { score in Self.firstWorkingPoint(score: score, ladder: ladder) }
        }
        guard workingPointCount > 0 else {
            throw DQMError.insufficientData("run-level assessment needs at least two good runs with scores")
        }
    }

    /// The first index k with `score ≥ ladder[k]` (the ladder descends); a ladder shorter than
    /// the others keeps its last threshold for the remaining working points.
    private static func firstWorkingPoint(score: Double, ladder: [Double]) -> Int {
        guard score.isFinite, let last = ladder.last, score >= last else { return .max }
        var low = 0, high = ladder.count - 1
        while low < high {
            let middle = (low + high) / 2
            if score >= ladder[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Flagged histograms per run at working point `k` (the upstream `score ≥ threshold` rule).
    public func flagCounts(atWorkingPoint k: Int) -> [Int] {
        runs.indices.map { run in firstFlaggedAt.reduce(0) { $0 + ($1[run] <= k ? 1 : 0) } }
    }

    /// One point per working point, ordered from the strictest threshold to the loosest.
    public struct Point: Sendable, Equatable {
        public var good: Double
        public var bad: Double
    }

    /// HF-ROC: mean number of flagged histograms per good run (x) and per bad run (y).
    public func histogramFlagROC() -> [Point] {
        (0..<workingPointCount).map { k in
            let counts = flagCounts(atWorkingPoint: k)
            return Point(good: mean(counts, .good), bad: mean(counts, .bad))
        }
    }

    /// RF-ROC(N): fraction of good runs (x) and of bad runs (y) with at least `minimumFlags` flags.
    public func runFlagROC(minimumFlags: Int) -> [Point] {
        (0..<workingPointCount).map { k in
            let flagged = flagCounts(atWorkingPoint: k).map { $0 >= minimumFlags ? 1 : 0 }
            return Point(good: mean(flagged, .good), bad: mean(flagged, .bad))
        }
    }

    /// Area under RF-ROC(N) closed at (0, 0) and (1, 1): the probability-like run-level AUC
    /// reported in the terminal summary. With N = 1 it equals the ROC AUC of each run's most
    /// extreme good-run rank over its histograms.
    public func runLevelAUC(minimumFlags: Int = 1) -> Double {
        let points = runFlagROC(minimumFlags: minimumFlags)
        let x = [0] + points.map(\.good) + [1]
        let y = [0] + points.map(\.bad) + [1]
        return ROCCurve.area(falsePositiveRates: x, truePositiveRates: y)
    }

    /// AutoDQM_ML's default RF-ROC curves.
    public static let runFlagMinimums = [1, 3, 5]

    /// The first working point at which more than `fraction` of the good runs have at least
    /// `minimumFlags` flags (upstream studies: N = 3, 10 %).
    public func workingPoint(goodRunFractionWith minimumFlags: Int, exceeding fraction: Double) -> Int? {
        runFlagROC(minimumFlags: minimumFlags).firstIndex { $0.good > fraction }
    }

    /// The first working point at which good runs average more than `flags` flags (upstream: 1.5).
    public func workingPoint(meanGoodFlagsExceeding flags: Double) -> Int? {
        histogramFlagROC().firstIndex { $0.good > flags }
    }

    public struct FlaggedRun: Sendable, Equatable {
        public var run: Int
        public var label: RunLabel
        public var flags: Int
        /// Indices into `histogramNames`.
        public var flaggedHistograms: [Int]
    }

    /// Runs by decreasing flag count at working point `k` (ties by run number), up to `limit`.
    public func mostFlaggedRuns(atWorkingPoint k: Int, limit: Int = 20) -> [FlaggedRun] {
        let counts = flagCounts(atWorkingPoint: k)
        return runs.indices
            .sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : runs[$0] < runs[$1] }
            .prefix(max(0, limit))
            .map { run in
                FlaggedRun(run: runs[run], label: labels[run], flags: counts[run],
                           flaggedHistograms: firstFlaggedAt.indices.filter { firstFlaggedAt[$0][run] <= k })
            }
    }

    public struct FlagFrequency: Sendable, Equatable {
        public var histogram: String
        /// Runs (of any label) in which the histogram is flagged.
        public var allRuns: Int
        public var badRuns: Int
    }

    /// How often each histogram is flagged at working point `k`, most often first.
    public func flagFrequency(atWorkingPoint k: Int) -> [FlagFrequency] {
        histogramNames.indices.map { h in
            let flagged = runs.indices.filter { firstFlaggedAt[h][$0] <= k }
            return FlagFrequency(histogram: histogramNames[h], allRuns: flagged.count, badRuns: flagged.filter { labels[$0] == .bad }.count)
        }
        .sorted { $0.allRuns != $1.allRuns ? $0.allRuns > $1.allRuns : $0.histogram < $1.histogram }
    }

    private func mean(_ values: [Int], _ label: RunLabel) -> Double {
        let selected = runs.indices.filter { labels[$0] == label }
        guard !selected.isEmpty else { return 0 }
        return Double(selected.reduce(0) { $0 + values[$1] }) / Double(selected.count)
    }
}
