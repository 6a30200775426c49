import Foundation
import HEPMLColumnar
import HEPMLTestSupport
import Testing
@testable import HEPMLDQM

/// The autoencoder against PCA on a DQM data set HEPML did not make: ROOT files written by
/// uproot from `scripts/dqm-independent-dataset.py` (its own shapes, binnings and six anomaly
/// kinds), then fetch → train → assess through the library (issue 18).
@Suite struct IndependentDatasetTests {
    @Test(.requiresPython) func defaultAutoencoderIsAsGoodAsPCAAndNeverInvertsAnAnomaly() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory("dqm-independent")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/dqm-independent-dataset.py").path
        let generated = try TestEnvironment.run(python, [script, "--output-dir", data, "--runs", "150", "--bad-runs", "32", "--seed", "3"])
        try #require(generated.status == 0, "\(generated.output)")

        func json(_ name: String) throws -> (Data, String) {
            let path = (data as NSString).appendingPathComponent(name)
            return (try Data(contentsOf: URL(fileURLWithPath: path)), path)
        }
        let (contentsData, contentsPath) = try json("contents.json")
        let (datasetsData, datasetsPath) = try json("datasets.json")
        let (truthData, truthPath) = try json("truth.json")
        let outcome = try #require(try DQMFetch.fetch(contents: try DQMContents(json: contentsData, file: contentsPath),
                                                      datasets: try DQMDatasets(json: datasetsData, file: datasetsPath),
                                                      files: DQMInputDiscovery.rootFiles(in: [data]), quiet: true).first)
        #expect(outcome.runsRead == 150 && outcome.skippedFiles.isEmpty && outcome.incompleteRuns.isEmpty)
        let parquet = directory.appendingPathComponent("JetMET.parquet").path
        try Parquet.write(outcome.table, to: parquet)

        let output = directory.appendingPathComponent("trained").path
        var trained = parquet
        for (algorithm, tag, preset) in [(DQMAlgorithm.pca, "pca", nil), (.autoencoder, "ae", AutoencoderPreset.hepml), (.autoencoder, "ae_upstream", .upstream)] {
            var configuration = DQMTrainingConfiguration(algorithm: algorithm)
            configuration.tag = tag
            configuration.outputDirectory = output
            configuration.seed = 3
            configuration.quiet = true
            if let preset { configuration.autoencoderOptions = preset.options }
            trained = try DQMTraining.run(inputFile: trained, configuration: configuration) { _ in }.outputPath
        }
        let table = try Parquet.read(path: trained)
        var assessment = DQMAssessmentConfiguration()
        assessment.resamples = 20
        let (_, summaries) = try DQMAssessment.assess(table: table, configuration: assessment, source: "independent")
        func summary(_ tag: String) throws -> DQMAlgorithmSummary { try #require(summaries.first { $0.tag == tag }) }
        let pcaAUC = try #require(try summary("pca").runLevelAUC[1])
        let aeAUC = try #require(try summary("ae").runLevelAUC[1])
        #expect(aeAUC >= pcaAUC - 0.01, "run-level AUC: autoencoder \(aeAUC), PCA \(pcaAUC)")

        let detection = try DQMAssessment.detectionByAnomaly(table: table, truth: try DQMRunTruth.list(json: truthData, file: truthPath))
        #expect(detection.map(\.anomaly) == ["dead_map_region", "dead_phi_sector", "flat_noise", "gain_change", "hot_eta_bin", "timing_shift"])
        for kind in detection {
            let damaged = try #require(kind.histogramAUC["ae"], "\(kind.anomaly) names no damaged histogram")
            #expect(damaged >= 0.5, "\(kind.anomaly): the autoencoder scores \(kind.histogram ?? "") lower for damaged runs (AUC \(damaged))")
        }
        // Upstream's options stop after a few one-step epochs with a blurred mean shape, which
        // flat noise resembles more than a good run does: the inversion the test guards against,
        // and which assess flags.
        let noise = try #require(detection.first { $0.anomaly == "flat_noise" })
        #expect(try #require(noise.histogramAUC["ae_upstream"]) < 0.5)
        let inverted = try summary("ae_upstream").histograms.filter(\.badRunsScoreLower).map(\.histogram)
        #expect(inverted.contains { $0.hasSuffix("muEta") }, "flagged: \(inverted)")
    }
}
