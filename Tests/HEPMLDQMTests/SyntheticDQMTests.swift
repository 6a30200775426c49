import Testing
@testable import HEPMLDQM

private enum Algorithm { case pca, cumulativeKS }

/// The PCA (or KS) path of `hepml dqm train` + `assess` on in-memory generated data: low-statistics cut,
/// normalization, seeded split of good runs, one PCA per histogram fitted on training runs, and a
/// run-level assessment on held-out good runs and bad runs.
private func runLevelAssessment(_ dataset: SyntheticDQMDataset, algorithm: Algorithm) throws -> RunLevelAssessment {
    let histogramCount = dataset.contents.histograms.count
    let perHistogram: [[[Double]?]] = (0..<histogramCount).map { h in dataset.runs.map { $0.histograms[h].histogram.contents } }
    let keep = DQMPreprocessing.passesLowStatistics(perHistogram, threshold: DQMPreprocessing.defaultLowStatisticsThreshold)
    let runs = dataset.runs.indices.filter { keep[$0] }
    let roles = SplitRole.split(labels: runs.map { dataset.runs[$0].label }, seed: 5)
    var scores: [[Double]] = []
    for h in 0..<histogramCount {
        let normalized = runs.map { DQMPreprocessing.normalized(dataset.runs[$0].histograms[h].histogram.contents) }
        let training = normalized.indices.filter { roles[$0] == .train }.map { normalized[$0] }
        switch algorithm {
        case .pca:
            let model = try PCAModel.fit(samples: training, name: "pca_\(h)")
            scores.append(try normalized.map { try model.score($0).score })
        case .cumulativeKS:
            // Reference: the first training run, as `--reference RUN` would pick it.
            let reference = try #require(training.first)
            scores.append(try normalized.map { try KolmogorovSmirnov.cumulativeStatistic($0, reference) })
        }
    }
    let evaluated = runs.indices.filter { roles[$0] == .heldOut || dataset.runs[runs[$0]].label == .bad }
    return try RunLevelAssessment(
        runs: evaluated.map { dataset.runs[runs[$0]].run },
        labels: evaluated.map { dataset.runs[runs[$0]].label },
        histogramNames: dataset.contents.histograms.map(\.columnName),
        scores: scores.map { perRun in evaluated.map { perRun[$0] } })
}

@Suite struct SyntheticDQMTests {
    @Test func datasetIsSeededAndConsistent() throws {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = 30
        let first = try SyntheticDQMDataset.generate(configuration)
        let again = try SyntheticDQMDataset.generate(configuration)
        #expect(first.runs.map(\.run) == again.runs.map(\.run))
        #expect(first.runs.flatMap { $0.histograms.map(\.histogram) } == again.runs.flatMap { $0.histograms.map(\.histogram) })
        #expect((20...40).contains(first.contents.histograms.count))
        #expect(first.contents.histograms.contains { path in first.runs[0].histograms.first { $0.path == path }?.histogram.isTwoDimensional == true })
        let year = try #require(first.datasets.years["2022"])
        #expect(year.runs == first.runs.map(\.run))
        #expect(Set(year.badRuns ?? []) == Set(first.runs.filter { $0.label == .bad }.map(\.run)))
        #expect(first.runs.filter { $0.label == .bad }.allSatisfy { $0.anomaly != nil })
        #expect(first.runs.filter { $0.label == .good }.allSatisfy { $0.anomaly == nil })
        // The written names parse back to the run, dataset and era, and labels follow the JSON.
        for run in first.runs {
            let name = try #require(DQMFileName(run.fileName))
            #expect(name.run == run.run && name.primaryDataset == "ZeroBias" && name.era == "C")
            #expect(run.histograms.map(\.path) == first.contents.histograms)
        }
        let selected = try DQMFileSelection.select(files: first.runs.map { "/x/" + $0.fileName }, primaryDataset: "ZeroBias", year: "2022", settings: year)
        #expect(selected.files.map(\.label) == first.runs.map(\.label))
        configuration.seed += 1
        #expect(try SyntheticDQMDataset.generate(configuration).runs[0].histograms[0].histogram != first.runs[0].histograms[0].histogram)
    }

    @Test func everyAnomalyKindChangesItsHistograms() throws {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = 120
        configuration.badFraction = 0.5
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let planted = Set(dataset.runs.compactMap(\.anomaly))
        #expect(planted == Set(SyntheticAnomaly.allCases))
        let luminosities = dataset.runs.map(\.luminosity)
        #expect((luminosities.max() ?? 0) / (luminosities.min() ?? 1) > 2)
    }

    @Test func pcaSeparatesBadRunsAtRunLevel() throws {
        var configuration = SyntheticDQMConfiguration()
        configuration.runCount = 100
        let dataset = try SyntheticDQMDataset.generate(configuration)
        let assessment = try runLevelAssessment(dataset, algorithm: .pca)
        let auc = assessment.runLevelAUC(minimumFlags: 1)
        #expect(auc >= 0.95, "run-level AUC \(auc)")
        let hf = assessment.histogramFlagROC()
        // Bad runs carry more flags than good runs at every working point (the upstream 4–6× claim).
        #expect(hf.prefix(assessment.workingPointCount / 2).allSatisfy { $0.bad > $0.good })
        let ks = try runLevelAssessment(dataset, algorithm: .cumulativeKS).runLevelAUC(minimumFlags: 1)
        #expect(ks > 0.7, "KS run-level AUC \(ks)")
    }
}
