import Testing
@testable import HEPMLDQM

@Suite struct RunLevelTests {
    // Runs 101–104 good, 201–202 bad; two histograms with good-run scores 4,3,2,1 and 1,2,3,4,
    // so both ladders are 4.5, 3.5, 2.5, 1.5 (first: s1 + (s1 − s2)/2, then midpoints).
    private func assessment() throws -> RunLevelAssessment {
        try RunLevelAssessment(
            runs: [101, 102, 103, 104, 201, 202],
            labels: [.good, .good, .good, .good, .bad, .bad],
            histogramNames: ["A", "B"],
            scores: [[4, 3, 2, 1, 10, 2], [1, 2, 3, 4, 0, 5]])
    }

    @Test func ladderAndFlags() throws {
        let run = try assessment()
        #expect(run.thresholds == [[4.5, 3.5, 2.5, 1.5], [4.5, 3.5, 2.5, 1.5]])
        #expect(run.workingPointCount == 4)
        #expect(run.flagCounts(atWorkingPoint: 0) == [0, 0, 0, 0, 1, 1])
        #expect(run.flagCounts(atWorkingPoint: 1) == [1, 0, 0, 1, 1, 1])
        #expect(run.flagCounts(atWorkingPoint: 3) == [1, 2, 2, 1, 1, 2])
    }

    @Test func rocCurvesAndTables() throws {
        let run = try assessment()
        let hf = run.histogramFlagROC()
        #expect(hf[0] == .init(good: 0, bad: 1))
        #expect(hf[1] == .init(good: 0.5, bad: 1))
        #expect(hf[3] == .init(good: 1.5, bad: 1.5))
        #expect(run.runFlagROC(minimumFlags: 2)[3] == .init(good: 0.5, bad: 0.5))
        #expect(run.runLevelAUC(minimumFlags: 1) == 1)
        #expect(run.mostFlaggedRuns(atWorkingPoint: 3).map(\.run) == [102, 103, 202, 101, 104, 201])
        #expect(run.mostFlaggedRuns(atWorkingPoint: 0, limit: 2).map(\.flaggedHistograms) == [[0], [1]])
        #expect(run.flagFrequency(atWorkingPoint: 3) == [.init(histogram: "A", allRuns: 5, badRuns: 2), .init(histogram: "B", allRuns: 4, badRuns: 1)])
        #expect(run.workingPoint(meanGoodFlagsExceeding: 0.4) == 1)
        #expect(run.workingPoint(goodRunFractionWith: 2, exceeding: 0.1) == 3)
    }

    @Test func needsTwoGoodRuns() {
        #expect(throws: DQMError.self) {
            try RunLevelAssessment(runs: [1, 2], labels: [.good, .bad], histogramNames: ["A"], scores: [[1, 2]])
        }
    }
}
